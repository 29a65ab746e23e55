"""The Mastodon adapter: Mastodon.py built safely, its objects and errors made the project's own.

Built with ``version_check_mode="none"`` (its version detection can loop when
``/api/v1/instance`` fails), ``ratelimit_method="throw"`` (its "wait" can block a thread for
hours) and a request timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import structlog
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from bot import __version__
from bot.errors import AuthError, RateLimitedError, RejectedError, TransientError
from bot.models import VISIBILITIES, Account, Page, Post, ServerLimits, Status, Visibility
from bot.pacing import PAGE_LIMIT, TAGS_PER_REQUEST, RateLimit
from bot.servers import Server, identify

USER_AGENT = f"arxiv-bot/{__version__}"
log = structlog.get_logger()


class MastodonGateway:
    def __init__(self, base_url: str, access_token: str | None, timeout: float = 30.0) -> None:
        self._api = Mastodon(
            api_base_url=base_url,
            access_token=access_token,
            request_timeout=timeout,
            ratelimit_method="throw",
            version_check_mode="none",
            user_agent=USER_AGENT,
        )
        self.base_url = base_url
        self._retry_after: float | None = None
        # Mastodon.py reads only X-RateLimit-* headers; GoToSocial says when to come back
        # with Retry-After on a 429 or 503. Heard here, from every response.
        self._api.session.hooks["response"].append(self._note_retry_after)

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
        with _translated(self, "verify the access token", forbidden_is_auth=True):
            data = self._api.account_verify_credentials()
        return _account(data)

    def server(self) -> tuple[Server, ServerLimits]:
        """Which software the server runs, and its post limits: ``/api/v2/instance``, else
        ``/api/v1/instance`` (``max_toot_chars`` too), else 500. Nodeinfo confirms a version
        that looks like plain Mastodon (snac2 claims one)."""
        data: Any = None
        try:
            with _translated(self, "read the server's instance information"):
                data = self._get_json("/api/v2/instance")
        except RejectedError:  # Akkoma, snac2: no v2
            pass
        if not isinstance(data, Mapping) or "configuration" not in data:
            with _translated(self, "read the server's instance information"):
                data = self._get_json("/api/v1/instance")
        version = str(_get(data, "version") or "")
        name = None if "compatible" in version.lower() else self._nodeinfo_name()
        configuration = _get(data, "configuration")
        feeds = _get(_get(configuration, "timelines_access"), "hashtag_feeds")
        streaming = _get(_get(configuration, "urls"), "streaming") or _get(
            _get(data, "urls"), "streaming_api"
        )
        server = replace(
            identify(version, name),
            streaming_url=str(streaming) if streaming else None,
            hashtag_feeds="disabled"
            if _get(feeds, "local") == "disabled" and _get(feeds, "remote") == "disabled"
            else "public",
        )
        statuses = _get(configuration, "statuses")
        most = _positive(_get(statuses, "max_characters")) or _positive(
            _get(data, "max_toot_chars")
        )
        url = _positive(_get(statuses, "characters_reserved_per_url"))
        limits = ServerLimits(
            max_characters=most or 500,
            characters_reserved_per_url=url or 23,
            counting=server.counting,
        )
        return server, limits

    def app_scopes(self) -> tuple[str, ...] | None:
        """The scopes the token was granted (Mastodon 4.3+ tells the app); None if unknown."""
        try:
            with _translated(self, "read the app's credentials"):
                data = self._api.app_verify_credentials()
        except (RejectedError, TransientError, AuthError):
            return None
        scopes = _get(data, "scopes")
        return tuple(str(s) for s in scopes) if isinstance(scopes, list) else None

    def _nodeinfo_name(self) -> str | None:
        try:
            with _translated(self, "read nodeinfo"):
                info = self._api.instance_nodeinfo()
        except (RejectedError, TransientError, MastodonError):
            return None
        name = _get(_get(info, "software"), "name")
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
        with _translated(self, f"read #{tags[0]}"):
            page = self._get_json("/api/v1/timelines/tag/" + quote(tags[0], safe=""), params)
        items = _items(page)
        statuses = (_status_or_none(item) for item in items)
        return Page(tuple(s for s in statuses if s is not None), _newest_id(items), len(items))

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
        with _translated(self, "read mentions"):
            page = self._get_json("/api/v1/notifications", params)
        items = _items(page)
        statuses = []
        for item in items:
            data = _get(item, "status")
            # Sharkey ignores types[] and snac2 types every post as a mention: only a mention
            # notification with a status is one.
            if _get(item, "type") != "mention" or not data:
                continue
            status = _status_or_none(data)
            if status is not None:
                statuses.append(status)
        return Page(tuple(statuses), _newest_id(items), len(items))

    def status(self, status_id: str) -> Status | None:
        """One status; None when the server sent something unusable. RejectedError (403, 404,
        410) when the bot may not read it: blocked, followers-only, deleted."""
        with _translated(self, "read a status"):
            data = self._get_json(f"/api/v1/statuses/{quote(status_id, safe='')}")
        return _status_or_none(data)

    def thread(self, status_id: str) -> list[Status]:
        """The whole conversation a status belongs to, every branch (the root's context)."""
        with _translated(self, "read a thread"):
            context = self._get_json(f"/api/v1/statuses/{quote(status_id)}/context")
            ancestors = _get(context, "ancestors") or []
            if ancestors:  # a reply: the root's descendants hold the sibling branches too
                root = ancestors[0]
                context = self._get_json(f"/api/v1/statuses/{quote(str(root['id']))}/context")
                ancestors = [root]
        statuses = [*ancestors, *(_get(context, "descendants") or [])]
        return [s for s in map(_status_or_none, statuses) if s is not None]

    def followers_among(self, account_ids: Sequence[str]) -> set[str]:
        """Which of these accounts follow the bot."""
        if not account_ids:
            return set()
        with _translated(self, "read relationships"):
            relationships = self._api.account_relationships(list(account_ids))
        return {str(r["id"]) for r in relationships if _get(r, "followed_by")}

    def delete(self, status_id: str) -> None:
        """Delete one of the bot's statuses; one already gone counts as deleted."""
        with _translated(self, "delete a reply"):
            try:
                self._api.status_delete(status_id)
            except MastodonNotFoundError:
                return

    def replies_by(self, account_id: str, parent_id: str) -> list[str]:
        """Ids of the statuses ``account_id`` posted in reply to ``parent_id`` (from its context)."""
        with _translated(self, "read a thread"):
            context = self._get_json(f"/api/v1/statuses/{quote(parent_id)}/context")
        return [
            str(s["id"])
            for s in _get(context, "descendants") or []
            if str(_get(_get(s, "account"), "id")) == account_id
            and str(_get(s, "in_reply_to_id")) == parent_id
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
        with _translated(self, "post a reply"):
            data = self._api.status_post(
                post.text,
                in_reply_to_id=post.in_reply_to_id,
                visibility=post.visibility,
                spoiler_text=post.spoiler_text or None,
                language=post.language,
                idempotency_key=post.idempotency_key,
            )
        return str(data["id"])


@contextmanager
def _translated(
    gateway: MastodonGateway, action: str, *, forbidden_is_auth: bool = False
) -> Iterator[None]:
    """Mastodon.py's errors as the project's. A 403 is about one post (blocked, followers-only,
    defederated) everywhere but on verifying the bot's own account."""
    try:
        yield
    except MastodonUnauthorizedError as exc:
        raise AuthError(f"the server refused the access token when trying to {action}") from exc
    except MastodonNotFoundError as exc:
        raise RejectedError(f"not found when trying to {action}{_server_says(exc)}", 404) from exc
    except MastodonRatelimitError as exc:
        retry_in = gateway._retry_in()
        raise RateLimitedError(
            f"rate limited when trying to {action}", retry_in if retry_in else None
        ) from exc
    except MastodonServerError as exc:
        if _status(exc) == 503 and gateway._retry_after:
            raise RateLimitedError(
                f"server busy when trying to {action}: 503", gateway._retry_after, status=503
            ) from exc
        raise TransientError(
            f"server error when trying to {action}: {_status(exc)}", _status(exc)
        ) from exc
    except MastodonNetworkError as exc:
        raise TransientError(f"network error when trying to {action}") from exc
    except MastodonAPIError as exc:
        status = _status(exc)
        if status == 403 and forbidden_is_auth:
            raise AuthError(
                f"forbidden when trying to {action}: does the token have the needed scopes?"
            ) from exc
        if status == 429:
            raise RateLimitedError(f"HTTP 429 when trying to {action}") from exc
        if status is not None and (status >= 500 or status in (408, 409)):
            raise TransientError(f"HTTP {status} when trying to {action}", status) from exc
        raise RejectedError(
            f"HTTP {status} when trying to {action}{_server_says(exc)}", status
        ) from exc
    except MastodonError as exc:
        raise TransientError(f"{type(exc).__name__} when trying to {action}") from exc


def _server_says(exc: MastodonError) -> str:
    """The server's own ``error`` text, when it gave one."""
    args = exc.args
    said = args[3] if len(args) > 3 and isinstance(args[3], str) and args[3] else None
    return f": {said}" if said else ""


def _items(page: Any) -> list[Any]:
    """A page's items; anything but a list is an empty page."""
    return page if isinstance(page, list) else []


def _newest_id(items: list[Any]) -> str | None:
    """The first item's id: pages come newest first. Read raw, so an unusable item still
    moves the cursor past it."""
    for item in items:
        item_id = _get(item, "id")
        if item_id is not None:
            return str(item_id)
    return None


def _status(exc: MastodonError) -> int | None:
    args = exc.args
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def _get(data: Any, key: str) -> Any:
    if isinstance(data, Mapping):
        return data.get(key)
    return None


def _account(data: Any) -> Account:
    fields: list[str] = []
    for field in _get(data, "fields") or []:
        fields.extend(str(_get(field, key) or "") for key in ("name", "value"))
    return Account(
        id=str(data["id"]),
        acct=str(data["acct"]),
        bot=bool(_get(data, "bot")),
        note=str(_get(data, "note") or ""),
        fields=tuple(fields),
    )


def _status_or_none(data: Any) -> Status | None:
    """Our Status, or None (logged) when the server sent something unusable."""
    try:
        return _status_from(data)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("status_malformed", status_id=str(_get(data, "id")), error=exc)
        return None


def _status_from(data: Any) -> Status:
    visibility: Visibility = data["visibility"]
    if visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {visibility!r}")
    reblog = _get(data, "reblog")
    card = _get(data, "card")
    card_url = _get(card, "url")
    return Status(
        id=str(data["id"]),
        url=_get(data, "url"),
        account=_account(data["account"]),
        content=str(_get(data, "content") or ""),
        visibility=visibility,
        spoiler_text=str(_get(data, "spoiler_text") or ""),
        language=_get(data, "language"),
        in_reply_to_id=None
        if _get(data, "in_reply_to_id") is None
        else str(data["in_reply_to_id"]),
        card_url=str(card_url) if card_url else None,
        reblog=_status_from(reblog) if reblog else None,
        mention_ids=tuple(
            str(_get(m, "id")) for m in _get(data, "mentions") or [] if _get(m, "id") is not None
        ),
        created_at=_time_or_none(_get(data, "created_at")),
        tags=tuple(
            str(_get(t, "name")).lower() for t in _get(data, "tags") or [] if _get(t, "name")
        ),
    )


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
