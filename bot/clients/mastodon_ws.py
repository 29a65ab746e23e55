"""The WebSocket stream adapter: the Mastodon streaming API at ``/api/v1/streaming``, many
streams on one connection, through the ``websockets`` library's threaded client.

``websockets`` because it is the well-kept, strict implementation of RFC 6455 for Python:
a blocking client that fits the stream threads of :mod:`bot.reading.streams`, a ``recv``
with a timeout, pings that report their pong, refusals that carry the HTTP status, closes
that carry their code, and no dependencies of its own.

The token goes as ``Sec-WebSocket-Protocol`` (Mastodon, GoToSocial, Akkoma and Pleroma all
read it there, and it stays out of URLs and access logs). The first stream is named in the
query (GoToSocial and Pleroma need one there), the others by ``subscribe`` messages. Each
message names its stream and carries its payload as a JSON string, read by the same
converters as the polls. The connection is alive while something comes, a message or the
pong to a ping sent when it has been quiet: silence past ``BOT_STREAM_DEAD_SECONDS`` is a
dead connection. A refusal before the upgrade, or a close with a policy code, is a
:class:`StreamRefused`; every other failure a :class:`TransientError`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import structlog
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    WebSocketException,
)
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bot import __version__
from bot.clients import mastodon_json as json_
from bot.clients.ports import StreamEvents
from bot.errors import StreamRefused, TransientError
from bot.models import StreamChannel, StreamSpec

log = structlog.get_logger()
REFUSALS = frozenset({400, 401, 403, 404, 405, 410, 426, 501})
"""An upgrade answered so means no stream here for this token; 429 and 5xx are passing."""
POLICY_CLOSES = range(4000, 5000)
"""Close codes a server uses for "not for you" (with 1008, policy violation)."""
USER_AGENT = f"arxiv-bot/{__version__}"


class WebSocketStreams:
    """Opens WebSockets with one token, where each channel says; a connection per attempt."""

    def __init__(self, access_token: str | None, timeout: float = 15.0) -> None:
        self._token = access_token
        self._timeout = timeout

    def open(self, channel: StreamChannel) -> WebSocketConnection:
        if channel.url is None:
            raise ValueError("a WebSocket channel needs its URL")
        return WebSocketConnection(channel.url, self._token, self._timeout, channel)

    def close(self) -> None:
        """Nothing is kept between connections."""


def subscription(spec: StreamSpec) -> dict[str, str]:
    return {"stream": spec.kind, **({"tag": spec.tag} if spec.tag else {})}


class WebSocketConnection:
    def __init__(self, url: str, token: str | None, timeout: float, channel: StreamChannel) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout
        self._channel = channel
        self._ws: ClientConnection | None = None
        self._lock = threading.Lock()
        self._interrupted = False

    def run(self, events: StreamEvents, read_timeout: float) -> None:
        """Read until the stream ends (returns) or fails (TransientError, StreamRefused)."""
        first, *rest = self._channel.specs
        try:
            with self._connect(first) as ws:
                self._hold(ws)
                self._guarded("connected", events.connected)
                for spec in rest:
                    ws.send(json.dumps({"type": "subscribe", **subscription(spec)}))
                self._read(ws, events, read_timeout)
        except InvalidStatus as exc:
            status = exc.response.status_code
            said = _server_says(exc.response.body)
            if status in REFUSALS:
                raise StreamRefused(status, said or exc.response.reason_phrase) from exc
            raise TransientError(f"stream {self._channel.name}: HTTP {status} {said}") from exc
        except ConnectionClosed as exc:
            if self._interrupted:
                return
            code = exc.rcvd.code if exc.rcvd is not None else None
            reason = exc.rcvd.reason if exc.rcvd is not None else "cut without a close frame"
            if code is not None and (code == 1008 or code in POLICY_CLOSES):
                raise StreamRefused(code, reason or "closed by the server") from exc
            raise TransientError(f"stream {self._channel.name}: closed ({code}) {reason}") from exc
        except (InvalidHandshake, WebSocketException, OSError) as exc:
            if self._interrupted:
                return
            raise TransientError(
                f"stream {self._channel.name}: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            with self._lock:
                self._ws = None

    def _connect(self, first: StreamSpec) -> ClientConnection:
        """The connection, as a context manager (the handshake may happen on entering)."""
        return connect(
            f"{self._url}?{urlencode(subscription(first))}",
            subprotocols=[Subprotocol(self._token)] if self._token else None,
            open_timeout=self._timeout,
            close_timeout=1,
            ping_interval=None,  # our own pings, paced by the dead-connection time
            max_size=2**23,
            user_agent_header=USER_AGENT,
            proxy=None,
        )

    def _hold(self, ws: ClientConnection) -> None:
        """Keep the open connection where :meth:`interrupt` finds it."""
        with self._lock:
            self._ws = ws
            interrupted = self._interrupted
        if interrupted:
            ws.close()

    def _read(self, ws: ClientConnection, events: StreamEvents, dead_after: float) -> None:
        heard = time.monotonic()
        pong: threading.Event | None = None
        step = min(1.0, dead_after / 4)
        while True:
            try:
                message = ws.recv(timeout=step)
            except TimeoutError:
                message = None
            now = time.monotonic()
            if message is not None:
                heard, pong = now, None
                self._guarded("message", functools.partial(self._deliver, message, events))
            elif pong is not None and pong.is_set():
                heard, pong = now, None
                self._guarded("pong", events.alive)
            quiet = now - heard
            if quiet >= dead_after:
                raise TransientError(
                    f"stream {self._channel.name}: no heartbeat or event for {quiet:.0f} s"
                )
            if pong is None and quiet >= dead_after / 2:
                pong = ws.ping()

    def _guarded(self, kind: str, action: Callable[[], object]) -> None:
        """Nothing a handler does may end the connection: it is logged, and reading goes on."""
        try:
            action()
        except Exception as exc:  # noqa: BLE001 -- a bug past this point must not end the stream
            with contextlib.suppress(Exception):  # not even a logging failure may escape
                log.error("stream_event_failed", stream=self._channel.name, kind=kind, error=exc)

    def _deliver(self, message: str | bytes, events: StreamEvents) -> None:
        """One message into the events; one that does not parse is logged and skipped."""
        events.alive()
        try:
            data: Any = json.loads(message)
            payload = json_.get(data, "payload")
            if isinstance(payload, str) and payload[:1] in ("{", "["):
                payload = json.loads(payload)
        except ValueError:
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            log.warning(
                "stream_event_failed",
                stream=self._channel.name,
                kind="message",
                error=f"not JSON: {text[:80]!r}",
            )
            return
        if json_.get(data, "error"):
            log.warning(
                "stream_subscription_refused", stream=self._channel.name, error=str(data["error"])
            )
            return
        event = json_.get(data, "event")
        stream = json_.get(data, "stream") or []
        named = stream[0] if isinstance(stream, list) and stream else ""
        if event == "update" and named not in ("user", "direct"):  # not the home feed
            status = json_.status_or_none(payload)
            if status is not None:
                events.status(status)
        elif event == "notification":
            mention = json_.mention_of(payload)
            if mention is not None:
                events.mention(mention)

    def interrupt(self) -> None:
        """End a read that is blocked now (SIGTERM), from another thread."""
        with self._lock:
            self._interrupted = True
            ws = self._ws
        if ws is not None:
            with contextlib.suppress(OSError):
                ws.socket.shutdown(socket.SHUT_RDWR)


def _server_says(body: bytes | bytearray | None) -> str:
    """The server's error text for a refused upgrade (``{"error": …}``), if it gave one."""
    if not body:
        return ""
    try:
        return str(json_.get(json.loads(body), "error") or "")
    except ValueError:
        return body[:80].decode("utf-8", "replace")
