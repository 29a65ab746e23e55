"""The one clock: built once by ``app.py`` and handed to every room that asks the time.

Two readings of it: the wall-clock time (UTC), which is what the state file keeps, and a
monotonic reading in seconds, which deadlines inside one process are measured on. Tests give
the rooms a clock they move by hand, so time passes without anyone rewriting a database row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The wall-clock time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (only differences mean anything)."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


def wall_time(deadline: float, clock: Clock) -> datetime:
    """A monotonic deadline as a wall-clock time, to keep in the state file (a deadline gone
    by is kept as "now")."""
    return clock.now() + timedelta(seconds=max(deadline - clock.monotonic(), 0.0))


def monotonic_deadline(until: datetime, clock: Clock) -> float:
    """A kept wall-clock time as a deadline on this process's monotonic clock; ``-inf`` when
    it has passed."""
    left = (until - clock.now()).total_seconds()
    return clock.monotonic() + left if left > 0 else float("-inf")


Wait = Callable[[float], object]
"""Waits up to so many seconds, and returns early when the bot is asked to stop."""
