"""The loop: APScheduler runs a cycle every ``BOT_POLL_INTERVAL`` and at once when the
doorbell rings; SIGTERM and SIGINT end it at the next step boundary. APScheduler lives here
and nowhere else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Protocol, TypeVar

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot import __version__
from bot.app import built
from bot.config import Settings
from bot.doorbell import Doorbell
from bot.errors import AuthError
from bot.models import CycleReport
from bot.ops.metrics import Metrics

log = structlog.get_logger()
EXIT_OK, EXIT_FAILED, EXIT_SETTINGS, EXIT_AUTH = 0, 1, 2, 3
STOP_GRACE_SECONDS = 8.0
DOORBELL_GATHER_SECONDS = 0.05
"""After a ring, what else arrives this soon is taken by the same cycle: a burst of streamed
posts costs a few cycles, not one each."""
T = TypeVar("T")


class Runs(Protocol):
    def run_cycle(self) -> CycleReport: ...


def with_signals(stop: threading.Event, body: Callable[[], T]) -> T:
    """Run ``body`` with SIGTERM and SIGINT setting ``stop``; the old handlers after."""

    def on_signal(signum: int, _: FrameType | None) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return body()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def serve(
    cycle: Runs,
    interval: float,
    stop: threading.Event,
    doorbell: Doorbell | None = None,
    grace: float = STOP_GRACE_SECONDS,
) -> tuple[int, bool]:
    """Run cycles every ``interval`` seconds on the scheduler until ``stop`` is set, and at
    once when the ``doorbell`` rings.

    Returns the exit code, and whether the cycle in progress reached a step boundary within
    ``grace`` seconds of the stop.
    """
    outcome = {"code": EXIT_OK}
    busy = threading.Lock()
    bell = doorbell or Doorbell()

    def job() -> None:
        if stop.is_set():
            return
        try:
            with busy:
                while True:
                    bell.answer()
                    report = cycle.run_cycle()
                    if report.wake_in is not None and report.wake_in < interval:
                        bell.ring_in(report.wake_in)  # a backoff ends before the next cycle
                    if stop.is_set() or not bell.rung():
                        break
                    stop.wait(DOORBELL_GATHER_SECONDS)
        except AuthError as exc:
            log.error("auth_failed", error=exc, hint="check MASTODON_ACCESS_TOKEN and its scopes")
            outcome["code"] = EXIT_AUTH
            stop.set()
        except Exception as exc:  # the job boundary: log, and let the next cycle try again
            log.exception("cycle_failed", error=exc)

    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    scheduler.add_job(job, "interval", seconds=interval, next_run_time=datetime.now(UTC), id="poll")
    scheduler.start()

    def answer_the_door() -> None:
        while not stop.is_set():
            if not bell.wait(timeout=min(0.5, bell.alarm_left())) or stop.is_set():
                continue
            stop.wait(DOORBELL_GATHER_SECONDS)
            if not busy.locked():  # a running cycle goes round again by itself
                with contextlib.suppress(Exception):  # shutting down: nothing left to run
                    scheduler.modify_job("poll", next_run_time=datetime.now(UTC))
            stop.wait(0.2)  # still rung then: the cycle was just ending, so prod again

    door = threading.Thread(target=answer_the_door, name="doorbell", daemon=True)
    door.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        finished = busy.acquire(timeout=grace)
    log.info("stopped", exit_code=outcome["code"], step_finished=finished)
    return outcome["code"], finished


def run(settings: Settings, *, once: bool = False) -> int:
    """Run the bot until SIGTERM/SIGINT (or one cycle); returns the process exit code."""
    stop = threading.Event()
    metrics = None
    if settings.bot_metrics_port is not None and not once:
        metrics = Metrics()
        port = metrics.serve(settings.bot_metrics_host, settings.bot_metrics_port)
        log.info("metrics_serving", host=settings.bot_metrics_host, port=port)
    # From cron, every run is a start: sweep by the time of the last sweep instead.
    with built(settings, stop, sweep_on_start=not once, metrics=metrics, streaming=not once) as bot:
        log.info(
            "starting",
            version=__version__,
            base_url=settings.mastodon_base_url,
            hashtags=list(settings.bot_hashtags),
            poll_interval=settings.bot_poll_interval,
            streaming=settings.bot_streaming if not once else "off",
            dry_run=settings.bot_dry_run,
            state=str(settings.state_path),
        )
        if once:
            try:
                report = bot.cycle.run_cycle()
            except AuthError as exc:
                log.error(
                    "auth_failed", error=exc, hint="check MASTODON_ACCESS_TOKEN and its scopes"
                )
                return EXIT_AUTH
            # For cron: non-zero when anything in the cycle failed (it is retried next time).
            return EXIT_FAILED if report.errors else EXIT_OK
        code, finished = with_signals(
            stop, lambda: serve(bot.cycle, settings.bot_poll_interval, stop, bot.doorbell)
        )
    if not finished:
        # A request still hanging after the grace time is abandoned: every step is recorded,
        # so that is no worse than a crash.
        sys.stderr.flush()
        os._exit(code)
    return code
