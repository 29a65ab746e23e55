"""The doorbell: rung by a stream when something arrived, so the cycle runs now.

APScheduler skips a run of a job that is still running, so a ring is a flag that the running
cycle reads when it ends (and goes round once more), plus a prod to the scheduler when no
cycle is running.
"""

from __future__ import annotations

import threading
import time


class Doorbell:
    """Rung by a stream when something arrived: the cycle should run now, not at its hour.

    APScheduler skips a run of a job that is still running, so a ring is a flag that the
    running cycle reads when it ends (and goes round once more), plus a prod to the
    scheduler when no cycle is running.
    """

    def __init__(self) -> None:
        self._rung = threading.Event()
        self._lock = threading.Lock()
        self._alarm = float("inf")

    def ring(self) -> None:
        self._rung.set()

    def ring_in(self, seconds: float) -> None:
        """Ring by itself that many seconds from now (the earliest of such alarms holds)."""
        with self._lock:
            self._alarm = min(self._alarm, time.monotonic() + max(seconds, 0.0))

    def alarm_left(self) -> float:
        """Seconds until the alarm; it rings, and is spent, when they are up."""
        with self._lock:
            left = self._alarm - time.monotonic()
            if left > 0:
                return left
            if self._alarm < float("inf"):
                self._alarm = float("inf")
                self._rung.set()
            return float("inf")

    def answer(self) -> None:
        """A cycle begins: it will take whatever rang."""
        self._rung.clear()

    def rung(self) -> bool:
        return self._rung.is_set()

    def wait(self, timeout: float) -> bool:
        return self._rung.wait(timeout)
