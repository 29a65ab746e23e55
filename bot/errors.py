"""The project's own exceptions: adapters translate every library error into one of these."""


class BotError(Exception):
    """Base of the project's errors."""


class TransientError(BotError):
    """Worth trying again later: network trouble, 5xx, throttling, a timeout. ``status`` is
    the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimitedError(TransientError):
    """The server asked us to slow down; ``retry_in`` is when it said we may again, if it did."""

    def __init__(self, message: str, retry_in: float | None = None, status: int = 429) -> None:
        super().__init__(message, status)
        self.retry_in = retry_in


class RejectedError(BotError):
    """The server refused this one request for good (404, 422, a malformed id...)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(BotError):
    """The access token is missing, wrong or lacks a scope: nothing will work until fixed."""


class StateError(BotError):
    """The state database cannot be opened or used."""


class StreamRefused(BotError):
    """The server answered a stream's connect with an error status (404: no such stream
    here, 401: a token is needed): not worth retrying soon."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
