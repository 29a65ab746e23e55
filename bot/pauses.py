"""Leaving a service alone after it failed or throttled us, across restarts.

A :class:`Pause` wraps the pure :class:`~bot.pacing.Backoff` with the state file: when the
service may be asked again is kept as a wall-clock time, so ``run --once`` from cron and a
restart honour a 429's reset or a backoff as the running bot would. It logs changes only:
one line when a pause starts, one when the service answers again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from bot.errors import BotError, RateLimitedError
from bot.pacing import Backoff
from bot.records import UnreadableRecord, pause_from_json, pause_to_json
from bot.store import Store

log = structlog.get_logger()


def wall_time(
    deadline: float, monotonic: Callable[[], float], now: Callable[[], datetime]
) -> datetime:
    """A monotonic deadline as a wall-clock time, to keep in the state file (never in the past
    of ``now``: a deadline gone by is kept as "now")."""
    return now() + timedelta(seconds=max(deadline - monotonic(), 0.0))


def monotonic_deadline(
    until: datetime, monotonic: Callable[[], float], now: Callable[[], datetime]
) -> float:
    """A kept wall-clock time as a deadline on this process's monotonic clock; ``-inf`` when it
    has passed."""
    left = (until - now()).total_seconds()
    return monotonic() + left if left > 0 else float("-inf")


class Pause:
    def __init__(
        self,
        service: str,
        store: Store,
        backoff: Backoff,
        monotonic: Callable[[], float],
        now: Callable[[], datetime],
    ) -> None:
        self.service = service
        self._key = f"pause:{service}"
        self._store = store
        self._backoff = backoff
        self._monotonic = monotonic
        self._now = now
        self._load()

    def _load(self) -> None:
        stored = self._store.meta(self._key)
        if stored is None:
            return
        try:
            failures, until = pause_from_json(stored)
        except UnreadableRecord as exc:
            log.warning("pause_forgotten", service=self.service, reason=str(exc))
            return
        self._backoff.failures = failures
        self._backoff.next_at = monotonic_deadline(until, self._monotonic, self._now)

    def _save(self) -> None:
        until = wall_time(self._backoff.next_at, self._monotonic, self._now)
        self._store.set_meta(self._key, pause_to_json(self._backoff.failures, until))

    @property
    def failures(self) -> int:
        return self._backoff.failures

    def ready(self) -> bool:
        return self._backoff.ready(self._monotonic())

    def retry_in(self) -> float:
        """Seconds until the service may be asked again (0 when it may now)."""
        return max(self._backoff.next_at - self._monotonic(), 0.0)

    def failed(self, exc: BotError) -> float:
        """The service failed: pause it (as long as it asked, or exponentially); the pause."""
        now = self._monotonic()
        started = self._backoff.failures == 0
        if isinstance(exc, RateLimitedError) and exc.retry_in:
            self._backoff.hold_until(now + exc.retry_in)
            retry_in = exc.retry_in
        else:
            retry_in = self._backoff.failed(now)
        self._save()
        if started:
            log.warning(
                "backoff_started", service=self.service, error=exc, retry_in=round(retry_in, 1)
            )
        return retry_in

    def succeeded(self) -> None:
        if self._backoff.failures == 0:
            return
        log.info("backoff_ended", service=self.service, failures=self._backoff.failures)
        self._backoff.succeeded()
        self._store.set_meta(self._key, pause_to_json(0, self._now()))
