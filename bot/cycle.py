"""One cycle, in order: the only code that sequences the stations.

    what the live streams brought (reading: the inbox), then, when due, every polled source
    page by page and the sweeps (reading) → each page decided (deciding) and recorded with
    its cursor (state, one step) → the queue worked through (replying: papers, then posts
    exactly once) → reported (the heartbeat for the healthcheck, the metrics)

Every step is recorded before the next begins, so a crash at any point loses nothing: the
queue survives, a reply already posted is not posted again, and a post retried after a crash
carries the same idempotency key. Whatever is backing off (Mastodon after errors or a 429,
arXiv after errors) is skipped until due; the scheduler's later cycles pick it up. Nothing
is built here: ``app.py`` hands the cycle its rooms, and the rooms that depend on who the bot
is (``begin``) once the server has said so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from bot.clients.ports import MastodonPort
from bot.clock import Clock
from bot.errors import BotError, RejectedError, TransientError
from bot.limits.pauses import Pause
from bot.limits.poll_pace import PollPace
from bot.limits.server_info import ServerInfo
from bot.models import CycleReport
from bot.reading.inbox import StreamInbox
from bot.reading.pages import Decide, ReadCounts, read_source
from bot.reading.remote import Remote
from bot.reading.sources import HashtagSource, Source
from bot.reading.streams import Streams
from bot.reading.sweeps import Sweeps
from bot.replying.queue import AnswerQueue
from bot.state import retention
from bot.state.store import Store

PRUNE_EVERY_SECONDS = 24 * 3600
log = structlog.get_logger()


@dataclass
class Rooms:
    """What can be built only once the bot knows who it is and which server it is on."""

    decide: Decide
    queue: AnswerQueue
    polled: Sequence[Source]
    streamed: Sequence[Source] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Upkeep:
    """``BOT_RETENTION_DAYS`` and ``BOT_STREAM_POLL_FACTOR``."""

    retention_days: float
    stream_factor: int


class Cycle:
    def __init__(
        self,
        *,
        begin: Callable[[], Rooms],
        store: Store,
        mastodon: MastodonPort,
        pause: Pause,
        server: ServerInfo,
        pace: PollPace,
        sweeps: Sweeps,
        upkeep: Upkeep,
        clock: Clock,
        should_stop: Callable[[], bool],
        report_to: Callable[[CycleReport], None],
        waits_on: Sequence[Pause] = (),
        streams: Streams | None = None,
        inbox: StreamInbox | None = None,
        remote: Remote | None = None,
    ) -> None:
        self._begin = begin
        self._store = store
        self._mastodon = mastodon
        self._pause = pause
        self._server = server
        self._pace = pace
        self._sweeps = sweeps
        self._upkeep = upkeep
        self._clock = clock
        self._should_stop = should_stop
        self._streams = streams
        self._inbox = inbox
        self._remote = remote
        self._report_to = report_to
        self._waits_on = (pause, *waits_on)
        self._rooms: Rooms | None = None
        self._start_failed = False
        self._pruned_at: float | None = None

    def start(self) -> None:
        """Learn who the bot is and what the server allows, and have the rooms built that
        need it. Called by the first cycle if not before; a failure is retried next cycle."""
        if self._rooms is None:
            self._rooms = self._begin()

    def run_cycle(self) -> CycleReport:
        """Read the sources when due, then work through the queue. AuthError propagates."""
        started = time.perf_counter()
        report = CycleReport()
        self._prune_now_and_then()
        self._run(report)
        pending = [left for left in (p.retry_in() for p in self._waits_on) if left > 0]
        report.wake_in = min(pending) if pending else None
        did_something = report.seen or report.posts or report.dropped or report.errors
        (log.info if did_something else log.debug)(
            "cycle",
            seen=report.seen,
            queued=report.queued,
            skipped=report.skipped,
            replied=report.replied,
            posts=report.posts,
            waiting=report.waiting,
            dropped=report.dropped,
            arxiv_requests=report.arxiv_requests,
            swept=report.swept,
            found_remote=report.found_remote,
            resolved=report.resolved,
            errors=len(report.errors),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        self._report_to(report)  # the heartbeat and the metrics
        return report

    def _run(self, report: CycleReport) -> None:
        reading = self._pause.ready()
        if not reading:
            # Waiting out a 429 or a backoff is no failure of this cycle; its start was logged.
            # Posting has a pause of its own: what is queued goes on being answered.
            log.debug("mastodon_paused", retry_in=round(self._pause.retry_in(), 1))
        # A start (who am I, what does the server allow) is tried once even while the
        # timelines back off after an error, so that the queue can be answered; not while
        # the server itself said to wait (a 429), and not again after it failed.
        may_start = reading or not (self._pause.held_by_the_server() or self._start_failed)
        if self._rooms is None and may_start:
            try:
                self.start()
                self._pause.succeeded()
            except TransientError as exc:  # Mastodon down at start: the next cycle retries
                self._start_failed = True
                self._failed(exc, "start_failed", report, "start")
        rooms = self._rooms
        if rooms is None:
            return
        if reading:
            self._server.refresh_if_due()
            self._read(rooms.streamed, rooms.decide, report, "stream")
            catching_up = self._inbox is not None and self._inbox.take_catch_up()
            streaming = self._streams is not None and self._streams.healthy()
            if self._pace.due(catching_up=catching_up, streams_healthy=streaming):
                self._poll(rooms, report, streaming)
            if self._remote is not None:  # on their own pace, whatever home's streams do
                self._remote.read(report)
                self._resolve(self._remote, rooms, report)
        rooms.queue.work(report)

    def _poll(self, rooms: Rooms, report: CycleReport, streaming: bool) -> None:
        sweeping = self._sweeps.due(self._upkeep.stream_factor if streaming else 1.0)
        if not self._read(rooms.polled, rooms.decide, report, "poll", sweeping=sweeping):
            return
        if sweeping and self._remote is not None:
            self._remote.sweep(report)
        if sweeping:
            self._sweeps.done()
        self._pace.polled(self._mastodon.rate_limit(), len(rooms.polled))

    def _resolve(self, remote: Remote, rooms: Rooms, report: CycleReport) -> None:
        """The posts found elsewhere, looked up on the bot's own server and decided; a
        failure of the bot's own server pauses its reading, as a failed poll does."""
        try:
            remote.resolve(rooms.decide, report)
        except TransientError as exc:
            self._failed(exc, "resolve_failed", report, "resolve")

    def _read(
        self,
        sources: Sequence[Source],
        decide: Decide,
        report: CycleReport,
        what: str,
        *,
        sweeping: bool = False,
    ) -> bool:
        """Read each source (and sweep each hashtag timeline when ``sweeping``); False when
        Mastodon failed (it is left alone for a while, and the rest waits)."""
        record = self._store.record_page
        for source in sources:
            if self._should_stop():
                return False
            counts = ReadCounts()
            try:
                read_source(source, self._store.cursors, decide, record, self._should_stop, counts)
                if what == "poll":  # the server answered: a backoff starts afresh
                    self._pause.succeeded()
                if isinstance(source, HashtagSource):
                    self._sweeps.note(source)
                    if sweeping:
                        swept = self._sweeps.sweep(source, decide, record, self._should_stop)
                        report.swept += swept.seen
                        report.queued += swept.queued
            except TransientError as exc:  # what a stream brought is found again by polls
                event = "poll_failed" if what == "poll" else "stream_intake_failed"
                self._failed(exc, event, report, what, source=source.key)
                return False
            except RejectedError as exc:  # e.g. a server without this endpoint: skip it
                report.errors.append(f"{what}:{type(exc).__name__}")
                report.api_error("mastodon", exc)
                log.warning("poll_refused", source=source.key, error=exc)
            finally:
                self._count(report, counts, source)
        return True

    @staticmethod
    def _count(report: CycleReport, counts: ReadCounts, source: Source) -> None:
        report.seen += counts.seen
        report.queued += counts.queued
        report.skipped += counts.skipped
        if source.read == "stream":
            report.streamed += counts.seen
        for _ in range(counts.backlog_full):
            report.drop("backlog_full")

    def _failed(
        self, exc: BotError, event: str, report: CycleReport, what: str, **facts: object
    ) -> None:
        report.errors.append(f"{what}:{type(exc).__name__}")
        report.api_error("mastodon", exc)
        self._pause.failed_with(exc, event, **facts)

    def _prune_now_and_then(self) -> None:
        now = self._clock.monotonic()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        cutoff = self._clock.now() - timedelta(days=self._upkeep.retention_days)
        removed = retention.prune(self._store.db, cutoff)
        if any(removed.values()):
            log.info("state_pruned", older_than=cutoff.isoformat(), **removed)
