"""A small stateful fake of the Mastodon client API, enough for the bot, on 127.0.0.1.

It keeps accounts, statuses and notifications, answers each endpoint as the server would
(``routes``: one function an endpoint; ``flavours``: where the other servers differ), counts a
post's length by the servers' own rules (``counting``), pushes what happens to the streams,
and records every request. Faults are injected with :meth:`LoopbackServer.fail`.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.http import LoopbackServer, Request, Response
from tests.fakes.mastodon import routes
from tests.fakes.mastodon.entities import (
    StatusRecord,
    account_json,
    notification_json,
    status_json,
)
from tests.fakes.mastodon.flavours import FLAVOURS
from tests.fakes.streaming import StreamHub

TOKEN = "fake-token-0123456789abcdef"


class FakeMastodon(LoopbackServer):
    def __init__(
        self,
        *,
        max_characters: int = 500,
        url_length: int = 23,
        token: str = TOKEN,
        bot_username: str = "arxivbot",
        flavour: str = "mastodon",
        domain: str = "fake.example",
        first_id: int = 113_000_000_000_000_000,
    ) -> None:
        self.flavour_name = flavour
        self.domain = domain
        """The server's own domain: in its statuses' URIs and its remote accounts' handles."""
        self.flavour = FLAVOURS[flavour]
        self.max_characters = (
            max_characters if flavour == "mastodon" else self.flavour.max_characters
        )
        self.url_length = url_length if flavour == "mastodon" else self.flavour.url_length
        self.token = token
        self.state_lock = threading.Lock()
        self._next_id = first_id
        self.peers: dict[str, FakeMastodon] = {}
        """Servers it federates with, by domain: where a search with ``resolve`` fetches a
        post it does not know yet (see :meth:`federate`)."""
        self.unreachable = False
        """Down as far as other servers can tell: a search elsewhere cannot fetch from it."""
        self.blocked_domains: set[str] = set()
        """Domains its admin blocked: their posts are never fetched (search finds nothing)."""
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
        self.streaming.hashtag_events = self.flavour.hashtag_events
        self.streaming.echo_protocol = self.flavour.echo_protocol
        self.hashtag_feeds = "public"
        """``disabled``: Mastodon 4.5 with hashtag feeds switched off (instance
        ``timelines_access``): neither the timeline nor the stream carries them.
        ``authenticated``: shown to logged-in users only; anonymous readers get ``[]``."""
        self.websocket_refused: tuple[int, str] | None = None
        """(status, error) for every WebSocket upgrade: a proxy in front that does not pass
        ``Upgrade``, while server-sent events get through."""
        self.streaming_host: LoopbackServer | None = None
        """Set by :meth:`stream_elsewhere`: the streaming API on a host of its own."""
        super().__init__(self._handle)

    def stream_elsewhere(self) -> None:
        """Serve the streaming API from another host (as mastodon.social does), named in the
        instance information; this host then answers its paths with 404."""
        self.streaming_host = LoopbackServer(self._streaming_only)

    def _streaming_only(self, request: Request) -> Response:
        if request.path.startswith("/api/v1/streaming"):
            return routes.stream(self, request)
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

    def new_id(self) -> int:
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
        with self.state_lock:
            account_id = str(len(self.accounts) + 1)
            account = account_json(account_id, username, domain, bot=bot, note=note, fields=fields)
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
        with self.state_lock:
            record = StatusRecord(
                in_reply_to_id=in_reply_to_id,
                id=self.new_id() if published_after is None else self._id_after(published_after),
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
            self.publish_status(record)
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
        with self.state_lock:
            record = self.statuses[status]
            record.in_reply_to_id = in_reply_to_id
            record.mentions = (self.bot["acct"], *(a["acct"] for a in also))
            notification = self.new_id()
            self.notifications.append((notification, status, filtered, "mention"))
            if not filtered:  # the 4.3 policy holds a filtered one back from the stream too
                self._publish_notification(notification, status, "mention")
        return status

    def add_notification(self, kind: str, status_id: int) -> None:
        """Another notification: ``favourite``, ``reblog``, or a reply typed ``mention`` that
        does not mention the bot (Sharkey, Iceshrimp)."""
        with self.state_lock:
            notification = self.new_id()
            self.notifications.append((notification, status_id, False, kind))
            self._publish_notification(notification, status_id, kind)

    def posted(self) -> list[StatusRecord]:
        """Statuses created through the API (the bot's posts), oldest first."""
        with self.state_lock:
            mine = [s for s in self.statuses.values() if s.idempotency_key is not None or s.text]
        return sorted(mine, key=lambda s: s.id)

    def replies_to(self, status_id: int) -> list[StatusRecord]:
        return [s for s in self.posted() if s.in_reply_to_id == status_id]

    def count(self, method: str, path_prefix: str) -> int:
        return sum(
            1 for r in self.requests if r.method == method and r.path.startswith(path_prefix)
        )

    def federate(self, peer: FakeMastodon, status_id: int) -> int | None:
        """A public post of ``peer`` arrives here (delivered to a follower, or fetched by a
        search): a copy under this server's own id, made from its publish time as Mastodon
        does (``lib/mastodon/snowflake.rb``), its author a remote account here with the same
        profile. The copy already here, if there is one; None if ``peer`` cannot show it."""
        self.peers.setdefault(peer.domain, peer)
        with peer.state_lock:
            original = peer.statuses.get(status_id)
            if original is None or original.visibility != "public" or status_id in peer.deleted:
                return None
            data = peer.status_json(original)
        known = self._copy_by_uri(data["uri"])
        if known is not None:
            return known
        author = original.account
        account = self._remote_account(author, peer.domain)
        with self.state_lock:
            earlier = [
                s.id for s in self.statuses.values() if s.published_at <= original.published_at
            ]
            later = [s.id for s in self.statuses.values() if s.published_at > original.published_at]
            if earlier:
                new_id = self._id_after(max(earlier))
            elif later:
                new_id = min(later) - 1
            else:
                new_id = self.new_id()
            record = StatusRecord(
                id=new_id,
                account=account,
                content=original.content,
                visibility="public",
                tags=original.tags,
                language=original.language,
                card_url=original.card_url,
                uri=data["uri"],
                url=data["url"],
            )
            record.published_at = original.published_at
            self.statuses[record.id] = record
            self.publish_status(record)
            return record.id

    def _remote_account(self, author: dict[str, Any], domain: str) -> dict[str, Any]:
        acct = f"{author['username']}@{domain}"
        with self.state_lock:
            known = next((a for a in self.accounts.values() if a["acct"] == acct), None)
        if known is not None:
            return known
        fields = tuple((f["name"], f["value"]) for f in author.get("fields", []))
        return self.add_account(
            author["username"], bot=author["bot"], domain=domain, note=author["note"], fields=fields
        )

    def copy_of(self, peer: FakeMastodon, status_id: int) -> int | None:
        """This server's id of ``peer``'s status, if it has a copy."""
        return self._copy_by_uri(peer.status_json(peer.statuses[status_id])["uri"])

    def _copy_by_uri(self, uri: str) -> int | None:
        with self.state_lock:
            return next((s.id for s in self.statuses.values() if s.uri == uri), None)

    # --- what the routes share --------------------------------------------------------------

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def reads_notifications(self) -> bool:
        return routes.refused_scope(self, "read:notifications") is None

    def streaming_url(self) -> str:
        host = self.streaming_host or self
        scheme = "wss://" if self.flavour.streaming_always_wss else "ws://"
        return host.url.replace("http://", scheme)  # Mastodon names its wss:// URL

    def status_json(self, record: StatusRecord) -> dict[str, Any]:
        reblog = self.statuses.get(record.reblog_of) if record.reblog_of else None
        return status_json(
            record,
            reblog=reblog,
            mention=self._mention_json,
            malformed=record.id in self.malformed,
            domain=self.domain,
        )

    def _mention_json(self, acct: str) -> dict[str, Any]:
        account = next((a for a in self.accounts.values() if a["acct"] == acct), None)
        if account is None:
            return {"id": "0", "username": acct.split("@")[0], "acct": acct, "url": ""}
        return {k: account[k] for k in ("id", "username", "acct", "url")}

    def publish_status(self, record: StatusRecord) -> None:
        """A public post is pushed to the public stream and the streams of its hashtags
        (unless hashtag feeds are off)."""
        if record.visibility != "public":
            return
        payload = self.status_json(record)
        local = "@" not in record.account["acct"]
        self.streaming.publish(
            ("public", "public:local") if local else ("public",), "update", payload
        )
        if self.hashtag_feeds == "disabled":
            return
        for tag in record.tags:
            self.streaming.publish(f"hashtag:{tag}", "update", payload)

    def _publish_notification(self, notification_id: int, status_id: int, kind: str) -> None:
        if not self.reads_notifications():
            return  # the user stream leaves notifications out without a word
        record = self.statuses[status_id]
        payload = notification_json(notification_id, kind, record.account, self.status_json(record))
        self.streaming.publish(("user", "user:notification"), "notification", payload)

    def forget_idempotency_keys(self) -> None:
        """What Mastodon does after about an hour."""
        with self.state_lock:
            self.keys.clear()

    # --- every request ----------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        if self.paged_limit is not None and {"min_id", "max_id", "since_id"} & set(request.query):
            limit, window = self.paged_limit
            with self.state_lock:
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
        response = routes.route(self, request)
        response.headers.update(self.rate_limit_headers())
        return response
