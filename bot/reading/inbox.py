"""What the live streams brought, kept for the cycle: a source like any other.

The stream threads put statuses here and ring the doorbell; the cycle reads the inbox through
two :class:`StreamedSource` (mentions, and hashtag posts) with the same loop and intake as a
poll, so a status decided before (by a poll, or on another stream) is not decided again. The
inbox keeps no cursor: polling stays the record. It also holds the streams' requests for a
catch-up poll (after a connect, or when a burst overflowed it).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator

import structlog

from bot.models import Page, Status
from bot.reading.sources import Read

INBOX_LIMIT = 1_000
"""Streamed statuses kept for the cycle. Past it (a burst faster than the cycle can decide)
the oldest go and a catch-up poll is due: the timeline still has them."""
STREAMED = "stream"
"""The key streamed statuses are recorded under (they move no cursor)."""
log = structlog.get_logger()


class StreamInbox:
    """Thread-safe: filled by the stream threads, emptied by the cycle."""

    def __init__(self, limit: int = INBOX_LIMIT) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._items: deque[tuple[bool, Status]] = deque(maxlen=limit)
        self._passed_over = 0
        self._catch_up = False
        self._overflowing = False

    def put(self, status: Status, *, mention: bool) -> None:
        with self._lock:
            overflow = len(self._items) == self._limit
            self._items.append((mention, status))
            first_overflow = overflow and not self._overflowing
            if overflow:
                self._catch_up = self._overflowing = True
        if first_overflow:
            log.warning("stream_inbox_full", limit=self._limit, then="a catch-up poll")

    def pass_over(self) -> None:
        """A streamed hashtag post that points to no paper: seen, decided on the spot."""
        with self._lock:
            self._passed_over += 1

    def ask_catch_up(self) -> None:
        with self._lock:
            self._catch_up = True

    def take_catch_up(self) -> bool:
        """Whether a stream (re)connected or the inbox overflowed since the last call."""
        with self._lock:
            due, self._catch_up = self._catch_up, False
        return due

    def waiting(self) -> tuple[int, int, bool]:
        """How many statuses wait, how many were passed over, whether a catch-up is due."""
        with self._lock:
            return len(self._items), self._passed_over, self._catch_up

    def take(self, *, mentions: bool) -> tuple[list[Status], int]:
        """The mentions (or hashtag posts) streamed since the last take, oldest first, each
        once (a post under two watched tags comes twice); and, with the posts, how many were
        passed over."""
        with self._lock:
            taken = [s for m, s in self._items if m == mentions]
            kept = [(m, s) for m, s in self._items if m != mentions]
            self._items.clear()
            self._items.extend(kept)
            if not self._items:
                self._overflowing = False
            passed_over = 0
            if not mentions:
                passed_over, self._passed_over = self._passed_over, 0
        once: dict[str, Status] = {}
        for status in taken:
            once.setdefault(status.id, status)
        return list(once.values()), passed_over


class StreamedSource:
    """The statuses of one kind the streams brought, as one page without a cursor."""

    read: Read = "stream"
    keeps_cursor = False
    key = STREAMED

    def __init__(self, inbox: StreamInbox, *, mentions: bool) -> None:
        self._inbox = inbox
        self.mentions = mentions

    def newest(self) -> str | None:
        return None

    def pages(self, cursor: str | None) -> Iterator[Page]:
        statuses, passed_over = self._inbox.take(mentions=self.mentions)
        if statuses or passed_over:
            yield Page(tuple(reversed(statuses)), None, len(statuses) + passed_over)
