"""Which kind of server the bot's account lives on, and what the bot adapts for it (pure):
hashtags per request, length counting, idempotency keys, and which live streams it offers.

Many servers speak the Mastodon client API, each with differences (read from their source:
``../shared/FACTS-fediverse.md`` in the project's workspace). The software is read from the
instance ``version`` string (``3.5.3 (compatible; GoToSocial 0.17.3)``) and, where that
looks like plain Mastodon, confirmed by nodeinfo's ``software.name`` (snac2 claims a plain
``4.0.0``). Every behaviour below defaults to the safe side for a server the bot does not know.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from bot.limits.budget import MASTODON_PAGED, RequestLimit
from bot.models import StreamChannel, StreamSpec

Counting = Literal["mastodon", "strict"]
KNOWN = (
    "mastodon", "gotosocial", "akkoma", "pleroma", "sharkey", "iceshrimp", "friendica", "snac",
    "takahe",
)  # fmt: skip
_COMPATIBLE = re.compile(r"\(compatible;\s*([^;)]+?)\)", re.IGNORECASE)
_NAME_VERSION = re.compile(r"([A-Za-z][\w.-]*?)[\s/]+v?([\w.+-]+)")
_NAME_SLASH_VERSION = re.compile(r"([A-Za-z][\w.-]*)/v?(\d[\w.+-]*)")
"""``takahe/0.11.0``: a server that names itself, with no Mastodon version in front."""
REQUEST_LIMITS = {
    "mastodon": MASTODON_PAGED,
    "gotosocial": RequestLimit("GoToSocial", 300, 300, "requests per IP address"),
    "akkoma": RequestLimit("Akkoma", 3, 0.5, "timeline requests"),
    "pleroma": RequestLimit("Pleroma", 3, 0.5, "timeline requests"),
    "iceshrimp": RequestLimit("Iceshrimp.NET", 500, 60, "requests"),
}
"""Each server's published limit on the requests polls make (``FACTS-fediverse.md``)."""
NO_STREAMING = {
    "takahe": "takahe has no streaming API",
    "snac": "snac2 has no streaming API the bot can use",
    "friendica": "friendica has no streaming API the bot can use",
}


@dataclass(frozen=True, slots=True)
class Server:
    software: str
    """One of ``KNOWN``, or what the server called itself, lower-cased; ``unknown`` if nothing."""
    version: str = ""
    streaming_url: str | None = None
    """Where its streaming API lives, from the instance information (may be another host)."""
    hashtag_feeds: str = "public"
    """``disabled`` when the admin switched hashtag feeds off (Mastodon 4.5)."""

    @property
    def genuine_mastodon(self) -> bool:
        return self.software == "mastodon"

    @property
    def tags_per_request(self) -> int:
        """Hashtags one timeline request can carry: Mastodon keeps the first 4 names of the
        path tag and ``any[]``; other servers ignore ``any[]`` (or AND it): one each."""
        return 4 if self.genuine_mastodon else 1

    @property
    def counting(self) -> Counting:
        """Only Mastodon weighs a URL as 23 and ``@user@domain`` as ``@user``."""
        return "mastodon" if self.genuine_mastodon else "strict"

    @property
    def honours_idempotency_key(self) -> bool:
        return self.software in ("mastodon", "akkoma", "pleroma", "iceshrimp")

    @property
    def request_limit(self) -> RequestLimit | None:
        """The server's own limit on polling requests, where it publishes one."""
        return REQUEST_LIMITS.get(self.software)

    def adaptations(self) -> list[str]:
        """What the bot does differently here, in words for ``arxiv-bot check`` and the log."""
        if self.genuine_mastodon:
            return ["up to 4 hashtags per timeline request", "Mastodon's length counting"]
        notes = [
            "one timeline request per hashtag (any[] is not relied on)",
            "strict length counting (full URLs and handles; graphemes, code points and "
            "UTF-16 units, whichever is largest)",
        ]
        if not self.honours_idempotency_key:
            notes.append("looks in the thread for its own reply before any retry of a post")
        return notes

    def __str__(self) -> str:
        return f"{self.software} {self.version}".strip()


def identify(version: str | None, nodeinfo_name: str | None = None) -> Server:
    """The server from its instance ``version`` string and nodeinfo's ``software.name``."""
    text = (version or "").strip()
    compatible = _COMPATIBLE.search(text)
    if compatible:
        inner = compatible[1].strip()
        m = _NAME_VERSION.fullmatch(inner)
        name, number = (m[1], m[2]) if m else (inner, "")
        return Server(_normalise(name), number)
    named = _NAME_SLASH_VERSION.fullmatch(text)
    if named:
        return Server(_normalise(named[1]), named[2])
    name = (nodeinfo_name or "").strip().lower()
    if name and name != "mastodon":
        return Server(_normalise(name), text)
    if re.fullmatch(r"\d+\.\d+[\w.+-]*", text) or name == "mastodon":
        return Server("mastodon", text)
    return Server("unknown", text)


def _normalise(name: str) -> str:
    low = name.strip().lower()
    for known in KNOWN:
        if low.startswith(known):
            return known
    return low or "unknown"


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """Which connections to open, and over what; or why none (for the one log line)."""

    channels: tuple[StreamChannel, ...]
    unavailable: str | None = None
    notes: tuple[str, ...] = ()
    fallback: tuple[StreamChannel, ...] = ()
    """Server-sent events instead, should the server refuse the WebSocket upgrade."""

    @property
    def specs(self) -> tuple[StreamSpec, ...]:
        return tuple(spec for channel in self.channels for spec in channel.specs)

    @property
    def transport(self) -> str:
        return self.channels[0].transport if self.channels else "none"


WEBSOCKET_ONE_STREAM_EACH = ("akkoma", "pleroma", "iceshrimp")
"""WebSocket with the stream in the query, one a connection: multiplexing by ``subscribe``
messages is not documented for these (``FACTS-streaming.md``)."""


def plan_streams(
    server: Server, hashtags: Sequence[str], *, has_token: bool, mode: str, base_url: str = ""
) -> StreamPlan:
    """The streams worth opening on ``server``, and how.

    Mastodon: one WebSocket for the account's notifications and every watched hashtag,
    server-sent events (one connection a stream) should the upgrade be refused. GoToSocial:
    one WebSocket for the notifications and ``public`` (it sends no hashtag stream), whose
    posts are kept only under a watched tag. Akkoma, Pleroma, Iceshrimp.NET: a WebSocket per
    stream. Others: none.
    """
    if mode == "off":
        return StreamPlan((), "BOT_STREAMING=off")
    if not has_token:
        return StreamPlan((), "every stream needs an access token (Mastodon 4.2 and later)")
    if server.software in NO_STREAMING:
        return StreamPlan((), NO_STREAMING[server.software])
    url = websocket_url(server.streaming_url, base_url)
    notes: list[str] = []
    tags = [StreamSpec("hashtag", tag) for tag in hashtags]
    if server.hashtag_feeds == "disabled":
        notes.append("hashtag feeds are switched off on this server: hashtags are polled")
        tags = []
    if server.software == "gotosocial":
        public = (StreamSpec("public"),) if hashtags else ()
        if public:
            notes.append(
                "GoToSocial sends no hashtag stream: its public stream is followed, and only "
                "posts under a watched tag are kept"
            )
        channel = StreamChannel("websocket", (StreamSpec("user:notification"), *public), url)
        return StreamPlan((channel,), notes=tuple(notes))
    if server.software in WEBSOCKET_ONE_STREAM_EACH:
        one_each = tuple(
            StreamChannel("websocket", (spec,), url) for spec in (StreamSpec("user"), *tags)
        )
        return StreamPlan(one_each, notes=tuple(notes))
    if server.genuine_mastodon or server.software == "unknown":
        channel = StreamChannel("websocket", (StreamSpec("user:notification"), *tags), url)
        fallback = tuple(StreamChannel("sse", (spec,)) for spec in (StreamSpec("user"), *tags))
        return StreamPlan((channel,), notes=tuple(notes), fallback=fallback)
    return StreamPlan((), f"{server.software} has no streaming API the bot knows to use")


def websocket_url(streaming_url: str | None, base_url: str) -> str:
    """Where to open a WebSocket: the host the instance information names (it may be another,
    such as ``streaming.mastodon.social``), else the server's own; over TLS (``wss``) as the
    server is reached over TLS, so a server on plain HTTP (GoToSocial says ``wss`` even
    then) is streamed over plain ``ws``."""
    base = urlsplit(base_url)
    named = urlsplit(streaming_url) if streaming_url else base
    secure = base.scheme == "https"
    netloc = named.netloc or base.netloc
    path = named.path.rstrip("/") if streaming_url else ""
    return f"{'wss' if secure else 'ws'}://{netloc}{path}/api/v1/streaming"
