"""A small stateful fake of the Mastodon client API, enough for the bot, on 127.0.0.1.

It keeps accounts and statuses, answers the hashtag timeline with Mastodon's cursor rules
(``min_id``/``since_id``/``max_id``, ``any[]``, ``limit`` up to 40, ``Link`` headers), posts
statuses with per-account idempotency keys, validates post length the way Mastodon counts it,
and records every request. Faults are injected with :meth:`LoopbackServer.fail`.
"""

from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import regex

from tests.fakes.http import LoopbackServer, Request, Response
from tests.fakes.streaming import StreamHub

TOKEN = "fake-token-0123456789abcdef"
_TAG = re.compile(r"(?<![\w/&])#(\w+)")
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"(?<![\w/=])@(\w[\w.-]*)(?:@[\w.-]+\w)?")
VISIBILITIES = ("public", "unlisted", "private", "direct")


@dataclass(frozen=True)
class Flavour:
    """How one server's client API differs from Mastodon's, from ``FACTS-fediverse.md`` (read
    from each server's source): what the fake answers, not what the bot expects."""

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
    one_notification_without_limit: bool = False
    """snac2 answers a single notification when ``limit`` is omitted."""


FLAVOURS = {
    "mastodon": Flavour("4.4.0", "mastodon"),
    "gotosocial": Flavour(
        "3.5.3 (compatible; GoToSocial 0.17.3)", "gotosocial", max_characters=5000,
        url_length=25, counting="codepoints",
        too_long=(400, "Bad Request: text with spoiler exceed max chars ({n})"),
        any_tags="ignored", idempotency=False, tag_timeline_needs_token=True,
    ),
    "akkoma": Flavour(
        "2.7.2 (compatible; Akkoma 3.13.2)", "akkoma", has_v2=False, v1_max_toot_chars=True,
        max_characters=5000, counting="graphemes",
        too_long=(422, "The status is over the character limit"), any_tags="all",
        rate_limit_headers=False,
    ),
    "pleroma": Flavour(
        "2.7.2 (compatible; Pleroma 2.6.0)", "pleroma", v1_max_toot_chars=True,
        max_characters=5000, url_length=0, counting="graphemes",
        too_long=(422, "The status is over the character limit"), any_tags="all",
        rate_limit_headers=False,
    ),
    "sharkey": Flavour(
        "3.0.0 (compatible; Sharkey 2024.11.1)", "sharkey", max_characters=3000,
        url_length=0, counting="utf16", too_long=(400, "MAX_LENGTH"),
        any_tags="ignored", notification_types=False, idempotency=False,
        rate_limit_headers=False, warning_counted=False,
    ),
    "iceshrimp": Flavour(
        "4.0.0 (compatible; Iceshrimp.NET/2024.1-beta5)", "iceshrimp", v1_max_toot_chars=True,
        max_characters=8192, counting="utf16",
        too_long=(422, "Text & content warning cannot exceed {n} characters in total"),
        any_tags="and", rate_limit_headers=False, tag_timeline_needs_token=True,
    ),
    "friendica": Flavour(
        "2.8.0 (compatible; Friendica 2024.12)", "friendica", max_characters=200000,
        counting="none", any_tags="ignored", notification_types=False, idempotency=False,
        rate_limit_headers=False,
    ),
    "snac": Flavour(
        "4.0.0", "snac", has_v2=False, v1_max_toot_chars=True, max_characters=100000,
        url_length=32, counting="none", any_tags="ignored", idempotency=False,
        link_header=False, rate_limit_headers=False, one_notification_without_limit=True,
    ),
}  # fmt: skip


def flavour_count(flavour: Flavour, text: str, url_length: int) -> int:
    """A post's length as that server counts it (the content warning is added by the caller
    in the same unit)."""
    if flavour.counting == "mastodon":
        return mastodon_count(text, url_length)
    if flavour.counting == "graphemes":
        return len(regex.findall(r"\X", text))
    if flavour.counting == "codepoints":
        return len(text)
    if flavour.counting == "utf16":
        return len(text.encode("utf-16-le")) // 2
    return 0


def mastodon_count(text: str, url_length: int = 23) -> int:
    """Mastodon's rule, written independently of the bot: URLs weigh ``url_length``,
    ``@user@domain`` weighs as ``@user``, the rest counts in grapheme clusters."""
    urls = len(_URL.findall(text))
    text = _URL.sub("", text)
    text = _MENTION.sub(lambda m: "@" + m.group(1), text)
    return len(regex.findall(r"\X", text)) + urls * url_length


@dataclass
class StatusRecord:
    id: int
    account: dict[str, Any]
    content: str
    visibility: str
    tags: tuple[str, ...]
    text: str = ""
    in_reply_to_id: int | None = None
    spoiler_text: str = ""
    language: str | None = "en"
    reblog_of: int | None = None
    card_url: str | None = None
    idempotency_key: str | None = None
    mentions: tuple[str, ...] = field(default=())
    created: float = field(default_factory=time.monotonic)
    """When it became visible on this server (monotonic clock)."""
    published_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    """Its ``created_at``: when it was published, on its own server."""


class FakeMastodon(LoopbackServer):
    def __init__(
        self,
        *,
        max_characters: int = 500,
        url_length: int = 23,
        token: str = TOKEN,
        bot_username: str = "arxivbot",
        flavour: str = "mastodon",
    ) -> None:
        self.flavour_name = flavour
        self.flavour = FLAVOURS[flavour]
        self.max_characters = (
            max_characters if flavour == "mastodon" else self.flavour.max_characters
        )
        self.url_length = url_length if flavour == "mastodon" else self.flavour.url_length
        self.token = token
        self._state_lock = threading.Lock()
        self._next_id = 113_000_000_000_000_000
        self.accounts: dict[str, dict[str, Any]] = {}
        self.statuses: dict[int, StatusRecord] = {}
        self.keys: dict[tuple[str, str], int] = {}
        self.bot = self.add_account(bot_username, bot=True)
        self.rate_limit: tuple[int, int, float] | None = (
            (300, 299, 300.0) if self.flavour.rate_limit_headers else None
        )
        """(limit, remaining, seconds to reset): sent as X-RateLimit-* headers when set."""
        self.paged_limit: tuple[int, float] | None = None
        """(requests, window seconds): enforce Mastodon's limit on paged requests, with 429s."""
        self.throttled = 0
        self._window: tuple[float, int] = (0.0, 0)
        self.notifications: list[tuple[int, int, bool, str]] = []
        """(notification id, status id, filtered by the 4.3 notification policy, type)"""
        self.followers: set[str] = set()
        self.deleted: list[int] = []
        self.forbidden: set[int] = set()
        """Statuses the bot may not see (author blocks it, followers-only): 403 on reading
        them or their context, 404 on replying to them, as Mastodon answers."""
        self.malformed: set[int] = set()
        """Statuses served broken in pages (no account), as a buggy remote object might be."""
        self.ignores_min_id = False
        """Answer the tag timeline as if no cursor were given (Akkoma before 3.18.1)."""
        self.counting_override: str | None = None
        """A Mastodon look-alike that counts another way (``codepoints``…): the bot learns it
        only from a refusal."""
        self.relationships_forbidden = False
        """Answer 403 on relationships (a token without read:follows on some servers)."""
        self.scopes: tuple[str, ...] = ("read", "write")
        """The token's scopes: without ``read``, verify_credentials answers 403."""
        self.streaming = StreamHub()
        self.hashtag_feeds = "public"
        """``disabled``: Mastodon 4.5 with hashtag feeds switched off (instance
        ``timelines_access``): neither the timeline nor the stream carries them."""
        self.streaming_host: LoopbackServer | None = None
        """Set by :meth:`stream_elsewhere`: the streaming API on a host of its own."""
        super().__init__(self._handle)

    def stream_elsewhere(self) -> None:
        """Serve the streaming API from another host (as mastodon.social does), named in the
        instance information; this host then answers its paths with 404."""
        self.streaming_host = LoopbackServer(self._streaming_only)

    def _streaming_only(self, request: Request) -> Response:
        if request.path.startswith("/api/v1/streaming"):
            return self._stream(request)
        return Response.json({"error": "Not found"}, 404)

    def close(self) -> None:
        self.streaming.close()
        if self.streaming_host is not None:
            self.streaming_host.close()
        super().close()

    def rate_limit_headers(self) -> dict[str, str]:
        if self.rate_limit is None:
            return {}
        limit, remaining, reset_in = self.rate_limit
        reset = datetime.now(UTC) + timedelta(seconds=reset_in)
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    # --- test set-up and inspection --------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1_000 + len(self.statuses)
        return self._next_id

    def _id_after(self, status_id: int) -> int:
        backdated = status_id + 1
        while backdated in self.statuses:
            backdated += 1
        return backdated

    def add_account(
        self,
        username: str,
        *,
        bot: bool = False,
        domain: str | None = None,
        note: str = "",
        fields: tuple[tuple[str, str], ...] = (),
    ) -> dict[str, Any]:
        with self._state_lock:
            account_id = str(len(self.accounts) + 1)
            acct = username if domain is None else f"{username}@{domain}"
            account = {
                "id": account_id,
                "username": username,
                "acct": acct,
                "display_name": username.title(),
                "bot": bot,
                "note": note,
                "url": f"https://{domain or 'fake.example'}/@{username}",
                "fields": [{"name": n, "value": v, "verified_at": None} for n, v in fields],
            }
            self.accounts[account_id] = account
            return account

    def add_status(
        self,
        account: dict[str, Any],
        content: str,
        *,
        tags: tuple[str, ...] = (),
        visibility: str = "public",
        reblog_of: int | None = None,
        spoiler_text: str = "",
        language: str | None = "en",
        card_url: str | None = None,
        in_reply_to_id: int | None = None,
        published_after: int | None = None,
        published_at: datetime | None = None,
    ) -> int:
        """A status that arrives now. ``published_after``: a post from another server that
        was published right after that status but federates only now: Mastodon gives it an
        id from its publish time (``lib/mastodon/snowflake.rb``), so it sorts among older
        posts, behind cursors that already passed them."""
        with self._state_lock:
            record = StatusRecord(
                in_reply_to_id=in_reply_to_id,
                id=self._new_id() if published_after is None else self._id_after(published_after),
                account=account,
                content=content,
                visibility=visibility,
                tags=tuple(t.lower() for t in tags),
                spoiler_text=spoiler_text,
                language=language,
                reblog_of=reblog_of,
                card_url=card_url,
            )
            if published_at is not None:
                record.published_at = published_at
            self.statuses[record.id] = record
            self._publish_status(record)
            return record.id

    def add_mention(
        self,
        account: dict[str, Any],
        text: str,
        *,
        visibility: str = "public",
        in_reply_to_id: int | None = None,
        filtered: bool = False,
        spoiler_text: str = "",
        also: tuple[dict[str, Any], ...] = (),
    ) -> int:
        """A status by ``account`` that mentions the bot, and the bot's notification of it.

        ``text`` is HTML after the bot's handle. ``filtered``: a private mention Mastodon ≥ 4.3
        holds back unless the client asks for filtered notifications. ``also``: the other
        accounts it mentions, as a client copies every handle of the post it answers.
        """
        handle = (
            f'<span class="h-card" translate="no"><a href="https://fake.example/@{self.bot["username"]}" '
            f'class="u-url mention">@<span>{self.bot["username"]}</span></a></span>'
        )
        status = self.add_status(
            account, f"<p>{handle} {text}</p>", visibility=visibility, spoiler_text=spoiler_text
        )
        with self._state_lock:
            record = self.statuses[status]
            record.in_reply_to_id = in_reply_to_id
            record.mentions = (self.bot["acct"], *(a["acct"] for a in also))
            notification = self._new_id()
            self.notifications.append((notification, status, filtered, "mention"))
            if not filtered:  # the 4.3 policy holds a filtered one back from the stream too
                self._publish_notification(notification, status, "mention")
        return status

    def add_notification(self, kind: str, status_id: int) -> None:
        """Another notification: ``favourite``, ``reblog``, or a reply typed ``mention`` that
        does not mention the bot (Sharkey, Iceshrimp)."""
        with self._state_lock:
            notification = self._new_id()
            self.notifications.append((notification, status_id, False, kind))
            self._publish_notification(notification, status_id, kind)

    def posted(self) -> list[StatusRecord]:
        """Statuses created through the API (the bot's posts), oldest first."""
        with self._state_lock:
            mine = [s for s in self.statuses.values() if s.idempotency_key is not None or s.text]
        return sorted(mine, key=lambda s: s.id)

    def replies_to(self, status_id: int) -> list[StatusRecord]:
        return [s for s in self.posted() if s.in_reply_to_id == status_id]

    def count(self, method: str, path_prefix: str) -> int:
        return sum(
            1 for r in self.requests if r.method == method and r.path.startswith(path_prefix)
        )

    # --- the API ---------------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def _handle(self, request: Request) -> Response:
        if self.paged_limit is not None and {"min_id", "max_id", "since_id"} & set(request.query):
            limit, window = self.paged_limit
            with self._state_lock:
                started, used = self._window
                now = time.monotonic()
                if now - started >= window:
                    started, used = now, 0
                used += 1
                self._window = (started, used)
                self.rate_limit = (limit, max(limit - used, 0), started + window - now)
                if used > limit:
                    self.throttled += 1
                    return Response.json(
                        {"error": "Too many requests"}, 429, self.rate_limit_headers()
                    )
        response = self._route(request)
        response.headers.update(self.rate_limit_headers())
        return response

    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/")  # Rails routes ignore a trailing slash
        if path == "/api/v1/accounts/verify_credentials":
            if not self._authorised(request):
                return Response.json({"error": "The access token is invalid"}, 401)
            if "read" not in self.scopes:
                return Response.json({"error": "This action is outside the authorized scopes"}, 403)
            return Response.json({**self.bot, "source": {"privacy": "public"}})
        if path == "/api/v2/instance" and self.flavour.has_v2:
            return Response.json(self._instance())
        if path == "/api/v1/instance":
            return Response.json(self._instance_v1())
        if path == "/.well-known/nodeinfo":
            href = f"{self.url}/nodeinfo/2.0"
            schema = "http://nodeinfo.diaspora.software/ns/schema/2.0"
            return Response.json({"links": [{"rel": schema, "href": href}]})
        if path == "/nodeinfo/2.0":
            return Response.json({"version": "2.0", "software": {"name": self.flavour.nodeinfo}})
        if path.startswith("/api/v1/streaming"):
            if self.streaming_host is not None:
                return Response.json({"error": "Not found"}, 404)
            return self._stream(request)
        if path.startswith("/api/v1/timelines/tag/"):
            if self.flavour.tag_timeline_needs_token and not self._authorised(request):
                return Response.json({"error": "Unauthorized"}, 401)
            return self._tag_timeline(request, path.removeprefix("/api/v1/timelines/tag/"))
        if path == "/api/v1/statuses" and request.method == "POST":
            if not self._authorised(request):
                return Response.json({"error": "The access token is invalid"}, 401)
            return self._post(request)
        if path == "/api/v1/notifications":
            if not self._authorised(request):
                return Response.json({"error": "The access token is invalid"}, 401)
            if not self._reads_notifications():
                return Response.json({"error": "This action is outside the authorized scopes"}, 403)
            return self._notifications(request)
        if path == "/api/v1/apps/verify_credentials":
            if not self._authorised(request):
                return Response.json({"error": "The access token is invalid"}, 401)
            # Mastodon 4.3+ tells an app its scopes
            return Response.json(
                {"name": "arxiv-bot", "website": None, "scopes": list(self.scopes)}
            )
        if path == "/api/v1/accounts/relationships":
            if self.relationships_forbidden:
                return Response.json({"error": "This action is outside the authorized scopes"}, 403)
            ids = request.query.get("id[]", [])
            return Response.json(
                [{"id": i, "following": False, "followed_by": i in self.followers} for i in ids]
            )
        m = re.fullmatch(r"/api/v1/statuses/(\d+)", path)
        if m and request.method == "DELETE":
            with self._state_lock:
                record = self.statuses.get(int(m[1]))
                if record is None:
                    return Response.json({"error": "Record not found"}, 404)
                if record.account["id"] != self.bot["id"]:
                    return Response.json({"error": "This action is not allowed"}, 403)
                del self.statuses[record.id]
                self.deleted.append(record.id)
                return Response.json(self._status_json(record))
        m = re.fullmatch(r"/api/v1/statuses/(\d+)(?:/context)?", path)
        if m and request.method == "GET" and int(m[1]) in self.forbidden:
            return Response.json({"error": "This action is not allowed"}, 403)
        m = re.fullmatch(r"/api/v1/statuses/(\d+)/context", path)
        if m and request.method == "GET":
            return self._context(int(m[1]))
        m = re.fullmatch(r"/api/v1/statuses/(\d+)", path)
        if m and request.method == "GET":
            with self._state_lock:
                record = self.statuses.get(int(m[1]))
                if record is None:
                    return Response.json({"error": "Record not found"}, 404)
                return Response.json(self._status_json(record))
        return Response.json({"error": "Not found"}, 404)

    def _stream(self, request: Request) -> Response:
        """SSE on Mastodon only (GoToSocial, Akkoma and the rest stream over WebSocket, so
        these paths are not found); a user token for every stream since 4.2."""
        path = request.path.rstrip("/")
        if self.flavour_name != "mastodon":
            return Response.json({"error": "Not found"}, 404)
        if path == "/api/v1/streaming/health":
            return Response(200, b"OK", "text/plain")
        if not self._authorised(request):
            return Response.json({"error": "Error: Missing access token"}, 401)
        if path == "/api/v1/streaming/user":
            return self.streaming.serve("user")
        if path == "/api/v1/streaming/hashtag":
            tag = (request.query.get("tag") or [""])[0].lower()
            if not tag:
                return Response.json({"error": "Missing tag name parameter"}, 400)
            return self.streaming.serve(f"hashtag:{tag}")
        return Response.json({"error": "Unknown stream type"}, 400)

    def _publish_status(self, record: StatusRecord) -> None:
        """A public post is pushed to the streams of its hashtags (unless feeds are off)."""
        if record.visibility != "public" or self.hashtag_feeds == "disabled":
            return
        payload = self._status_json(record)
        for tag in record.tags:
            self.streaming.publish(f"hashtag:{tag}", "update", payload)

    def _reads_notifications(self) -> bool:
        return bool({"read", "read:notifications"} & set(self.scopes))

    def _publish_notification(self, notification_id: int, status_id: int, kind: str) -> None:
        if not self._reads_notifications():
            return  # the user stream leaves notifications out without a word
        record = self.statuses[status_id]
        payload = {
            "id": str(notification_id),
            "type": kind,
            "created_at": "2026-11-26T00:00:00.000Z",
            "account": record.account,
            "status": self._status_json(record),
        }
        self.streaming.publish("user", "notification", payload)

    def _notifications(self, request: Request) -> Response:
        q = request.query
        default = "1" if self.flavour.one_notification_without_limit else "15"
        limit = min(int(q.get("limit", [default])[0]), 80)
        with_filtered = q.get("include_filtered", ["false"])[0] == "true"
        with self._state_lock:
            types = set(q.get("types[]", [])) if self.flavour.notification_types else set()
            visible = [
                (nid, sid, kind)
                for nid, sid, filtered, kind in self.notifications
                if (with_filtered or not filtered)
                and sid in self.statuses
                and (not types or kind in types)
            ]
            if "min_id" in q:
                page = list(reversed([n for n in visible if n[0] > int(q["min_id"][0])][:limit]))
            else:
                page = list(reversed(visible))[:limit]
            body = [
                {
                    "id": str(nid),
                    "type": kind,
                    "created_at": "2026-11-26T00:00:00.000Z",
                    "account": self.statuses[sid].account,
                    "status": self._status_json(self.statuses[sid]),
                }
                for nid, sid, kind in page
            ]
        return Response.json(body)

    def forget_idempotency_keys(self) -> None:
        """What Mastodon does after about an hour."""
        with self._state_lock:
            self.keys.clear()

    def _context(self, status_id: int) -> Response:
        with self._state_lock:
            if status_id not in self.statuses:
                return Response.json({"error": "Record not found"}, 404)
            ancestors: list[StatusRecord] = []
            parent = self.statuses[status_id].in_reply_to_id
            while parent is not None and parent in self.statuses:
                ancestors.insert(0, self.statuses[parent])
                parent = self.statuses[parent].in_reply_to_id
            descendants = []
            frontier = [status_id]
            while frontier:
                children = sorted(
                    (s for s in self.statuses.values() if s.in_reply_to_id in frontier),
                    key=lambda s: s.id,
                )
                descendants.extend(children)
                frontier = [s.id for s in children]
            return Response.json(
                {
                    "ancestors": [self._status_json(s) for s in ancestors],
                    "descendants": [self._status_json(s) for s in descendants],
                }
            )

    def _instance_v1(self) -> dict[str, Any]:
        v1: dict[str, Any] = {
            "uri": "fake.example",
            "title": "Fake",
            "version": self.flavour.version,
            "configuration": {"statuses": {"max_characters": self.max_characters}},
        }
        if self.flavour_name == "mastodon":
            v1["urls"] = {"streaming_api": self._streaming_url()}
        if self.flavour.v1_max_toot_chars:
            v1["max_toot_chars"] = self.max_characters
            del v1["configuration"]
        return v1

    def _streaming_url(self) -> str:
        host = self.streaming_host or self
        return host.url.replace("http://", "ws://")  # Mastodon names its wss:// URL

    def _instance(self) -> dict[str, Any]:
        feeds = self.hashtag_feeds
        return {
            "domain": "fake.example",
            "title": "Fake",
            "version": self.flavour.version,
            "configuration": {
                "urls": {"streaming": self._streaming_url()},
                "timelines_access": {
                    "live_feeds": {"local": "public", "remote": "public"},
                    "hashtag_feeds": {"local": feeds, "remote": feeds},
                    "trending_link_feeds": {"local": "public", "remote": "public"},
                },
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": self.url_length,
                },
            },
        }

    def _mention_json(self, acct: str) -> dict[str, Any]:
        account = next((a for a in self.accounts.values() if a["acct"] == acct), None)
        if account is None:
            return {"id": "0", "username": acct.split("@")[0], "acct": acct, "url": ""}
        return {k: account[k] for k in ("id", "username", "acct", "url")}

    def _status_json(self, record: StatusRecord) -> dict[str, Any]:
        if record.id in self.malformed:
            return {"id": str(record.id), "content": record.content, "visibility": "public"}
        reblog = self.statuses.get(record.reblog_of) if record.reblog_of else None
        return {
            "id": str(record.id),
            "created_at": record.published_at.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "in_reply_to_id": None if record.in_reply_to_id is None else str(record.in_reply_to_id),
            "in_reply_to_account_id": None,
            "sensitive": bool(record.spoiler_text),
            "spoiler_text": record.spoiler_text,
            "visibility": record.visibility,
            "language": record.language,
            "uri": f"https://fake.example/statuses/{record.id}",
            "url": f"https://fake.example/@{record.account['username']}/{record.id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "content": record.content,
            "reblog": self._status_json(reblog) if reblog else None,
            "account": record.account,
            "media_attachments": [],
            "mentions": [self._mention_json(a) for a in record.mentions],
            "tags": [{"name": t, "url": f"https://fake.example/tags/{t}"} for t in record.tags],
            "emojis": [],
            "card": {"url": record.card_url, "title": "", "type": "link"}
            if record.card_url
            else None,
            "poll": None,
        }

    def _tag_timeline(self, request: Request, tag: str) -> Response:
        if self.hashtag_feeds == "disabled":
            return Response.json([])
        q = request.query
        names = [tag.lower(), *(t.lower() for t in q.get("any[]", []))]
        mode = self.flavour.any_tags
        if mode == "first4":  # Mastodon's TagFeed: LIMIT_PER_MODE = 4, the path tag first
            names = list(dict.fromkeys(names))[:4]
        elif mode in ("ignored",):
            names = names[:1]

        def carries(record: StatusRecord) -> bool:
            if mode == "and":
                return all(n in record.tags for n in names)
            return bool(set(names) & set(record.tags))

        limit = min(int(q.get("limit", ["20"])[0]), 40)
        with self._state_lock:
            matching = sorted(
                (
                    s
                    for s in self.statuses.values()
                    if s.visibility == "public" and s.reblog_of is None and carries(s)
                ),
                key=lambda s: s.id,
            )
            if "min_id" in q and not self.ignores_min_id:
                after = [s for s in matching if s.id > int(q["min_id"][0])]
                page = list(reversed(after[:limit]))
            else:
                newest_first = list(reversed(matching))
                if "max_id" in q:
                    newest_first = [s for s in newest_first if s.id < int(q["max_id"][0])]
                if "since_id" in q:
                    newest_first = [s for s in newest_first if s.id > int(q["since_id"][0])]
                page = newest_first[:limit]
            body = [self._status_json(s) for s in page]
        headers = {}
        if page and self.flavour.link_header:
            base = f"{self.url}{request.path}"
            headers["Link"] = (
                f'<{base}?max_id={page[-1].id}>; rel="next", <{base}?min_id={page[0].id}>; rel="prev"'
            )
        return Response.json(body, headers=headers)

    def _post(self, request: Request) -> Response:
        form = request.form()
        text = form.get("status", [""])[0]
        visibility = form.get("visibility", ["public"])[0]
        if visibility not in VISIBILITIES:
            return Response.json({"error": "Validation failed: Visibility is invalid"}, 422)
        spoiler = form.get("spoiler_text", [""])[0]
        flavour = self.flavour
        counting = "mastodon" if self.counting_override is None else self.counting_override
        counted = replace(flavour, counting=counting) if flavour.counting == "mastodon" else flavour
        warning = flavour_count(
            replace(counted, counting="graphemes") if counted.counting == "mastodon" else counted,
            spoiler,
            self.url_length,
        )
        length = flavour_count(counted, text, self.url_length) + (
            warning if flavour.warning_counted else 0
        )
        if counted.counting != "none" and length > self.max_characters:
            status, message = flavour.too_long
            return Response.json({"error": message.format(n=self.max_characters)}, status)
        key = request.headers.get("idempotency-key") if flavour.idempotency else None
        with self._state_lock:
            if key is not None and (self.token, key) in self.keys:
                return Response.json(self._status_json(self.statuses[self.keys[(self.token, key)]]))
            reply_to = form.get("in_reply_to_id", [None])[0]
            if reply_to is not None and (
                int(reply_to) not in self.statuses or int(reply_to) in self.forbidden
            ):
                return Response.json({"error": "Record not found"}, 404)
            tags = tuple(t.lower() for t in _TAG.findall(text))
            record = StatusRecord(
                id=self._new_id(),
                account=self.bot,
                content="<p>" + html.escape(text).replace("\n", "<br />") + "</p>",
                visibility=visibility,
                tags=tags if visibility == "public" else (),
                text=text,
                in_reply_to_id=None if reply_to is None else int(reply_to),
                spoiler_text=spoiler,
                language=form.get("language", [None])[0],
                idempotency_key=key or "",
                mentions=tuple(m.group(0)[1:] for m in _MENTION.finditer(_URL.sub("", text))),
            )
            self.statuses[record.id] = record
            self._publish_status(record)
            if key is not None:
                self.keys[(self.token, key)] = record.id
            return Response.json(self._status_json(record))
