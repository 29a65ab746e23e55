"""Small frozen values that flow between the pure core and the adapters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Visibility = Literal["public", "unlisted", "private", "direct"]
ReplyMode = Literal["summary", "abstract"]
RequestKind = Literal["hashtag", "mention", "help", "notice", "confirm", "delete"]
"""What a queued request asks for: papers (hashtag, mention), a message, or a deletion."""
VISIBILITIES: tuple[Visibility, ...] = ("direct", "private", "unlisted", "public")
"""From narrowest to widest."""


@dataclass(frozen=True, slots=True)
class PaperRef:
    """An arXiv paper a post points to: the normalised id, plus the version if one was given."""

    arxiv_id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.arxiv_id if self.version is None else f"{self.arxiv_id}v{self.version}"


@dataclass(frozen=True, slots=True)
class Paper:
    """Metadata of one arXiv paper (its latest version), as the arXiv API gave it."""

    arxiv_id: str
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    primary_category: str
    published: datetime
    updated: datetime
    comment: str | None = None

    def abs_url(self, version: int | None = None) -> str:
        suffix = "" if version is None else f"v{version}"
        return f"https://arxiv.org/abs/{self.arxiv_id}{suffix}"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    acct: str
    bot: bool = False
    note: str = ""
    """The bio, as HTML."""
    fields: tuple[str, ...] = ()
    """Profile field names and values, as HTML."""


@dataclass(frozen=True, slots=True)
class Status:
    """What the bot needs to know of a Mastodon status."""

    id: str
    url: str | None
    account: Account
    content: str
    visibility: Visibility
    spoiler_text: str = ""
    language: str | None = None
    in_reply_to_id: str | None = None
    card_url: str | None = None
    reblog: Status | None = None
    mention_ids: tuple[str, ...] = ()
    """Ids of the accounts it mentions (from its ``mentions``, not its HTML)."""
    created_at: datetime | None = None
    """When it was published (on its own server), if the server said."""
    tags: tuple[str, ...] = ()
    """Its hashtags, lower-cased (from its ``tags``, not its HTML)."""
    uri: str | None = None
    """Its ActivityPub id: the same on every server that knows it (the ``id`` is each
    server's own)."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a timeline or of notifications, newest first as servers send them.

    ``cursor`` and ``size`` come from the raw page: an item the bot could not read is skipped
    but still moves the cursor past it and still counts towards a full page.
    """

    statuses: tuple[Status, ...]
    cursor: str | None
    """The newest id of the raw page: where the next page begins. None for an empty page."""
    size: int


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the bot is: known after the token is verified (never, on a dry run without one)."""

    account_id: str | None = None
    username: str = ""


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What the server allows in a post (from its instance information); Mastodon's stock
    values by default. ``counting``: ``mastodon`` (a URL weighs
    ``characters_reserved_per_url``, ``@user@domain`` weighs ``@user``, graphemes) or
    ``strict`` (everything at full length, the largest of graphemes, code points and UTF-16
    units), for every server that is not genuine Mastodon."""

    max_characters: int = 500
    characters_reserved_per_url: int = 23
    counting: Literal["mastodon", "strict"] = "mastodon"


@dataclass(frozen=True, slots=True)
class Post:
    """One post the bot wants to publish."""

    text: str
    visibility: Visibility
    in_reply_to_id: str | None
    idempotency_key: str
    spoiler_text: str = ""
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """A status the bot has decided to answer, queued until its papers and its reply are
    there: the one name for it from the intake to the state file and back.

    ``status`` is what the reply goes under; its author is the person answered. A request of
    kind ``help``, ``notice`` or ``confirm`` is answered with the bot's own words (written in
    ``bot.text.messages`` when it is posted) instead of papers; ``confirm`` carries whether
    the asker stopped (``stopped``). A ``delete`` request removes the bot's reply that
    ``status`` answers (its ``in_reply_to_id``) and posts nothing.
    """

    status: Status
    refs: tuple[PaperRef, ...]
    first_seen: datetime
    posted_reply_ids: tuple[str, ...] = field(default=())
    kind: RequestKind = "hashtag"
    mode: ReplyMode = "summary"
    message: str | None = None
    """Text kept by an older version of the bot for a message request; new ones keep None."""
    subject_author_id: str | None = None
    """The author of the post the papers came from, when that is not the person answered."""
    stopped: bool = False
    """For a ``confirm``: True after ``stop``, False after ``start``."""

    @property
    def key(self) -> str:
        """What the request is kept and posted under: the status's id, except for the notice
        that a mention waiting for its hourly cap gets first (both answer the same status)."""
        return f"{self.status.id}:notice" if self.kind == "notice" else self.status.id


@dataclass
class Decided:
    """What the decisions on one page of statuses ask the state to remember: requests to
    queue (oldest first), statuses decided against with the reason (never decided again), and
    ``stop``/``start`` commands by account (True: stopped)."""

    requests: list[Request] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    stops: dict[str, bool] = field(default_factory=dict)
    uris: dict[str, str] = field(default_factory=dict)
    """The URI of each status decided here that links a paper (status id → URI): a copy of
    it found on another server is then known, and never resolved."""
    found: list[Found] = field(default_factory=list)
    """Posts with a paper found on another server's tag timeline, to be resolved on the
    bot's own server (remote sources only)."""


@dataclass(frozen=True, slots=True)
class Found:
    """A post with a paper seen on another server, known by its URI until the bot's own
    server has resolved it."""

    uri: str
    source: str
    """The remote source it was seen on (``remote:arxiv@sigmoid.social``)."""


@dataclass(frozen=True, slots=True)
class RemoteTag:
    """A hashtag read from another server's public tag timeline (``arxiv@sigmoid.social``)."""

    tag: str
    server: str
    """The server as written (``sigmoid.social``), for logs and keys."""
    base_url: str
    """``https://`` + server, or the URL given."""

    @property
    def key(self) -> str:
        return f"remote:{self.tag}@{self.server}"


@dataclass
class CycleReport:
    """What one cycle did, for its log line, ``run --once``'s exit code and the metrics."""

    seen: int = 0
    queued: int = 0
    skipped: int = 0
    replied: int = 0
    posts: int = 0
    waiting: int = 0
    dropped: int = 0
    arxiv_requests: int = 0
    swept: int = 0
    """Statuses read again by a sweep of recent history."""
    streamed: int = 0
    """Statuses that came over a live stream (also counted in ``seen``)."""
    found_remote: int = 0
    """Posts with a paper found on other servers' tag timelines, to resolve here."""
    resolved: int = 0
    """Posts found elsewhere and resolved on the bot's own server."""
    wake_in: float | None = None
    """Seconds until the first backoff ends (Mastodon's reading or posting, arXiv): the next
    cycle should come then, not at its hour."""
    errors: list[str] = field(default_factory=list)
    dropped_reasons: Counter[str] = field(default_factory=Counter)
    api_errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Failed requests by (service, HTTP status or error kind)."""

    def drop(self, reason: str) -> None:
        self.dropped += 1
        self.dropped_reasons[reason] += 1

    def api_error(self, service: str, exc: BaseException) -> None:
        status = getattr(exc, "status", None)
        self.api_errors[(service, str(status) if status is not None else type(exc).__name__)] += 1


StreamKind = Literal["user", "user:notification", "hashtag", "public"]


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One live stream: the account's own (``user``, or ``user:notification`` for its
    notifications alone: its mentions), one hashtag's, or every public post (``public``,
    where a server has no hashtag stream: only posts under a watched tag are kept)."""

    kind: StreamKind
    tag: str | None = None

    @property
    def name(self) -> str:
        return f"hashtag:{self.tag}" if self.kind == "hashtag" else self.kind

    @property
    def mentions(self) -> bool:
        """Whether it carries the account's notifications (and so its mentions)."""
        return self.kind in ("user", "user:notification")


Transport = Literal["websocket", "sse"]


@dataclass(frozen=True, slots=True)
class StreamChannel:
    """One connection and the streams it carries: one over server-sent events, any number
    over a WebSocket that takes ``subscribe`` messages."""

    transport: Transport
    specs: tuple[StreamSpec, ...]
    url: str | None = None
    """Where a WebSocket connects (``ws(s)://…/api/v1/streaming``); server-sent events find
    their host themselves."""

    @property
    def name(self) -> str:
        return ", ".join(s.name for s in self.specs)


@dataclass(frozen=True, slots=True)
class StreamView:
    """One stream as the healthcheck and the metrics show it."""

    name: str
    connected: bool
    last_event_at: datetime | None
    refused: str | None = None
