"""The Mastodon REST adapter: Mastodon.py built safely, its errors made the project's own by
:mod:`bot.clients.mastodon_errors` (a 429 becomes :class:`RateLimitedError` with the
server's reset, heard here), its JSON read by :mod:`bot.clients.mastodon_json`.

Built with ``version_check_mode="none"`` (its version detection can loop when
``/api/v1/instance`` fails), ``ratelimit_method="throw"`` (its "wait" can block a thread for
hours) and a request timeout.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import structlog
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNotFoundError,
)

from bot import __version__
from bot.clients import mastodon_json as json_
from bot.clients.mastodon_errors import translated
from bot.errors import AuthError, RejectedError, TransientError
from bot.limits.budget import PAGE_LIMIT, TAGS_PER_REQUEST, RateLimit
from bot.limits.server_kinds import Server
from bot.models import Account, Page, Post, ServerLimits, Status

USER_AGENT = f"arxiv-bot/{__version__}"
log = structlog.get_logger()


class MastodonGateway:
    def __init__(
        self,
        base_url: str,
        access_token: str | None,
        timeout: float = 30.0,
        *,
        unused_tag_is_empty: bool = True,
    ) -> None:
        self._api = Mastodon(
            api_base_url=base_url,
            access_token=access_token,
            request_timeout=timeout,
            ratelimit_method="throw",
            version_check_mode="none",
            user_agent=USER_AGENT,
        )
        self.base_url = base_url
        self.unused_tags: set[str] = set()
        """Tags the server knows no post of (it said 404): said once each."""
        self._unused_tag_is_empty = unused_tag_is_empty
        """Read a tag timeline's 404 as empty (GoToSocial's "tag was not found", with the
        bot's own token); off for another server read anonymously, where a 404 is a refusal."""
        self._retry_after: float | None = None
        # Mastodon.py reads only X-RateLimit-* headers; GoToSocial says when to come back
        # with Retry-After on a 429 or 503. Heard here, from every response.
        self._api.session.hooks["response"].append(self._note_retry_after)

    @classmethod
    def anonymous(cls, base_url: str, timeout: float) -> MastodonGateway:
        """A client for another server: no token (the bot's never leaves its own server), and
        a tag timeline's 404 is that server's refusal, not a tag nobody used yet."""
        return cls(base_url, None, timeout, unused_tag_is_empty=False)

    def _note_retry_after(self, response: Any, *_: Any, **__: Any) -> None:
        value = response.headers.get("Retry-After")
        try:
            self._retry_after = float(value) if value is not None else None
        except ValueError:
            self._retry_after = None  # an HTTP date: rare here, and the backoff copes

    def close(self) -> None:
        self._api.session.close()

    def rate_limit(self) -> RateLimit | None:
        """What the last X-RateLimit-* headers said; None when the server sends none."""
        if self._api.ratelimit_lastcall is None:
            return None
        reset = self._api.ratelimit_reset
        reset_in = max(float(reset) - time.time(), 0.0) if reset is not None else 0.0
        return RateLimit(
            int(self._api.ratelimit_limit), int(self._api.ratelimit_remaining), reset_in
        )

    def _retry_in(self) -> float | None:
        if self._retry_after is not None:
            return self._retry_after
        reset = self._api.ratelimit_reset
        return max(float(reset) - time.time(), 0.0) if reset is not None else None

    def me(self) -> Account:
        """The account the token belongs to (proves the token works): here, and only here, a
        403 means the token itself is refused."""
        with _translated(
            self, "verify the access token", forbidden_is_auth=True, scope="read:accounts"
        ):
            data = self._api.account_verify_credentials()
        return json_.account(data)

    def server(self) -> tuple[Server, ServerLimits]:
        """Which software the server runs, and its post limits: ``/api/v2/instance``, else (it
        is missing or fails in any way) ``/api/v1/instance`` (``max_toot_chars`` too), else 500. Nodeinfo confirms a version
        that looks like plain Mastodon (snac2 claims one)."""
        data: Any = None
        try:
            with _translated(self, "read the server's instance information"):
                data = self._get_json("/api/v2/instance")
        except (RejectedError, TransientError) as exc:  # Akkoma, snac2: no v2; Takahē: 500
            log.debug("instance_v2_unavailable", error=exc, then="/api/v1/instance")
        if not isinstance(data, Mapping) or "configuration" not in data:
            with _translated(self, "read the server's instance information"):
                data = self._get_json("/api/v1/instance")
        version = str(json_.get(data, "version") or "")
        name = None if "compatible" in version.lower() else self._nodeinfo_name()
        return json_.instance(data, name)

    def app_scopes(self) -> tuple[str, ...] | None:
        """The scopes the token was granted (Mastodon 4.3+ tells the app); None if unknown."""
        try:
            with _translated(self, "read the app's credentials"):
                data = self._api.app_verify_credentials()
        except (RejectedError, TransientError, AuthError):
            return None
        scopes = json_.get(data, "scopes")
        return tuple(str(s) for s in scopes) if isinstance(scopes, list) else None

    def _nodeinfo_name(self) -> str | None:
        try:
            with _translated(self, "read nodeinfo"):
                info = self._api.instance_nodeinfo()
        except (RejectedError, TransientError, MastodonError):
            return None
        name = json_.get(json_.get(info, "software"), "name")
        return str(name) if name else None

    def tag_page(self, tags: Sequence[str], min_id: str | None, limit: int = PAGE_LIMIT) -> Page:
        """Public statuses with any of ``tags`` (up to 4, Mastodon only), newest first.

        With ``min_id``, the ``limit`` statuses right after it; without, the newest ones.
        """
        if not 1 <= len(tags) <= TAGS_PER_REQUEST:
            raise ValueError(f"one request watches 1 to {TAGS_PER_REQUEST} tags")
        params: dict[str, Any] = {"limit": limit}
        if len(tags) > 1:
            params["any[]"] = list(tags[1:])
        if min_id is not None:
            params["min_id"] = min_id
        try:
            with _translated(self, f"read #{tags[0]}", scope="read:statuses"):
                page = self._get_json("/api/v1/timelines/tag/" + quote(tags[0], safe=""), params)
        except RejectedError as exc:
            if exc.status != 404 or not self._unused_tag_is_empty:
                raise
            # GoToSocial: "tag was not found" until a post uses it (Mastodon: []). An empty
            # timeline, then: the first post that ever uses the tag comes right after it.
            if tags[0] not in self.unused_tags:
                self.unused_tags.add(tags[0])
                log.info("tag_unused", tag=tags[0], server_says=str(exc))
            return Page((), None, 0)
        self.unused_tags.discard(tags[0])
        return json_.status_page(page)

    def mention_page(self, min_id: str | None, limit: int = PAGE_LIMIT) -> Page:
        """The statuses of mention notifications, newest first, including the ones Mastodon ≥
        4.3 filters by default (private mentions from accounts the bot does not follow). The
        cursor is the newest notification's id."""
        params: dict[str, Any] = {
            "types[]": ["mention"],
            "limit": limit,
            "include_filtered": "true",
        }
        if min_id is not None:
            params["min_id"] = min_id
        with _translated(self, "read mentions", scope="read:notifications"):
            page = self._get_json("/api/v1/notifications", params)
        return json_.mention_page(page)

    def status(self, status_id: str) -> Status | None:
        """One status; None when the server sent something unusable. RejectedError (403, 404,
        410) when the bot may not read it: blocked, followers-only, deleted."""
        with _translated(self, "read a status", scope="read:statuses"):
            data = self._get_json(f"/api/v1/statuses/{quote(status_id, safe='')}")
        return json_.status_or_none(data)

    def resolve(self, uri: str) -> Status | None:
        """The post with this URI as this server knows it, fetched from its own server if need
        be (``/api/v2/search`` with ``resolve``); None when the server cannot show it (not
        found, deleted, a blocked domain: Mastodon answers an empty result for each)."""
        params = {"q": uri, "resolve": "true", "type": "statuses", "limit": 1}
        try:
            with _translated(self, "look up a post from another server", scope="read:search"):
                data = self._get_json("/api/v2/search", params)
        except RejectedError as exc:
            if exc.status != 404:
                raise
            return None
        found = [s for s in map(json_.status_or_none, json_.get(data, "statuses") or []) if s]
        return next((s for s in found if uri in (s.uri, s.url)), found[0] if found else None)

    def thread(self, status_id: str) -> list[Status]:
        """The whole conversation a status belongs to, every branch (the root's context)."""
        with _translated(self, "read a thread", scope="read:statuses"):
            context = self._get_json(f"/api/v1/statuses/{quote(status_id)}/context")
            ancestors = json_.get(context, "ancestors") or []
            if ancestors:  # a reply: the root's descendants hold the sibling branches too
                root = ancestors[0]
                context = self._get_json(f"/api/v1/statuses/{quote(str(root['id']))}/context")
                ancestors = [root]
        statuses = [*ancestors, *(json_.get(context, "descendants") or [])]
        return [s for s in map(json_.status_or_none, statuses) if s is not None]

    def followers_among(self, account_ids: Sequence[str]) -> set[str]:
        """Which of these accounts follow the bot."""
        if not account_ids:
            return set()
        with _translated(self, "read relationships", scope="read:follows"):
            relationships = self._api.account_relationships(list(account_ids))
        return {str(r["id"]) for r in relationships if json_.get(r, "followed_by")}

    def delete(self, status_id: str) -> None:
        """Delete one of the bot's statuses; one already gone counts as deleted."""
        with _translated(self, "delete a reply", scope="write:statuses", scope_is_auth=True):
            try:
                self._api.status_delete(status_id)
            except MastodonNotFoundError:
                return

    def replies_by(self, account_id: str, parent_id: str) -> list[str]:
        """Ids of the statuses ``account_id`` posted in reply to ``parent_id`` (from its context)."""
        with _translated(self, "read a thread", scope="read:statuses"):
            context = self._get_json(f"/api/v1/statuses/{quote(parent_id)}/context")
        return [
            str(s["id"])
            for s in json_.get(context, "descendants") or []
            if str(json_.get(json_.get(s, "account"), "id")) == account_id
            and str(json_.get(s, "in_reply_to_id")) == parent_id
        ]

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET through Mastodon.py's request machinery (auth, timeout, rate-limit headers,
        errors) but without its typed-object casting, which cost ~2.5 ms per status: the
        adapter reads plain JSON into the project's own dataclasses anyway. Its public methods
        also cannot pass ``any[]`` or ``include_filtered``."""
        request = getattr(self._api, "_Mastodon__api_request")  # noqa: B009
        response = request("GET", path, params or {}, return_response_object=True)
        try:
            return response.json()
        except ValueError as exc:
            raise MastodonAPIError(f"not JSON from {path}", response.status_code, "", None) from exc

    def post(self, post: Post) -> str:
        """Publish; returns the new status's id. Safe to repeat with the same idempotency key."""
        with _translated(self, "post a reply", scope="write:statuses", scope_is_auth=True):
            data = self._api.status_post(
                post.text,
                in_reply_to_id=post.in_reply_to_id,
                visibility=post.visibility,
                spoiler_text=post.spoiler_text or None,
                language=post.language,
                idempotency_key=post.idempotency_key,
            )
        return str(data["id"])


def _translated(gateway: MastodonGateway, action: str, **how: Any) -> AbstractContextManager[None]:
    """:func:`translated`, with what this gateway heard of the server's rate limit."""
    return translated(
        action, retry_in=gateway._retry_in, busy_for=lambda: gateway._retry_after, **how
    )
