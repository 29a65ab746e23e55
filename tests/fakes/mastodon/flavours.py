"""How each server's client API differs from Mastodon's, from ``FACTS-fediverse.md`` (read
from each server's source): what the fake answers, not what the bot expects."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flavour:
    """One server's differences."""

    version: str
    nodeinfo: str
    has_v2: bool = True
    v1_max_toot_chars: bool = False
    max_characters: int = 500
    url_length: int = 23
    counting: str = "mastodon"  # mastodon | graphemes | codepoints | utf16 | none
    too_long: tuple[int, str] = (422, "Validation failed: Text character limit of {n} exceeded")
    any_tags: str = "first4"  # first4 | all | ignored | and
    notification_types: bool = True
    """Whether ``types[]`` is honoured (Sharkey ignores it; Friendica knows only exclude_types)."""
    idempotency: bool = True
    link_header: bool = True
    rate_limit_headers: bool = True
    """Whether it sends X-RateLimit-* (Mastodon, GoToSocial); Akkoma, Pleroma, Iceshrimp and
    Friendica send none."""
    warning_counted: bool = True
    """Whether the content warning counts towards the limit (Sharkey limits it separately)."""
    tag_timeline_needs_token: bool = False
    """GoToSocial and Iceshrimp answer the hashtag timeline only to a logged-in client."""
    unused_tag_404: bool = False
    """GoToSocial answers 404 ``tag was not found`` for a tag no post has used yet (seen on
    the real server, ``servers/gotosocial/README.md``)."""
    one_notification_without_limit: bool = False
    """snac2 answers a single notification when ``limit`` is omitted."""
    granular_scopes: bool = True
    """Takahē accepts only the broad ``read``/``write``: a token of granular scopes gets 403
    ``out_of_scope_for_token`` (seen on the real server, ``FACTS-fediverse.md``)."""
    v2_error: int | None = None
    """Takahē's ``/api/v2/instance`` answers 500 on a server without an admin account."""
    streaming: str = "sse+websocket"
    """``sse+websocket``: Mastodon's server-sent events, and WebSocket with many streams on
    one connection; ``websocket``: WebSocket only, many streams a connection (GoToSocial);
    ``websocket-query``: WebSocket only, the one stream its query names (Akkoma, Pleroma,
    Iceshrimp: ``FACTS-streaming.md``); ``none`` (Sharkey, Friendica, snac2, Takahē)."""
    stream_kinds: tuple[str, ...] = ("user", "user:notification", "public", "hashtag")
    hashtag_events: bool = True
    """GoToSocial takes a ``hashtag`` subscription and never sends on it (``stream.go``)."""
    echo_protocol: bool = True
    """Whether a token sent as ``Sec-WebSocket-Protocol`` is echoed in the handshake."""
    streaming_always_wss: bool = False
    """GoToSocial names ``wss://`` as its streaming URL even when served over plain HTTP
    (seen on the real server)."""
    stream_authorization_header: bool = True
    """Whether the WebSocket upgrade takes ``Authorization: Bearer`` (Akkoma and Pleroma
    read only the query and ``Sec-WebSocket-Protocol``)."""


FLAVOURS = {
    "mastodon": Flavour("4.4.0", "mastodon"),
    "gotosocial": Flavour(
        "3.5.3 (compatible; GoToSocial 0.17.3)", "gotosocial", max_characters=5000,
        url_length=25, counting="codepoints",
        too_long=(400, "Bad Request: text with spoiler exceed max chars ({n})"),
        any_tags="ignored", idempotency=False, tag_timeline_needs_token=True,
        unused_tag_404=True, streaming="websocket", hashtag_events=False, echo_protocol=False,
        stream_kinds=("user", "user:notification", "public", "public:local", "direct", "list", "hashtag"),
        streaming_always_wss=True,
    ),
    "akkoma": Flavour(
        "2.7.2 (compatible; Akkoma 3.13.2)", "akkoma", has_v2=False, v1_max_toot_chars=True,
        max_characters=5000, counting="graphemes",
        too_long=(422, "The status is over the character limit"), any_tags="all",
        rate_limit_headers=False, streaming="websocket-query", stream_authorization_header=False,
    ),
    "pleroma": Flavour(
        "2.7.2 (compatible; Pleroma 2.6.0)", "pleroma", v1_max_toot_chars=True,
        max_characters=5000, url_length=0, counting="graphemes",
        too_long=(422, "The status is over the character limit"), any_tags="all",
        rate_limit_headers=False, streaming="websocket-query", stream_authorization_header=False,
    ),
    "sharkey": Flavour(
        "3.0.0 (compatible; Sharkey 2024.11.1)", "sharkey", max_characters=3000,
        url_length=0, counting="utf16", too_long=(400, "MAX_LENGTH"),
        any_tags="ignored", notification_types=False, idempotency=False,
        rate_limit_headers=False, warning_counted=False, streaming="none",
    ),
    "iceshrimp": Flavour(
        "4.0.0 (compatible; Iceshrimp.NET/2024.1-beta5)", "iceshrimp", v1_max_toot_chars=True,
        max_characters=8192, counting="utf16",
        too_long=(422, "Text & content warning cannot exceed {n} characters in total"),
        any_tags="and", rate_limit_headers=False, tag_timeline_needs_token=True,
        streaming="websocket-query",
    ),
    "friendica": Flavour(
        "2.8.0 (compatible; Friendica 2024.12)", "friendica", max_characters=200000,
        counting="none", any_tags="ignored", notification_types=False, idempotency=False,
        rate_limit_headers=False, streaming="none",
    ),
    "snac": Flavour(
        "4.0.0", "snac", has_v2=False, v1_max_toot_chars=True, max_characters=100000,
        url_length=32, counting="none", any_tags="ignored", idempotency=False,
        link_header=False, rate_limit_headers=False, one_notification_without_limit=True,
        streaming="none",
    ),
    "takahe": Flavour(
        "takahe/0.11.0", "takahe", v2_error=500, max_characters=500, url_length=23,
        counting="codepoints", too_long=(400, "Status is too long"), any_tags="ignored",
        idempotency=False, rate_limit_headers=False, warning_counted=False,
        tag_timeline_needs_token=True, granular_scopes=False, streaming="none",
    ),
}  # fmt: skip
