"""The Mastodon API's JSON as the project's own values: statuses, accounts, pages and the
instance information. Shared by the REST adapter and the stream adapters, so a polled status
and a streamed one are read by the same code.

Servers send what they send: every reader here treats a field as possibly missing or of the
wrong type, and a status that cannot be read at all becomes None (logged once, here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog

from bot.limits.server_kinds import Server, identify
from bot.models import VISIBILITIES, Account, Page, ServerLimits, Status, Visibility

log = structlog.get_logger()


def get(data: Any, key: str) -> Any:
    """``data[key]`` when ``data`` is a JSON object, else None."""
    if isinstance(data, Mapping):
        return data.get(key)
    return None


def items(page: Any) -> list[Any]:
    """A page's items; anything but a list is an empty page."""
    return page if isinstance(page, list) else []


def newest_id(page_items: list[Any]) -> str | None:
    """The first item's id: pages come newest first. Read raw, so an unusable item still
    moves the cursor past it."""
    for item in page_items:
        item_id = get(item, "id")
        if item_id is not None:
            return str(item_id)
    return None


def status_page(page: Any) -> Page:
    """A timeline page: the statuses that could be read, the raw cursor and size."""
    found = items(page)
    statuses = (status_or_none(item) for item in found)
    return Page(tuple(s for s in statuses if s is not None), newest_id(found), len(found))


def mention_of(notification: Any) -> Status | None:
    """The status of a mention notification; None for any other notification (Sharkey
    ignores ``types[]`` and snac2 types every post a mention: only a ``mention`` with a
    status is one)."""
    data = get(notification, "status")
    if get(notification, "type") != "mention" or not data:
        return None
    return status_or_none(data)


def mention_page(page: Any) -> Page:
    """A notifications page: the mentions' statuses; the cursor is the newest notification's."""
    found = items(page)
    statuses = (mention_of(item) for item in found)
    return Page(tuple(s for s in statuses if s is not None), newest_id(found), len(found))


def account(data: Any) -> Account:
    fields: list[str] = []
    for field in get(data, "fields") or []:
        fields.extend(str(get(field, key) or "") for key in ("name", "value"))
    return Account(
        id=str(data["id"]),
        acct=str(data["acct"]),
        bot=bool(get(data, "bot")),
        note=str(get(data, "note") or ""),
        fields=tuple(fields),
    )


def status_or_none(data: Any) -> Status | None:
    """Our Status, or None (logged) when the server sent something unusable."""
    try:
        return _status(data)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("status_malformed", status_id=str(get(data, "id")), error=exc)
        return None


def _status(data: Any) -> Status:
    visibility: Visibility = data["visibility"]
    if visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {visibility!r}")
    reblog = get(data, "reblog")
    card_url = get(get(data, "card"), "url")
    reply_to = get(data, "in_reply_to_id")
    return Status(
        id=str(data["id"]),
        url=get(data, "url"),
        account=account(data["account"]),
        content=str(get(data, "content") or ""),
        visibility=visibility,
        spoiler_text=str(get(data, "spoiler_text") or ""),
        language=get(data, "language"),
        in_reply_to_id=None if reply_to is None else str(reply_to),
        card_url=str(card_url) if card_url else None,
        reblog=_status(reblog) if reblog else None,
        mention_ids=tuple(
            str(get(m, "id")) for m in get(data, "mentions") or [] if get(m, "id") is not None
        ),
        created_at=_time_or_none(get(data, "created_at")),
        tags=tuple(str(get(t, "name")).lower() for t in get(data, "tags") or [] if get(t, "name")),
        uri=str(get(data, "uri")) if get(data, "uri") else None,
    )


def instance(data: Any, nodeinfo_name: str | None) -> tuple[Server, ServerLimits]:
    """The server and its post limits from ``/api/v2/instance`` or ``/api/v1/instance``
    (``max_toot_chars`` too), 500/23 where it says nothing usable."""
    version = str(get(data, "version") or "")
    configuration = get(data, "configuration")
    feeds = get(get(configuration, "timelines_access"), "hashtag_feeds")
    streaming = get(get(configuration, "urls"), "streaming") or get(
        get(data, "urls"), "streaming_api"
    )
    server = replace(
        identify(version, nodeinfo_name),
        streaming_url=str(streaming) if streaming else None,
        hashtag_feeds="disabled"
        if get(feeds, "local") == "disabled" and get(feeds, "remote") == "disabled"
        else "public",
    )
    statuses = get(configuration, "statuses")
    most = _positive(get(statuses, "max_characters")) or _positive(get(data, "max_toot_chars"))
    url = _positive(get(statuses, "characters_reserved_per_url"))
    limits = ServerLimits(
        max_characters=most or 500,
        characters_reserved_per_url=url or 23,
        counting=server.counting,
    )
    return server, limits


def _positive(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _time_or_none(value: Any) -> datetime | None:
    """An ISO time as servers send it (``2026-11-26T10:00:00.000Z``), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
