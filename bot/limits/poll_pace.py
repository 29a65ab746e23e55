"""When the cycle polls: the scheduler's pace, a stretched one, or a slower one beside streams.

Three things set it. Mastodon's paged-request budget: when the rate-limit headers say the
polls would run out, the gap is stretched (kept in the state file, so a restart honours it).
The live streams: while every stream is healthy, polls come ``BOT_STREAM_POLL_FACTOR`` times
less often. And a stream's (re)connect: then a poll is due at once, to catch up on what the
stream missed while it was down.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot.clock import Clock, monotonic_deadline, wall_time
from bot.limits.budget import RateLimit, stretched_gap
from bot.state.codecs import UnreadableRecord, resume_from_json, resume_to_json
from bot.state.meta import POLL_RESUME, Meta

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Pacing:
    """``BOT_POLL_INTERVAL`` and ``BOT_STREAM_POLL_FACTOR``."""

    interval: float
    stream_factor: int


class PollPace:
    def __init__(self, meta: Meta, pacing: Pacing, clock: Clock) -> None:
        self._meta = meta
        self._pacing = pacing
        self._clock = clock
        self._next_at = self._stored_resume()
        self._polled_at: float | None = None

    def due(self, *, catching_up: bool = False, streams_healthy: bool = False) -> bool:
        """Due at the scheduler's pace (or a stretched one); at once when a stream just
        (re)connected; and only every ``BOT_STREAM_POLL_FACTOR`` intervals while every
        stream is healthy."""
        now = self._clock.monotonic()
        due = now >= self._next_at
        if catching_up and due:
            log.info("catch_up_poll")
            return True
        if due and streams_healthy and self._polled_at is not None:
            interval = self._pacing.interval
            slower = interval * self._pacing.stream_factor - interval / 2
            return now - self._polled_at >= slower
        return due

    def polled(self, rate_limit: RateLimit | None, sources: int) -> None:
        """A poll of ``sources`` ended: stretch the next one if the budget needs it."""
        now = self._clock.monotonic()
        self._polled_at = now
        interval = self._pacing.interval
        gap = stretched_gap(rate_limit, sources, interval)
        stretched = self._next_at > float("-inf")
        if gap > interval:
            # Due half an interval before the gap ends, so scheduler jitter costs no cycle.
            self._next_at = now + gap - interval / 2
            if not stretched:
                log.warning("polling_stretched", gap_seconds=round(gap, 1), interval=interval)
        elif stretched:
            self._next_at = float("-inf")  # the scheduler's interval is the pace again
            log.info("polling_restored", interval=interval)
        else:
            return  # nothing changed: nothing to keep
        self._meta.set(POLL_RESUME, resume_to_json(wall_time(self._next_at, self._clock)))

    def _stored_resume(self) -> float:
        """When polling may resume after a stretch, as a previous run left it."""
        stored = self._meta.get(POLL_RESUME)
        try:
            at = resume_from_json(stored) if stored is not None else None
        except UnreadableRecord:
            at = None
        return float("-inf") if at is None else monotonic_deadline(at, self._clock)
