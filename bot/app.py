"""The composition root: settings in, a running bot out. APScheduler lives here and nowhere else."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.arxiv_client import ArxivGateway, RequestGate
from bot.config import ReplySettings, Settings
from bot.engine import Engine, EngineConfig, tag_groups
from bot.errors import AuthError
from bot.llm_client import LlmGateway
from bot.logs import configure_logging
from bot.mastodon_client import MastodonGateway
from bot.pacing import budget_warning
from bot.store import Store

log = structlog.get_logger()
EXIT_OK, EXIT_FAILED, EXIT_SETTINGS, EXIT_AUTH = 0, 1, 2, 3
STOP_GRACE_SECONDS = 8.0
ARXIV_LAST_REQUEST = "arxiv_last_request"


def setup_logging(settings: ReplySettings) -> None:
    configure_logging(level=settings.log_level, fmt=settings.log_format, secrets=settings.secrets)


def build_arxiv(settings: ReplySettings, store: Store | None = None) -> ArxivGateway:
    """The arXiv client; with a store, the gap between requests also holds across restarts."""
    previous = store.meta(ARXIV_LAST_REQUEST) if store is not None else None
    gate = RequestGate(
        settings.arxiv_delay_seconds,
        previous=float(previous) if previous else None,
        on_request=(lambda at: store.set_meta(ARXIV_LAST_REQUEST, repr(at))) if store else None,
    )
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
    token = settings.mastodon_access_token
    return MastodonGateway(
        settings.mastodon_base_url,
        token.get_secret_value() if token is not None else None,
        timeout=settings.mastodon_timeout,
    )


def engine_config(settings: Settings) -> EngineConfig:
    """The engine's part of the settings."""
    return EngineConfig(
        tag_groups=tag_groups(settings.bot_hashtags),
        reply_visibility=settings.bot_reply_visibility,
        max_papers_per_post=settings.bot_max_papers_per_post,
        dry_run=settings.bot_dry_run,
        pending_hours=settings.bot_pending_hours,
        bare_ids=settings.bot_bare_ids,
        reply_mode=settings.bot_reply_mode,
        poll_interval=settings.bot_poll_interval,
        retry_base_seconds=settings.bot_retry_base_seconds,
        retry_max_seconds=settings.bot_retry_max_seconds,
        retention_days=settings.bot_retention_days,
        verify_account=settings.mastodon_access_token is not None,
        mentions=settings.mastodon_access_token is not None,
        hashtag_policy=settings.bot_hashtag_policy,
        max_replies_per_thread=settings.bot_max_replies_per_thread,
        rate_per_account=settings.bot_rate_per_account,
    )


@dataclass
class Bot:
    engine: Engine
    store: Store
    mastodon: MastodonGateway
    arxiv: ArxivGateway
    llm: LlmGateway | None

    def close(self) -> None:
        self.mastodon.close()
        self.arxiv.close()
        if self.llm is not None:
            self.llm.close()
        self.store.close()


@contextmanager
def built(settings: Settings, stop: threading.Event | None = None) -> Iterator[Bot]:
    """Everything the running bot needs, built from settings in one place, and closed after.

    Setting ``stop`` makes the engine end its cycle at the next step boundary.
    """
    stop = stop or threading.Event()
    store = Store.open(settings.state_path)
    bot = Bot(
        engine=Engine(
            store,
            mastodon := build_mastodon(settings),
            arxiv := build_arxiv(settings, store),
            engine_config(settings),
            should_stop=stop.is_set,
            llm=(llm := build_llm(settings)),
        ),
        store=store,
        mastodon=mastodon,
        arxiv=arxiv,
        llm=llm,
    )
    try:
        yield bot
    finally:
        bot.close()


def run(settings: Settings, *, once: bool = False) -> int:
    """Run the bot until SIGTERM/SIGINT (or one cycle); returns the process exit code."""
    stop = threading.Event()
    with built(settings, stop) as bot:
        log.info(
            "starting",
            base_url=settings.mastodon_base_url,
            hashtags=list(settings.bot_hashtags),
            poll_interval=settings.bot_poll_interval,
            dry_run=settings.bot_dry_run,
            state=str(settings.state_path),
        )
        warning = budget_warning(
            settings.bot_poll_interval,
            len(settings.bot_hashtags),
            mentions=settings.mastodon_access_token is not None,
        )
        if warning is not None:
            log.warning("request_budget", message=warning)
        if once:
            try:
                report = bot.engine.run_cycle()
            except AuthError as exc:
                log.error(
                    "auth_failed", error=exc, hint="check MASTODON_ACCESS_TOKEN and its scopes"
                )
                return EXIT_AUTH
            # For cron: non-zero when anything in the cycle failed (it is retried next time).
            return EXIT_FAILED if report.errors else EXIT_OK
        return _loop(bot.engine, settings.bot_poll_interval, stop)


def _loop(engine: Engine, interval: float, stop: threading.Event) -> int:
    outcome = {"code": EXIT_OK}
    busy = threading.Lock()

    def cycle() -> None:
        if stop.is_set():
            return
        try:
            with busy:
                engine.run_cycle()
        except AuthError as exc:
            log.error("auth_failed", error=exc, hint="check MASTODON_ACCESS_TOKEN and its scopes")
            outcome["code"] = EXIT_AUTH
            stop.set()
        except Exception as exc:  # the job boundary: log, and let the next cycle try again
            log.exception("cycle_failed", error=exc)

    def on_signal(signum: int, _: FrameType | None) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    scheduler.add_job(
        cycle, "interval", seconds=interval, next_run_time=datetime.now(UTC), id="poll"
    )
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        # The engine stops at its next step boundary; a request still hanging after the grace
        # time is abandoned: every step is recorded, so that is no worse than a crash.
        finished = busy.acquire(timeout=STOP_GRACE_SECONDS)
        for s, handler in previous.items():
            signal.signal(s, handler)
    log.info("stopped", exit_code=outcome["code"], step_finished=finished)
    if not finished:
        sys.stderr.flush()
        os._exit(outcome["code"])
    return outcome["code"]


def healthy(settings: Settings, now: datetime | None = None) -> tuple[bool, str]:
    """Whether the last good cycle is recent: within three poll intervals (at least 60 s)."""
    if not settings.state_path.exists():
        return False, f"no state at {settings.state_path}"
    store = Store.open(settings.state_path)
    try:
        last = store.meta("last_good_cycle")
    finally:
        store.close()
    if last is None:
        return False, "no cycle has completed yet"
    age = (now or datetime.now(UTC)) - datetime.fromisoformat(last)
    allowed = timedelta(seconds=max(3 * settings.bot_poll_interval, 60))
    if age > allowed:
        return (
            False,
            f"last good cycle {age.total_seconds():.0f} s ago (allowed {allowed.total_seconds():.0f} s)",
        )
    return True, f"last good cycle {age.total_seconds():.0f} s ago"
