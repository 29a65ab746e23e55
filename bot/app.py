"""The composition root: settings in, a running bot out. APScheduler lives here and nowhere else."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import TypeVar

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.arxiv_client import ArxivGateway, RequestGate
from bot.arxiv_ids import may_point_to_a_paper
from bot.config import ReplySettings, Settings
from bot.cycle import Cycle
from bot.errors import AuthError
from bot.llm_client import LlmGateway
from bot.logs import configure_logging
from bot.mastodon_client import MastodonGateway
from bot.mastodon_streams import MastodonStreams
from bot.metrics import Metrics
from bot.models import Status
from bot.pacing import Backoff
from bot.papers import ARXIV_LAST_REQUEST, Papers
from bot.pauses import Pause
from bot.store import Store
from bot.streams import Streams

log = structlog.get_logger()
EXIT_OK, EXIT_FAILED, EXIT_SETTINGS, EXIT_AUTH = 0, 1, 2, 3
STOP_GRACE_SECONDS = 8.0
DOORBELL_GATHER_SECONDS = 0.05
"""After a ring, what else arrives this soon is taken by the same cycle: a burst of streamed
posts costs a few cycles, not one each."""
T = TypeVar("T")


def setup_logging(settings: ReplySettings) -> None:
    configure_logging(level=settings.log_level, fmt=settings.log_format, secrets=settings.secrets)


def build_arxiv(settings: ReplySettings, store: Store) -> ArxivGateway:
    """The arXiv client; the gap between requests also holds across restarts (from the store)."""
    previous = store.meta(ARXIV_LAST_REQUEST)
    gate = RequestGate(settings.arxiv_delay_seconds, previous=float(previous) if previous else None)
    return ArxivGateway(api_url=settings.arxiv_api_url, timeout=settings.arxiv_timeout, gate=gate)


def build_llm(settings: ReplySettings) -> LlmGateway | None:
    if settings.bot_summarizer != "llm" or not settings.llm_base_url or not settings.llm_model:
        return None
    key = settings.llm_api_key
    return LlmGateway(
        settings.llm_base_url,
        settings.llm_model,
        key.get_secret_value() if key is not None else None,
        timeout=settings.llm_timeout,
    )


def build_mastodon(settings: Settings) -> MastodonGateway:
    return MastodonGateway(
        settings.mastodon_base_url, _token(settings), timeout=settings.mastodon_timeout
    )


@dataclass
class Librarian:
    """Papers and the clients behind them: all that ``preview`` needs, and part of the bot."""

    papers: Papers
    store: Store
    arxiv: ArxivGateway
    llm: LlmGateway | None

    def close(self) -> None:
        self.arxiv.close()
        if self.llm is not None:
            self.llm.close()
        self.store.close()


def build_librarian(
    settings: ReplySettings,
    store: Store,
    backoff: Backoff,
    monotonic: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Librarian:
    arxiv = build_arxiv(settings, store)
    llm = build_llm(settings)
    pause = Pause("arxiv", store, backoff, monotonic, now)
    papers = Papers(store, arxiv, pause, llm=llm, now=now)
    return Librarian(papers, store, arxiv, llm)


def build_streams_opener(settings: Settings) -> MastodonStreams:
    return MastodonStreams(
        settings.mastodon_base_url, _token(settings), timeout=settings.mastodon_timeout
    )


def _token(settings: Settings) -> str | None:
    token = settings.mastodon_access_token
    return token.get_secret_value() if token is not None else None


def build_streams(settings: Settings, doorbell: Doorbell) -> Streams:
    def worth_a_look(status: Status) -> bool:
        return may_point_to_a_paper(status.content, status.card_url, bare_ids=settings.bot_bare_ids)

    return Streams(
        build_streams_opener(settings),
        worth_a_look=worth_a_look,
        dead_after=settings.bot_stream_dead_seconds,
        retry_after_refusal=settings.bot_stream_retry_seconds,
        ring=doorbell.ring,
    )


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


@dataclass
class Bot:
    cycle: Cycle
    librarian: Librarian
    mastodon: MastodonGateway
    doorbell: Doorbell
    streams: Streams | None = None

    @property
    def store(self) -> Store:
        return self.librarian.store

    @property
    def arxiv(self) -> ArxivGateway:
        return self.librarian.arxiv

    def close(self) -> None:
        if self.streams is not None:
            self.streams.stop()
        self.mastodon.close()
        self.librarian.close()


@contextmanager
def built(
    settings: Settings,
    stop: threading.Event | None = None,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    monotonic: Callable[[], float] = time.monotonic,
    sweep_on_start: bool = True,
    metrics: Metrics | None = None,
    wait: Callable[[float], object] | None = None,
    streaming: bool = False,
) -> Iterator[Bot]:
    """Everything the running bot needs, built from settings in one place, and closed after.

    Setting ``stop`` makes the cycle end at the next step boundary. ``now`` and ``monotonic``
    are the clocks (tests move them). With ``streaming`` (a running bot, not ``run --once``)
    the live streams are followed as ``BOT_STREAMING`` says.
    """
    stop = stop or threading.Event()
    backoff = Backoff(settings.bot_retry_base_seconds, settings.bot_retry_max_seconds)
    librarian = build_librarian(settings, Store.open(settings.state_path), backoff, monotonic, now)
    mastodon = build_mastodon(settings)
    doorbell = Doorbell()
    streams = build_streams(settings, doorbell) if streaming else None
    cycle = Cycle(
        librarian.store,
        mastodon,
        librarian.papers,
        settings,
        now=now,
        monotonic=monotonic,
        should_stop=stop.is_set,
        sweep_on_start=sweep_on_start,
        metrics=metrics,
        wait=wait or stop.wait,
        streams=streams,
    )
    bot = Bot(cycle, librarian, mastodon, doorbell, streams)
    try:
        yield bot
    finally:
        bot.close()


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
        code, finished = _with_signals(
            stop, lambda: serve(bot.cycle, settings.bot_poll_interval, stop, bot.doorbell)
        )
    if not finished:
        # A request still hanging after the grace time is abandoned: every step is recorded,
        # so that is no worse than a crash.
        sys.stderr.flush()
        os._exit(code)
    return code


def _with_signals(stop: threading.Event, body: Callable[[], T]) -> T:
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
    cycle: Cycle,
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
                    cycle.run_cycle()
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
            if not bell.wait(timeout=0.5) or stop.is_set():
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
