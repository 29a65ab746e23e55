"""The one polling helper: tests wait for an event with a deadline, never a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    """Return as soon as ``condition()`` holds; fail if it does not within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"never got there (waited {timeout:g} s)")
        time.sleep(0.02)
