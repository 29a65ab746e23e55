"""The Mastodon streaming adapter: one server-sent-events stream through Mastodon.py.

Mastodon.py's own asynchronous handle retries a refused connect forever without a word, and
an exception in a listener ends its thread for good (``../shared/FACTS-streaming.md``). So
each stream is run here in Mastodon.py's blocking mode, inside a thread and a loop that
:mod:`bot.streams` owns: a refusal comes back as :class:`StreamRefused` with the server's
status, a drop as :class:`TransientError`, and every listener callback catches everything.
Each stream has its own ``Mastodon`` client (so its own HTTP session, never shared across
threads), which finds the streaming host from the instance information itself.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

import requests
import structlog
from mastodon import Mastodon, MastodonError, MastodonNetworkError, StreamListener

from bot.errors import StreamRefused, TransientError
from bot.mastodon_client import USER_AGENT, _get, _status_or_none
from bot.models import StreamSpec
from bot.ports import StreamEvents

log = structlog.get_logger()
REFUSALS = frozenset({400, 401, 403, 404, 405, 410, 501})
"""A connect answered so means no stream here for this token; 429 and 5xx are passing."""


class MastodonStreams:
    """Opens streams on one server with one token; a connection per stream and attempt."""

    def __init__(self, base_url: str, access_token: str | None, timeout: float = 15.0) -> None:
        self._base_url = base_url
        self._token = access_token
        self._timeout = timeout
        self._clients: dict[str, Mastodon] = {}

    def open(self, spec: StreamSpec) -> MastodonStreamConnection:
        # One client per stream, used only by that stream's thread: its session stays there,
        # and its cached instance information (the streaming host) is read once.
        client = self._clients.get(spec.name)
        if client is None:
            client = Mastodon(
                api_base_url=self._base_url,
                access_token=self._token,
                request_timeout=self._timeout,
                ratelimit_method="throw",
                version_check_mode="none",
                user_agent=USER_AGENT,
            )
            self._clients[spec.name] = client
        return MastodonStreamConnection(client, spec)

    def close(self) -> None:
        for client in self._clients.values():
            client.session.close()


class MastodonStreamConnection:
    def __init__(self, client: Mastodon, spec: StreamSpec) -> None:
        self._client = client
        self._spec = spec
        self._response: requests.Response | None = None
        self._status: int | None = None
        self._reason = ""
        client.session.hooks["response"] = [self._note_status]

    def _note_status(self, response: Any, *_: Any, **__: Any) -> None:
        if "/api/v1/streaming" in str(getattr(response, "url", "")):
            self._status = response.status_code
            self._reason = _body_error(response)

    def run(self, events: StreamEvents, read_timeout: float) -> None:
        """Read the stream until it ends; hand each event to ``events``. Blocks.

        Raises StreamRefused when the server answers the connect with an error status, and
        TransientError when the connection fails or drops; returns when the server ends the
        stream cleanly.
        """
        listener = _Listener(self, events)
        try:
            if self._spec.kind == "user":
                self._client.stream_user(listener, run_async=False, timeout=read_timeout)
            else:
                assert self._spec.tag is not None
                self._client.stream_hashtag(
                    self._spec.tag, listener, run_async=False, timeout=read_timeout
                )
        except MastodonNetworkError as exc:
            if self._response is None and self._status in REFUSALS:
                raise StreamRefused(self._status, self._reason or str(exc)) from exc
            quiet = time.monotonic() - listener.heard_at
            if self._response is not None and quiet >= read_timeout * 0.9:
                # requests reports a read timeout on a stream as a connection error
                message = f"no heartbeat or event for {quiet:.0f} s"
                raise TransientError(f"stream {self._spec.name}: {message}") from exc
            raise TransientError(f"stream {self._spec.name}: {exc}") from exc
        except (MastodonError, requests.RequestException, OSError, ValueError) as exc:
            raise TransientError(f"stream {self._spec.name}: {type(exc).__name__}: {exc}") from exc

    def interrupt(self) -> None:
        """End a read that is blocked on the socket now, rather than at the next heartbeat:
        ``Response.close`` alone does not wake a reading thread."""
        response = self._response
        if response is None:
            return
        sock = _socket_of(response)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            response.close()


def _socket_of(response: requests.Response) -> socket.socket | None:
    # urllib3 keeps the connection on the raw response; http.client's file wraps the socket.
    raw = getattr(response, "raw", None)
    for path in (("_connection", "sock"), ("_fp", "fp", "raw", "_sock")):
        node: Any = raw
        for name in path:
            node = getattr(node, name, None)
        if isinstance(node, socket.socket):
            return node
    return None


def _body_error(response: Any) -> str:
    """The server's error text for a refused stream (Mastodon sends ``{"error": …}``)."""
    if response.status_code == 200:
        return ""
    try:
        return str(_get(response.json(), "error") or response.reason)
    except ValueError:
        return str(response.reason)


class _Listener(StreamListener):
    """Turns Mastodon.py's callbacks into the project's events. Never raises: an exception
    here would end the stream's thread inside Mastodon.py."""

    def __init__(self, connection: MastodonStreamConnection, events: StreamEvents) -> None:
        super().__init__()
        self._connection = connection
        self._events = events
        self.heard_at = time.monotonic()

    def handle_stream(self, response: Any) -> None:
        self._connection._response = response
        self.heard_at = time.monotonic()
        self._guarded("connected", self._events.connected)
        super().handle_stream(response)  # type: ignore[no-untyped-call]  # Mastodon.py leaves it untyped

    def handle_heartbeat(self) -> None:
        self.heard_at = time.monotonic()
        self._guarded("heartbeat", self._events.alive)

    def on_any_event(self, name: str, data: Any = None, for_stream: Any = None) -> None:
        self.heard_at = time.monotonic()
        self._guarded(name, self._events.alive)

    def on_update(self, status: Any) -> None:
        if self._connection._spec.kind == "user":
            return  # the home feed's posts: not requests (mentions come as notifications)

        def deliver() -> None:
            converted = _status_or_none(status)
            if converted is not None:
                self._events.status(converted)

        self._guarded("update", deliver)

    def on_notification(self, notification: Any) -> None:
        def deliver() -> None:
            data = _get(notification, "status")
            if _get(notification, "type") != "mention" or not data:
                return
            converted = _status_or_none(data)
            if converted is not None:
                self._events.mention(converted)

        self._guarded("notification", deliver)

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        pass  # new event kinds are not ours to read; the stream goes on

    def _guarded(self, kind: str, action: Any) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 -- an exception here would end the stream for good
            with contextlib.suppress(Exception):  # not even a logging failure may escape
                log.error(
                    "stream_event_failed", stream=self._connection._spec.name, kind=kind, error=exc
                )
