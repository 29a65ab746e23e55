"""Mastodon.py's errors as the project's own (:mod:`bot.errors`), for every REST call: what
is the token's fault, what is one post's, what is passing, and what the server said."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mastodon import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from bot.errors import AuthError, RateLimitedError, RejectedError, TransientError


@contextmanager
def translated(
    action: str,
    *,
    retry_in: Callable[[], float | None],
    busy_for: Callable[[], float | None],
    scope: str | None = None,
    forbidden_is_auth: bool = False,
    scope_is_auth: bool = False,
) -> Iterator[None]:
    """Mastodon.py's errors as the project's. A 403 is about one post (blocked, followers-only,
    defederated) everywhere but on verifying the bot's own account, and but where the server
    says the token lacks a scope for posting (then nothing can be posted: the token is as
    good as refused). A refusal for scope names the ``scope`` the action needs. ``retry_in``:
    when the rate limit resets, from its headers; ``busy_for``: the last ``Retry-After``."""
    try:
        yield
    except MastodonUnauthorizedError as exc:
        raise AuthError(f"the server refused the access token when trying to {action}") from exc
    except MastodonNotFoundError as exc:
        raise RejectedError(f"not found when trying to {action}{_server_says(exc)}", 404) from exc
    except MastodonRatelimitError as exc:
        reset = retry_in()
        raise RateLimitedError(
            f"rate limited when trying to {action}", reset if reset else None
        ) from exc
    except MastodonServerError as exc:
        busy = busy_for()
        if _status(exc) == 503 and busy:
            raise RateLimitedError(
                f"server busy when trying to {action}: 503", busy, status=503
            ) from exc
        raise TransientError(
            f"server error when trying to {action}: {_status(exc)}", _status(exc)
        ) from exc
    except MastodonNetworkError as exc:
        raise TransientError(f"network error when trying to {action}") from exc
    except MastodonAPIError as exc:
        status = _status(exc)
        said = _server_says(exc)
        lacks_scope = status == 403 and "scope" in said.lower()
        if status == 403 and (forbidden_is_auth or (lacks_scope and scope_is_auth)):
            raise AuthError(f"forbidden when trying to {action}{said}{_grant(scope)}") from exc
        if lacks_scope:
            raise RejectedError(
                f"forbidden when trying to {action}{said}{_grant(scope)}", 403
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


def _grant(scope: str | None) -> str:
    """What to grant the token instead, for a refused ``scope``."""
    if scope is None:
        return ""
    broad = scope.split(":")[0]
    return (
        f" (the token needs {scope}; on a server without granular scopes, such as Takahē, "
        f"grant {broad} instead: read write covers the bot)"
    )


def _server_says(exc: MastodonError) -> str:
    """The server's own ``error`` text, when it gave one."""
    args = exc.args
    said = args[3] if len(args) > 3 and isinstance(args[3], str) and args[3] else None
    return f": {said}" if said else ""


def _status(exc: MastodonError) -> int | None:
    args = exc.args
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None
