"""Leaving a service alone after it failed or throttled us, across restarts: where a 429 or
a 5xx of Mastodon or arXiv ends up.

A :class:`Pause` wraps the pure :class:`~bot.limits.backoff.Backoff` with the state file: when
the service may be asked again is kept as a wall-clock time, so ``run --once`` from cron and a
restart honour a 429's reset or a backoff as the running bot would. A 429 that says when to
come back is waited out until then; any other failure backs off exponentially with jitter. It
logs changes only: one line when a pause starts, one when the service answers again.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot.clock import Clock, monotonic_deadline, wall_time
from bot.errors import BotError, RateLimitedError
from bot.limits.backoff import Backoff
from bot.state.codecs import UnreadableRecord, pause_from_json, pause_to_json
from bot.state.meta import Meta, pause_key

log = structlog.get_logger()


POST_RETRY_FIRST_SECONDS = 5.0
"""A failed post is tried again within seconds (doubling from here to
``BOT_RETRY_MAX_SECONDS``): one post's failure says little about the next."""


@dataclass(frozen=True, slots=True)
class Retry:
    """``BOT_RETRY_BASE_SECONDS`` and ``BOT_RETRY_MAX_SECONDS``."""

    base_seconds: float
    max_seconds: float

    def for_posting(self) -> Retry:
        """Posting backs off on its own, from seconds: a failed post does not stop the
        reading, and a failed read does not stop posting."""
        return Retry(min(self.base_seconds, POST_RETRY_FIRST_SECONDS), self.max_seconds)


class Pause:
    def __init__(self, service: str, meta: Meta, retry: Retry, clock: Clock) -> None:
        self.service = service
        self._key = pause_key(service)
        self._meta = meta
        self._backoff = Backoff(retry.base_seconds, retry.max_seconds)
        self._clock = clock
        self._held = False
        self._load()

    def _load(self) -> None:
        stored = self._meta.get(self._key)
        if stored is None:
            return
        try:
            failures, until, self._held = pause_from_json(stored)
        except UnreadableRecord as exc:
            log.warning("pause_forgotten", service=self.service, reason=str(exc))
            return
        self._backoff.failures = failures
        self._backoff.next_at = monotonic_deadline(until, self._clock)

    def _save(self) -> None:
        until = wall_time(self._backoff.next_at, self._clock)
        self._meta.set(self._key, pause_to_json(self._backoff.failures, until, self._held))

    @property
    def failures(self) -> int:
        return self._backoff.failures

    def ready(self) -> bool:
        return self._backoff.ready(self._clock.monotonic())

    def held_by_the_server(self) -> bool:
        """Paused until a time the server gave (a 429's reset), not one a backoff chose."""
        return self._held and not self.ready()

    def retry_in(self) -> float:
        """Seconds until the service may be asked again (0 when it may now)."""
        return max(self._backoff.next_at - self._clock.monotonic(), 0.0)

    def failed(self, exc: BotError) -> float:
        """The service failed: pause it (as long as it asked, or exponentially); the pause."""
        now = self._clock.monotonic()
        started = self._backoff.failures == 0
        if isinstance(exc, RateLimitedError) and exc.retry_in:
            self._backoff.hold_until(now + exc.retry_in)
            retry_in, self._held = exc.retry_in, True
        else:
            retry_in, self._held = self._backoff.failed(now), False
        self._save()
        if started:
            log.warning(
                "backoff_started", service=self.service, error=exc, retry_in=round(retry_in, 1)
            )
        return retry_in

    def failed_with(self, exc: BotError, event: str, **facts: object) -> float:
        """:meth:`failed`, and the one warning line that says what failed and when it is
        tried again."""
        retry_in = self.failed(exc)
        log.warning(event, error=exc, retry_in=round(retry_in, 1), **facts)
        return retry_in

    def succeeded(self) -> None:
        if self._backoff.failures == 0:
            return
        log.info("backoff_ended", service=self.service, failures=self._backoff.failures)
        self._backoff.succeeded()
        self._held = False
        self._meta.set(self._key, pause_to_json(0, self._clock.now()))
