"""The streaming API, as server-sent events and over WebSocket, for the fake
(``FACTS-streaming.md``; GoToSocial's ``internal/api/client/streaming/stream.go``).

What the real streaming servers do, including the unpleasant parts: every stream needs a
token (Mastodon 4.2+), a ``:)`` comment on an SSE connect and a ``:thump`` every 15 s; over
WebSocket one connection carries several streams (``{"type": "subscribe", ...}``), each
message names its stream and carries its payload as a JSON string, and the server pings
every 30 s; ``update`` events for new public posts under a hashtag (GoToSocial sends none:
its hashtag posts come on ``public``), ``notification`` events on the user streams (not for
a notification the 4.3 policy filters), events lost for good while a client is disconnected
(no ids, no resume), connections that stay open while nothing flows.

Test controls: drop every connection, refuse new ones, go silent with or without
heartbeats (and pongs), close a WebSocket with a code right after the upgrade, cut what is
sent into small pieces.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from tests.fakes import websocket as ws
from tests.fakes.http import Response

HEARTBEAT_SECONDS = 15.0
PING_SECONDS = 30.0


@dataclass
class Event:
    streams: tuple[str, ...]
    """The streams it is published on (``user`` and ``user:notification`` both carry a
    notification); a subscriber gets it once."""
    name: str
    payload: Any = None
    raw: bytes | None = None
    """Sent as it is instead (a garbled event)."""


@dataclass
class Subscriber:
    streams: set[str]
    """``user``, ``user:notification``, ``public``, ``hashtag:<tag>`` (lower case)."""
    transport: str
    events: queue.Queue[Event] = field(default_factory=queue.Queue)
    ended: threading.Event = field(default_factory=threading.Event)

    def first_of(self, streams: Sequence[str]) -> str | None:
        return next((s for s in streams if s in self.streams), None)

    def next_event(self) -> Event | None:
        """The next event within 10 ms, if one came; what came for a connection that has
        ended is lost with it."""
        try:
            event = self.events.get(timeout=0.01)
        except queue.Empty:
            return None
        return None if self.ended.is_set() else event


class StreamHub:
    def __init__(self) -> None:
        self.heartbeat = HEARTBEAT_SECONDS
        self.ping_every = PING_SECONDS
        self.refusal: tuple[int, str] | None = None
        """Answer new connections with this (status, error) instead of a stream."""
        self.silent = False
        """Connections stay open, events are dropped (a broken Redis link): heartbeats go on."""
        self.heartbeats = True
        """False: no heartbeats, no pings, no pongs (a connection dead somewhere on the way)."""
        self.close_with: tuple[int, str] | None = None
        """WebSocket: close with this (code, reason) right after the upgrade (a policy close)."""
        self.hashtag_events = True
        """False: hashtag subscriptions are taken but nothing is ever sent on them
        (GoToSocial: its API documents the stream, its source never sends it)."""
        self.echo_protocol = True
        """Echo the token given as ``Sec-WebSocket-Protocol`` (Mastodon's ws library does;
        GoToSocial's upgrader offers no subprotocols, so it does not)."""
        self.connects: list[str] = []
        self.pings_heard = 0
        """Pings the clients sent over their WebSockets."""
        self.chunk_size: int | None = None
        """Cut what is sent into pieces this small (proxies and TCP split events anywhere)."""
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._closed = threading.Event()

    @property
    def open_streams(self) -> list[str]:
        with self._lock:
            live = [s for s in self._subscribers if not s.ended.is_set()]
            return [name for s in live for name in sorted(s.streams)]

    def wait_for_streams(self, names: set[str], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not names <= set(self.open_streams):
            if time.monotonic() > deadline:
                raise AssertionError(f"streams {names} not open: {self.open_streams}")
            time.sleep(0.01)

    def websockets(self) -> int:
        """WebSocket connections open now."""
        with self._lock:
            return sum(
                1 for s in self._subscribers if s.transport == "websocket" and not s.ended.is_set()
            )

    def drop(self) -> None:
        """End every open connection abruptly, as a restart of the streaming server does."""
        with self._lock:
            for subscriber in self._subscribers:
                subscriber.ended.set()

    def close(self) -> None:
        self._closed.set()
        self.drop()

    def publish(self, streams: str | Sequence[str], event: str, payload: Any) -> None:
        """Send to every open subscriber of one of ``streams`` now; nobody connected, nobody
        gets it."""
        self._put(Event((streams,) if isinstance(streams, str) else tuple(streams), event, payload))

    def publish_raw(self, stream: str, data: bytes) -> None:
        self._put(Event((stream,), "", raw=data))

    def _put(self, event: Event) -> None:
        with self._lock:
            targets = [
                s
                for s in self._subscribers
                if s.first_of(event.streams) is not None and not s.ended.is_set()
            ]
        for subscriber in targets:
            if not self.hashtag_events and all(x.startswith("hashtag:") for x in event.streams):
                continue
            subscriber.events.put(event)

    def _join(self, subscriber: Subscriber, name: str) -> None:
        with self._lock:
            self._subscribers.append(subscriber)
            self.connects.append(name)

    def _leave(self, subscriber: Subscriber) -> None:
        subscriber.ended.set()
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    # --- server-sent events ---------------------------------------------------------------

    def serve(self, stream: str) -> Response:
        """One SSE connection for one stream."""
        if self.refusal is not None:
            status, error = self.refusal
            return Response.json({"error": error}, status)
        subscriber = Subscriber({stream}, "sse")
        self._join(subscriber, stream)
        return Response(200, content_type="text/event-stream", stream=self._sse_feed(subscriber))

    def _sse(self, write: Callable[[bytes], bool], data: bytes) -> bool:
        size = self.chunk_size or len(data)
        return all(write(data[i : i + size]) for i in range(0, len(data), size))

    def _sse_feed(self, subscriber: Subscriber) -> Callable[[Callable[[bytes], bool]], bool]:
        def feed(write: Callable[[bytes], bool]) -> bool:
            try:
                if not write(b":)\n"):
                    return False
                beat = time.monotonic()
                while not subscriber.ended.is_set() and not self._closed.is_set():
                    event = subscriber.next_event()
                    if event is not None and not self.silent:
                        data = event.raw or (
                            f"event: {event.name}\ndata: {json.dumps(event.payload)}\n\n".encode()
                        )
                        if not self._sse(write, data):
                            return False
                    if self.heartbeats and time.monotonic() - beat >= self.heartbeat:
                        beat = time.monotonic()
                        if not write(b":thump\n"):
                            return False
                return False  # dropped, not ended cleanly
            finally:
                self._leave(subscriber)

        return feed

    # --- WebSocket --------------------------------------------------------------------------

    def serve_websocket(
        self,
        key: str,
        first: str | None,
        protocol: str | None,
        subscribe: Callable[[dict[str, Any]], str | None],
    ) -> Response:
        """The upgrade of one WebSocket connection that starts on the ``first`` stream (from
        the query) and takes ``subscribe`` messages: ``subscribe`` turns one into a stream
        name (None: an unknown stream)."""
        if self.refusal is not None:
            status, error = self.refusal
            return Response.json({"error": error}, status)
        headers = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Accept": ws.accept(key),
        }
        if protocol and self.echo_protocol:
            headers["Sec-WebSocket-Protocol"] = protocol.split(",")[0].strip()
        subscriber = Subscriber({first} if first else set(), "websocket")
        self._join(subscriber, first or "websocket")

        def speak(sock: socket.socket, reader: BinaryIO) -> None:
            try:
                self._ws_session(sock, reader, subscriber, subscribe)
            finally:
                self._leave(subscriber)

        return Response(101, headers=headers, upgrade=speak)

    def _ws_session(
        self,
        sock: socket.socket,
        reader: BinaryIO,
        subscriber: Subscriber,
        subscribe: Callable[[dict[str, Any]], str | None],
    ) -> None:
        write = ws.Writer(sock, lambda: self.chunk_size)
        if self.close_with is not None:
            code, reason = self.close_with
            write(ws.close_frame(code, reason))
            return
        outbox: queue.Queue[bytes] = queue.Queue()

        def read() -> None:  # the client's frames: subscriptions, pings, pongs, close
            while not subscriber.ended.is_set():
                try:
                    got = ws.read_frame(reader)
                except (OSError, ValueError):
                    got = None
                if got is None:
                    break
                opcode, data = got
                if opcode == ws.CLOSE:
                    outbox.put(ws.frame(ws.CLOSE, data[:2]))
                    break
                if opcode == ws.PING:
                    self.pings_heard += 1
                    if self.heartbeats:
                        outbox.put(ws.frame(ws.PONG, data))
                elif opcode == ws.TEXT:
                    self._ws_control(data, subscriber, subscribe, outbox)
            subscriber.ended.set()

        threading.Thread(target=read, daemon=True).start()
        ping = time.monotonic()
        while not subscriber.ended.is_set() and not self._closed.is_set():
            with contextlib.suppress(queue.Empty):
                while True:
                    if not write(outbox.get_nowait()):
                        return
            event = subscriber.next_event()
            if event is not None and not self.silent:
                name = subscriber.first_of(event.streams) or event.streams[0]
                if event.raw is not None:
                    message = event.raw
                else:
                    message = json.dumps(
                        {"stream": name.split(":", 1) if name.startswith("hashtag:") else [name],
                         "event": event.name, "payload": json.dumps(event.payload)}
                    ).encode()  # fmt: skip
                if not write(ws.frame(ws.TEXT, message)):
                    return
            if self.heartbeats and time.monotonic() - ping >= self.ping_every:
                ping = time.monotonic()
                if not write(ws.frame(ws.PING, b"")):
                    return
        # dropped: the socket is cut without a close frame, as a dying server does
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _ws_control(
        self,
        data: bytes,
        subscriber: Subscriber,
        subscribe: Callable[[dict[str, Any]], str | None],
        outbox: queue.Queue[bytes],
    ) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("type") not in ("subscribe", "unsubscribe"):
            return
        name = subscribe(message)
        if name == "":
            return  # not read by this server
        if name is None:
            error = {"error": "Unknown stream type", "status": 400}
            outbox.put(ws.frame(ws.TEXT, json.dumps(error).encode()))
            return
        with self._lock:
            if message["type"] == "subscribe":
                subscriber.streams.add(name)
                self.connects.append(name)
            else:
                subscriber.streams.discard(name)
