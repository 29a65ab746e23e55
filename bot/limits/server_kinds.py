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

from bot.limits.budget import MASTODON_PAGED, RequestLimit
from bot.models import StreamSpec

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
    """Which streams to open, or why none (for the one log line that says so)."""

    specs: tuple[StreamSpec, ...]
    unavailable: str | None = None
    notes: tuple[str, ...] = ()


def plan_streams(
    server: Server, hashtags: Sequence[str], *, has_token: bool, mode: str
) -> StreamPlan:
    """The streams worth opening on ``server``."""
    if mode == "off":
        return StreamPlan((), "BOT_STREAMING=off")
    if not has_token:
        return StreamPlan((), "every stream needs an access token (Mastodon 4.2 and later)")
    if server.software in NO_STREAMING:
        return StreamPlan((), NO_STREAMING[server.software])
    if not server.genuine_mastodon and server.software != "unknown":
        return StreamPlan(
            (),
            f"{server.software} streams over WebSocket only, and Mastodon.py's server-sent "
            "events client cannot use that",
        )
    specs = [StreamSpec("user")]
    notes: list[str] = []
    if server.hashtag_feeds == "disabled":
        notes.append("hashtag feeds are switched off on this server: hashtags are polled")
    else:
        specs.extend(StreamSpec("hashtag", tag) for tag in hashtags)
    return StreamPlan(tuple(specs), notes=tuple(notes))
