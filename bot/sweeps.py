"""Sweeps of recent history: each hashtag timeline read again for posts that arrived late.

Mastodon gives a post from another server an id from its publish time, so one that
federates late sorts behind the live cursor. The live read notes each timeline's cursor
every ``CHECKPOINT_EVERY_SECONDS``; at a running bot's start and every ``BOT_SWEEP_SECONDS``
a sweep pages forward again from the newest checkpoint at least ``BOT_LOOKBACK_HOURS`` old
(a point noted then: ids are never computed), through the same reading loop and intake.
A sweep reads at most ``SWEEP_MAX_PAGES``; where a busy timeline holds more, the next sweep
carries on from there, and a new pass begins once one reached the newest post.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import structlog

from bot.config import Settings
from bot.intake import Decided
from bot.models import Status
from bot.pacing import SWEEP_MAX_PAGES
from bot.sources import HashtagSource, ReadCounts, SweepSource, read_source
from bot.store import Store

LAST_SWEEP = "last_sweep_at"
CHECKPOINT_EVERY_SECONDS = 600
"""How often a timeline's cursor is noted, for sweeps to begin from."""
log = structlog.get_logger()


class Sweeps:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        now: Callable[[], datetime],
        *,
        on_start: bool,
    ) -> None:
        self._store = store
        self._settings = settings
        self._now = now
        self._on_start = on_start
        self._swept_at: float | None = None

    def due(self, monotonic_now: float, slower: float = 1.0) -> bool:
        """At the start of a running bot, then every ``BOT_SWEEP_SECONDS`` (for ``run --once``
        from cron, by the time of the last sweep kept in the state file); ``slower`` times
        less often while live streams deliver late posts as they arrive."""
        every = self._settings.bot_sweep_seconds * slower
        if self._swept_at is not None:
            return monotonic_now - self._swept_at >= every
        if self._on_start:
            return True
        last = self._store.meta(LAST_SWEEP)
        return last is None or (self._now() - datetime.fromisoformat(last)).total_seconds() >= every

    def done(self, monotonic_now: float) -> None:
        self._swept_at = monotonic_now
        self._store.set_meta(LAST_SWEEP, self._now().isoformat())

    def note(self, source: HashtagSource) -> None:
        """Where the live cursor of ``source`` is now, kept at most every few minutes."""
        cursor = self._store.cursor(source.key)
        if cursor is not None:
            self._store.checkpoint(source.key, cursor, self._now(), CHECKPOINT_EVERY_SECONDS)

    def sweep(
        self,
        source: HashtagSource,
        decide: Callable[[bool, Sequence[Status]], Decided],
        should_stop: Callable[[], bool],
    ) -> ReadCounts:
        """Read the last ``BOT_LOOKBACK_HOURS`` of ``source`` again (or the next turn of it)."""
        counts = ReadCounts()
        not_before = self._now() - timedelta(hours=self._settings.bot_lookback_hours)
        progress_key = f"sweep_progress:{source.key}"
        start = self._store.meta(progress_key) or self._store.sweep_start(source.key, not_before)
        if start is None:
            return counts
        try:
            stopped_at = read_source(
                SweepSource(source, not_before),
                self._store,
                decide,
                should_stop,
                counts,
                start=start,
                max_pages=SWEEP_MAX_PAGES,
            )
            if stopped_at is None:
                self._store.delete_meta(progress_key)
            else:
                self._store.set_meta(progress_key, stopped_at)
        finally:
            if counts.queued:
                log.info("late_posts_found", source=source.key, queued=counts.queued)
        return counts
