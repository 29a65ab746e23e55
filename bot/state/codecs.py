"""The JSON kept in the state file, with a version, read through pydantic (pure).

Every record written carries ``"v"``. A record of an older shape is upgraded when read; one
that no longer parses raises :class:`UnreadableRecord`, which the store turns into "set aside
and logged once", never into an error every cycle. To change a shape: bump its version, keep
reading the old one (an ``_upgrade_*`` step), and add a test with a record of the old shape.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from bot.models import Paper, PaperRef, ReplyMode, Request, RequestKind, Status

REQUEST_VERSION: Literal[3] = 3
PAPER_VERSION: Literal[1] = 1


class UnreadableRecord(ValueError):
    """A stored record that no longer parses; the message says why, in one line."""


class _Request(BaseModel):
    """A queued request. v1 (no ``"v"``) is v2 without the version; v2 kept the text of a
    message request in ``message``, v3 keeps only its kind (and ``stopped`` for a
    confirmation), the text being written when it is posted."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[3] = REQUEST_VERSION
    status: Status
    refs: tuple[tuple[str, int | None], ...] = ()
    kind: RequestKind = "hashtag"
    mode: ReplyMode = "summary"
    message: str | None = None
    subject_author_id: str | None = None
    stopped: bool = False


class _Paper(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1] = PAPER_VERSION
    paper: Paper


class _Pause(BaseModel):
    """When a service may be asked again (wall clock), and after how many failures."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1] = 1
    failures: int
    until: datetime
    held: bool = False
    """The server said until when (a 429's reset), rather than the backoff choosing it."""


class _Resume(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1] = 1
    at: datetime


_REQUEST = TypeAdapter(_Request)
_PAPER = TypeAdapter(_Paper)
_OBJECT = TypeAdapter(dict[str, Any])
M = TypeVar("M", bound=BaseModel)


def request_to_json(item: Request) -> str:
    """What is stored of a queued request: everything but its first-seen time and the replies
    already posted, which have columns and tables of their own."""
    record = _Request(
        status=item.status,
        refs=tuple((r.arxiv_id, r.version) for r in item.refs),
        kind=item.kind,
        mode=item.mode,
        message=item.message,
        subject_author_id=item.subject_author_id,
        stopped=item.stopped,
    )
    return record.model_dump_json()


def request_from_json(text: str, first_seen: datetime, posted: tuple[str, ...]) -> Request:
    record = _parse(_REQUEST, text, _upgrade_request)
    return Request(
        status=record.status,
        refs=tuple(PaperRef(arxiv_id, version) for arxiv_id, version in record.refs),
        first_seen=first_seen,
        posted_reply_ids=posted,
        kind=record.kind,
        mode=record.mode,
        message=record.message,
        subject_author_id=record.subject_author_id,
        stopped=record.stopped,
    )


def paper_to_json(paper: Paper) -> str:
    return _Paper(paper=paper).model_dump_json()


def paper_from_json(text: str) -> Paper:
    return _parse(_PAPER, text, _upgrade_paper).paper


def pause_to_json(failures: int, until: datetime, held: bool = False) -> str:
    return _Pause(failures=failures, until=until, held=held).model_dump_json()


def pause_from_json(text: str) -> tuple[int, datetime, bool]:
    record = _parse(TypeAdapter(_Pause), text, _as_is)
    return record.failures, record.until, record.held


def resume_to_json(at: datetime) -> str:
    return _Resume(at=at).model_dump_json()


def resume_from_json(text: str) -> datetime:
    return _parse(TypeAdapter(_Resume), text, _as_is).at


def _as_is(data: dict[str, Any]) -> dict[str, Any]:
    return data


def _upgrade_request(data: dict[str, Any]) -> dict[str, Any]:
    if "v" not in data:  # v1: the same fields, written before records had a version
        data = {**data, "v": 2}
    if data.get("v") == 2:  # v2: a message request's text kept in ``message``, still used
        data = {**data, "v": 3}
    return data


def _upgrade_paper(data: dict[str, Any]) -> dict[str, Any]:
    if "v" not in data:  # v0: the paper's fields at the top level
        return {"v": 1, "paper": data}
    return data


def _parse(
    adapter: TypeAdapter[M], text: str, upgrade: Callable[[dict[str, Any]], dict[str, Any]]
) -> M:
    try:
        data = _OBJECT.validate_json(text)
        return adapter.validate_python(upgrade(data))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        raise UnreadableRecord(f"{where}: {first['msg']}") from None
