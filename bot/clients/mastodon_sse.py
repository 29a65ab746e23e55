"""The server-sent-events stream adapter: one Mastodon stream through Mastodon.py.

Mastodon.py's own asynchronous handle retries a refused connect forever without a word, and
an exception in a listener ends its thread for good (``../shared/FACTS-streaming.md``). So
each stream is run here in Mastodon.py's blocking mode, inside a thread and a loop that
:mod:`bot.reading.streams` owns: a refusal comes back as :class:`StreamRefused` with the server's
status, a drop as :class:`TransientError`, and every listener callback catches everything.
Each stream has its own ``Mastodon`` client (so its own HTTP session, never shared across
threads), which finds the streaming host from the instance information and connects; the
events themselves are read here, a chunk at a time, into the same converters the polls use.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import Any

import requests
import structlog
from mastodon import (
    Mastodon,
    MastodonError,
    MastodonNetworkError,
    StreamListener,
)
from mastodon.errors import MastodonReadTimeout

from bot.clients import mastodon_json as json_
from bot.clients.mastodon_rest import USER_AGENT
from bot.clients.ports import StreamEvents
from bot.errors import StreamRefused, TransientError
from bot.models import StreamChannel, StreamSpec

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

    def open(self, channel: StreamChannel) -> MastodonStreamConnection:
        """A connection for the channel's one stream (server-sent events carry one each)."""
        [spec] = channel.specs
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
            if self._spec.mentions:
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
        return str(json_.get(response.json(), "error") or response.reason)
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
        """Read the server-sent events a chunk at a time and hand ``update`` and
        ``notification`` payloads to the project's converters as plain JSON.

        Mastodon.py's own loop reads a byte at a time and casts every payload into its typed
        objects (about 1.1 ms of CPU per status, against 0.013 ms for the converters the
        polls use), so only the connection is its; an event that does not parse is logged
        and skipped, not a reason to drop the connection.
        """
        self._connection._response = response
        self.heard_at = time.monotonic()
        self._guarded("connected", self._events.connected)
        name, data = "", []
        pending = b""
        try:
            for chunk in response.iter_content(chunk_size=None):
                *lines, pending = (pending + chunk).split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", errors="replace")
                    if line.startswith(":"):
                        self.handle_heartbeat()
                    elif line:
                        field, _, value = line.partition(":")
                        value = value.removeprefix(" ")
                        if field == "event":
                            name = value
                        elif field == "data":
                            data.append(value)
                    elif name or data:
                        self._event(name, "\n".join(data))
                        name, data = "", []
        except requests.exceptions.ChunkedEncodingError as exc:
            raise MastodonNetworkError("Server ceased communication.") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise MastodonReadTimeout("Timed out while reading from server.") from exc
        except requests.exceptions.ConnectionError as exc:
            raise MastodonNetworkError("Requests reports connection error.") from exc

    def _event(self, name: str, data: str) -> None:
        self.heard_at = time.monotonic()
        self._guarded(name or "unnamed", self._events.alive)
        if name not in ("update", "notification"):
            return  # edits, deletions, filters, announcements: not the bot's business
        try:
            payload = json.loads(data)
        except ValueError:
            with contextlib.suppress(Exception):
                log.warning(
                    "stream_event_failed",
                    stream=self._connection._spec.name,
                    kind=name,
                    error=f"not JSON: {data[:80]!r}",
                )
            return
        if name == "update":
            self.on_update(payload)
        else:
            self.on_notification(payload)

    def handle_heartbeat(self) -> None:
        self.heard_at = time.monotonic()
        self._guarded("heartbeat", self._events.alive)

    def on_update(self, status: Any) -> None:
        if self._connection._spec.mentions:
            return  # the home feed's posts: not requests (mentions come as notifications)

        def deliver() -> None:
            converted = json_.status_or_none(status)
            if converted is not None:
                self._events.status(converted)

        self._guarded("update", deliver)

    def on_notification(self, notification: Any) -> None:
        def deliver() -> None:
            converted = json_.mention_of(notification)
            if converted is not None:
                self._events.mention(converted)

        self._guarded("notification", deliver)

    def _guarded(self, kind: str, action: Any) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 -- an exception here would end the stream for good
            with contextlib.suppress(Exception):  # not even a logging failure may escape
                log.error(
                    "stream_event_failed", stream=self._connection._spec.name, kind=kind, error=exc
                )
