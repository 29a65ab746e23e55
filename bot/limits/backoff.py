"""Exponential backoff with full jitter and a cap, on a clock the caller reads (pure)."""

from __future__ import annotations

import random


class Backoff:
    """Exponential backoff with full jitter and a cap, on an injected clock.

    ``failed(now)`` returns the delay chosen; ``ready(now)`` says whether the next attempt is
    due; ``succeeded()`` resets it; ``hold_until(when)`` honours a server's explicit reset time.
    """

    def __init__(self, base: float, cap: float, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = max(cap, base)
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not secrets
        self.failures = 0
        self.next_at = float("-inf")

    def ready(self, now: float) -> bool:
        return now >= self.next_at

    def failed(self, now: float) -> float:
        self.failures += 1
        ceiling = min(self.cap, self.base * 2.0 ** (self.failures - 1))
        delay = ceiling * (0.5 + self._rng.random() / 2)
        self.next_at = now + delay
        return delay

    def hold_until(self, when: float) -> None:
        self.failures += 1
        self.next_at = max(self.next_at, when)

    def succeeded(self) -> None:
        self.failures = 0
        self.next_at = float("-inf")
