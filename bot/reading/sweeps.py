"""Sweeps of recent history: each hashtag timeline read again for posts that arrived late.

Mastodon gives a post from another server an id from its publish time, so one that
federates late sorts behind the live cursor. The live read notes each timeline's cursor
every ``CHECKPOINT_EVERY_SECONDS``; at a running bot's start and every ``BOT_SWEEP_SECONDS``
a sweep pages forward again from the newest checkpoint at least ``BOT_LOOKBACK_HOURS`` old
(a point noted then: ids are never computed), through the same reading loop and intake,
where a post decided before is not decided again. A sweep reads at most
``SWEEP_MAX_PAGES``; where a busy timeline holds more, the next sweep carries on from there,
and a new pass begins once one reached the newest post.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from bot.clock import Clock
from bot.limits.budget import SWEEP_MAX_PAGES
from bot.models import Page
from bot.reading.pages import Decide, ReadCounts, Record, read_source
from bot.reading.sources import HashtagSource, Read, forward
from bot.state.cursors import Cursors
from bot.state.meta import LAST_SWEEP, Meta, sweep_progress_key

CHECKPOINT_EVERY_SECONDS = 600
"""How often a timeline's cursor is noted, for sweeps to begin from."""
log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Lookback:
    """``BOT_SWEEP_SECONDS`` and ``BOT_LOOKBACK_HOURS``."""

    sweep_seconds: float
    hours: float


class SweepSource:
    """A hashtag timeline read again from a checkpoint, less what was published before the
    lookback (left alone). It keeps no cursor."""

    mentions = False
    read: Read = "sweep"
    keeps_cursor = False

    def __init__(self, live: HashtagSource, not_before: datetime) -> None:
        self._live = live
        self._not_before = not_before
        self.key = "sweep:" + live.key

    def newest(self) -> str | None:
        return self._live.newest()

    def page(self, cursor: str, limit: int) -> Page:
        page = self._live.page(cursor, limit)
        recent = tuple(
            s for s in page.statuses if s.created_at is None or s.created_at >= self._not_before
        )
        return Page(recent, page.cursor, page.size)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return forward(self.page, cursor or "0")


class Sweeps:
    def __init__(
        self, cursors: Cursors, meta: Meta, lookback: Lookback, clock: Clock, *, on_start: bool
    ) -> None:
        self._cursors = cursors
        self._meta = meta
        self._lookback = lookback
        self._clock = clock
        self._on_start = on_start
        self._swept_at: float | None = None

    def due(self, slower: float = 1.0) -> bool:
        """At the start of a running bot, then every ``BOT_SWEEP_SECONDS`` (for ``run --once``
        from cron, by the time of the last sweep kept in the state file); ``slower`` times
        less often while live streams deliver late posts as they arrive."""
        every = self._lookback.sweep_seconds * slower
        if self._swept_at is not None:
            return self._clock.monotonic() - self._swept_at >= every
        if self._on_start:
            return True
        last = self._meta.get(LAST_SWEEP)
        if last is None:
            return True
        return (self._clock.now() - datetime.fromisoformat(last)).total_seconds() >= every

    def done(self) -> None:
        self._swept_at = self._clock.monotonic()
        self._meta.set(LAST_SWEEP, self._clock.now().isoformat())

    def note(self, source: HashtagSource) -> None:
        """Where the live cursor of ``source`` is now, kept at most every few minutes."""
        cursor = self._cursors.get(source.key)
        if cursor is not None:
            self._cursors.checkpoint(source.key, cursor, CHECKPOINT_EVERY_SECONDS)

    def sweep(
        self,
        source: HashtagSource,
        decide: Decide,
        record: Record,
        should_stop: Callable[[], bool],
    ) -> ReadCounts:
        """Read the last ``BOT_LOOKBACK_HOURS`` of ``source`` again (or the next turn of it)."""
        counts = ReadCounts()
        not_before = self._clock.now() - timedelta(hours=self._lookback.hours)
        progress_key = sweep_progress_key(source.key)
        start = self._meta.get(progress_key) or self._cursors.sweep_start(source.key, not_before)
        if start is None:
            return counts
        try:
            stopped_at = read_source(
                SweepSource(source, not_before),
                self._cursors,
                decide,
                record,
                should_stop,
                counts,
                start=start,
                max_pages=SWEEP_MAX_PAGES,
            )
            if stopped_at is None:
                self._meta.delete(progress_key)
            else:
                self._meta.set(progress_key, stopped_at)
        finally:
            if counts.queued:
                log.info("late_posts_found", source=source.key, queued=counts.queued)
        return counts
