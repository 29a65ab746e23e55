"""The doorbell: rung by a stream when something arrived, so the cycle runs now.

APScheduler skips a run of a job that is still running, so a ring is a flag that the running
cycle reads when it ends (and goes round once more), plus a prod to the scheduler when no
cycle is running.
"""

from __future__ import annotations

import threading


class Doorbell:
    """Rung by a stream when something arrived: the cycle should run now, not at its hour.

    APScheduler skips a run of a job that is still running, so a ring is a flag that the
    running cycle reads when it ends (and goes round once more), plus a prod to the
    scheduler when no cycle is running.
    """

    def __init__(self) -> None:
        self._rung = threading.Event()

    def ring(self) -> None:
        self._rung.set()

    def answer(self) -> None:
        """A cycle begins: it will take whatever rang."""
        self._rung.clear()

    def rung(self) -> bool:
        return self._rung.is_set()

    def wait(self, timeout: float) -> bool:
        return self._rung.wait(timeout)
