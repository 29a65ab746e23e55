"""Mastodon's streaming API as server-sent events, for the fake (``FACTS-streaming.md``).

What the real streaming server does, including the unpleasant parts: every stream needs a
token (4.2+), a ``:)`` comment on connect and a ``:thump`` heartbeat every 15 s, ``update``
events for new public posts under a hashtag, ``notification`` events on the user stream
(not for a notification the 4.3 policy filters), events lost for good while a client is
disconnected (no ids, no resume), and connections that stay open while nothing flows.
Test controls: drop every connection, refuse new ones, go silent with or without heartbeats.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http import Response

HEARTBEAT_SECONDS = 15.0


@dataclass
class Subscriber:
    stream: str
    """``user`` or ``hashtag:<tag>`` (lower case)."""
    events: queue.Queue[bytes] = field(default_factory=queue.Queue)
    ended: threading.Event = field(default_factory=threading.Event)


class StreamHub:
    def __init__(self) -> None:
        self.heartbeat = HEARTBEAT_SECONDS
        self.refusal: tuple[int, str] | None = None
        """Answer new connections with this (status, error) instead of a stream."""
        self.silent = False
        """Connections stay open, events are dropped (a broken Redis link): heartbeats go on."""
        self.heartbeats = True
        """False: not even heartbeats (a connection dead somewhere on the way)."""
        self.connects: list[str] = []
        self.chunk_size: int | None = None
        """Cut what is sent into pieces this small (proxies and TCP split events anywhere)."""
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._closed = threading.Event()

    @property
    def open_streams(self) -> list[str]:
        with self._lock:
            return [s.stream for s in self._subscribers if not s.ended.is_set()]

    def wait_for_streams(self, names: set[str], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not names <= set(self.open_streams):
            if time.monotonic() > deadline:
                raise AssertionError(f"streams {names} not open: {self.open_streams}")
            time.sleep(0.01)

    def drop(self) -> None:
        """End every open connection abruptly, as a restart of the streaming server does."""
        with self._lock:
            for subscriber in self._subscribers:
                subscriber.ended.set()

    def close(self) -> None:
        self._closed.set()
        self.drop()

    def publish(self, stream: str, event: str, payload: dict[str, Any]) -> None:
        """Send to every open subscriber of ``stream`` now; nobody connected, nobody gets it."""
        self.publish_raw(stream, f"event: {event}\ndata: {json.dumps(payload)}\n\n".encode())

    def publish_raw(self, stream: str, data: bytes) -> None:
        with self._lock:
            targets = [s for s in self._subscribers if s.stream == stream and not s.ended.is_set()]
        for subscriber in targets:
            subscriber.events.put(data)

    def serve(self, stream: str) -> Response:
        if self.refusal is not None:
            status, error = self.refusal
            return Response.json({"error": error}, status)
        subscriber = Subscriber(stream)
        with self._lock:
            self._subscribers.append(subscriber)
            self.connects.append(stream)
        return Response(200, content_type="text/event-stream", stream=self._feed(subscriber))

    def _send(self, write: Callable[[bytes], bool], data: bytes) -> bool:
        size = self.chunk_size or len(data)
        return all(write(data[i : i + size]) for i in range(0, len(data), size))

    def _feed(self, subscriber: Subscriber) -> Callable[[Callable[[bytes], bool]], bool]:
        def feed(write: Callable[[bytes], bool]) -> bool:
            try:
                if not write(b":)\n"):
                    return False
                beat = time.monotonic()
                while not subscriber.ended.is_set() and not self._closed.is_set():
                    try:
                        data = subscriber.events.get(timeout=0.01)
                    except queue.Empty:
                        data = None
                    if subscriber.ended.is_set():
                        break  # what came for a dropped connection is lost with it
                    if data is not None and not self.silent and not self._send(write, data):
                        return False
                    if self.heartbeats and time.monotonic() - beat >= self.heartbeat:
                        beat = time.monotonic()
                        if not write(b":thump\n"):
                            return False
                return False  # dropped, not ended cleanly
            finally:
                subscriber.ended.set()
                with self._lock:
                    self._subscribers.remove(subscriber)

        return feed
