"""One cycle, in order; the only code that sequences I/O.

    take what the live streams brought (streams), then, when due, read every source page by
    page (sources) → decide each page's requests (intake)
    → queue them and move the cursor (store, one step)
    → papers for everything queued (papers: cache, then one batched arXiv request)
    → post each request's replies exactly once (posting) → mark it done

Every step is recorded before the next begins, so a crash at any point loses nothing: the
queue survives, a reply already posted is not posted again, and a post retried after a crash
carries the same idempotency key. Whatever is backing off (Mastodon after errors or a 429,
arXiv after errors) is skipped until due; the scheduler's later cycles pick it up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from bot.config import Settings
from bot.errors import RejectedError, TransientError
from bot.health import LAST_CYCLE, STREAMS
from bot.health import MAX_AGE as HEALTH_MAX_AGE
from bot.intake import Identity, Intake
from bot.metrics import Metrics
from bot.models import CycleReport, PendingStatus, Status
from bot.pacing import (
    Backoff,
    budget_warning,
    tag_groups,
)
from bot.papers import Papers
from bot.pauses import Pause
from bot.policy import over_rate
from bot.poll_pace import PollPace
from bot.ports import MastodonPort
from bot.posting import Poster, too_long
from bot.server_watch import ServerWatch
from bot.sources import (
    HashtagSource,
    MentionSource,
    ReadCounts,
    Source,
    read_source,
)
from bot.store import Store
from bot.streams import Streams, plan_streams, streams_to_json
from bot.sweeps import Sweeps

PRUNE_EVERY_SECONDS = 24 * 3600
STREAMED = "stream"
"""The source name streamed statuses are recorded under (they move no cursor)."""
log = structlog.get_logger()


class Cycle:
    def __init__(
        self,
        store: Store,
        mastodon: MastodonPort,
        papers: Papers,
        settings: Settings,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        should_stop: Callable[[], bool] = lambda: False,
        sweep_on_start: bool = True,
        metrics: Metrics | None = None,
        wait: Callable[[float], object] = time.sleep,
        streams: Streams | None = None,
    ) -> None:
        self._store = store
        self._mastodon = mastodon
        self._papers = papers
        self._settings = settings
        self._now = now
        self._monotonic = monotonic
        self._should_stop = should_stop
        self._pause = Pause(
            "mastodon",
            store,
            Backoff(settings.bot_retry_base_seconds, settings.bot_retry_max_seconds),
            monotonic,
            now,
        )
        self._watch = ServerWatch(mastodon, store, monotonic)
        self._pace = PollPace(store, settings, monotonic, now)
        self._pruned_at: float | None = None
        self._sweeps = Sweeps(store, settings, now, on_start=sweep_on_start)
        self._metrics = metrics
        self._wait = wait
        self._rooms: tuple[Intake, Poster, list[Source]] | None = None
        self._streams = streams

    def start(self) -> None:
        """Learn who the bot is (so it never answers itself) and the server's post limits.

        Called by the first cycle if not before; a failure here is retried by the next cycle.
        """
        me = Identity()
        if self._settings.has_token:
            account = self._mastodon.me()
            me = Identity(account.id, account.acct.split("@")[0])
            log.info(
                "account_verified",
                account=account.acct,
                account_id=account.id,
                bot_flag=account.bot,
            )
            if not account.bot:
                log.warning(
                    "bot_flag_not_set",
                    account=account.acct,
                    hint="tick 'This is an automated account' in the profile",
                )
        self._watch.refresh()
        per_request = self._watch.server.tags_per_request
        groups = tag_groups(self._settings.bot_hashtags, per_request)
        warning = budget_warning(
            self._settings.bot_poll_interval,
            len(self._settings.bot_hashtags),
            mentions=self._settings.has_token,
            sweep_seconds=self._settings.bot_sweep_seconds,
            per_request=per_request,
        )
        if warning is not None:
            log.warning("request_budget", message=warning)
        sources: list[Source] = [HashtagSource(self._mastodon, g) for g in groups]
        if self._settings.has_token:
            sources.append(MentionSource(self._mastodon, me.account_id))
        intake = Intake(self._store, self._mastodon, self._settings, me, self._now)
        poster = Poster(
            self._store,
            self._mastodon,
            self._settings,
            me,
            self._now,
            self._should_stop,
            monotonic=self._monotonic,
            wait=self._wait,
        )
        self._rooms = (intake, poster, sources)
        if self._streams is not None:
            server = self._watch.server
            plan = plan_streams(
                server,
                self._settings.bot_hashtags,
                has_token=self._settings.has_token,
                mode=self._settings.bot_streaming,
                hashtag_feeds=server.hashtag_feeds,
            )
            self._streams.start(plan, me.account_id, self._settings.bot_hashtags)

    def run_cycle(self) -> CycleReport:
        """Read the sources when due, then work through the queue. AuthError propagates."""
        started = time.perf_counter()
        report = CycleReport()
        now = self._monotonic()
        self._prune_now_and_then(now)
        if not self._pause.ready():
            # Waiting out a 429 or a backoff is no failure of this cycle; its start was logged.
            log.debug("mastodon_paused", retry_in=round(self._pause.retry_in(), 1))
        else:
            if self._rooms is None:
                try:
                    self.start()
                except TransientError as exc:  # Mastodon down at start: the next cycle retries
                    self._mastodon_failed(exc, "start_failed", report)
                    report.errors.append(f"start:{type(exc).__name__}")
            if self._rooms is not None:
                self._watch.refresh_if_due()
                self._take_streamed(report)
                streams = self._streams
                if self._pace.due(
                    now,
                    catching_up=streams is not None and streams.take_catch_up(),
                    streams_healthy=streams is not None and streams.healthy(),
                ):
                    self._read_all(report, now)
                self._drain(report)
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
            errors=len(report.errors),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        # The loop is alive, whatever the world answered: the healthcheck watches this.
        views = self._streams.views() if self._streams is not None else []
        self._store.set_metas(
            {
                LAST_CYCLE: self._now().isoformat(),
                HEALTH_MAX_AGE: repr(self._settings.health_max_age_seconds),
                STREAMS: streams_to_json(views),
            }
        )
        if self._metrics is not None:
            paused = {"mastodon": self._pause.retry_in(), "arxiv": self._papers.paused_for()}
            self._metrics.observe(report, self._store.queue_depth(), paused, self._now(), views)
        return report

    def _take_streamed(self, report: CycleReport) -> None:
        """What the streams brought since the last cycle, through the same intake as a poll,
        where a status decided before (by a poll, or on another stream) is not decided again."""
        if self._streams is None:
            return
        passed_over = self._streams.take_passed_over()
        report.seen += passed_over
        report.streamed += passed_over
        report.skipped += passed_over
        taken = self._streams.take()
        if not taken:
            return
        assert self._rooms is not None
        intake = self._rooms[0]
        first: dict[str, tuple[bool, Status]] = {}  # a post under two watched tags comes twice
        for mention, status in taken:
            first.setdefault(status.id, (mention, status))
        try:
            for mentions in (True, False):
                batch = [status for mention, status in first.values() if mention == mentions]
                if not batch:
                    continue
                decided = intake.decide(mentions, batch)
                report.seen += len(batch)
                report.streamed += len(batch)
                report.skipped += len(batch) - len(decided.requests)
                report.queued += self._store.record_page(
                    STREAMED,
                    None,
                    decided.requests,
                    stops=decided.stops,
                    skipped=decided.skipped,
                )
        except TransientError as exc:  # polls and sweeps find them again
            report.errors.append(f"stream:{type(exc).__name__}")
            self._mastodon_failed(exc, "stream_intake_failed", report)

    def _read_all(self, report: CycleReport, now: float) -> None:
        assert self._rooms is not None
        intake, _, sources = self._rooms
        counts = ReadCounts()
        streaming = self._streams is not None and self._streams.healthy()
        sweeping = self._sweeps.due(
            now, self._settings.bot_stream_poll_factor if streaming else 1.0
        )
        try:
            for source in sources:
                if self._should_stop():
                    return
                try:
                    read_source(source, self._store, intake.decide, self._should_stop, counts)
                    if isinstance(source, HashtagSource):
                        self._sweeps.note(source)
                        if sweeping:
                            swept = self._sweeps.sweep(source, intake.decide, self._should_stop)
                            report.swept += swept.seen
                            report.queued += swept.queued
                except TransientError as exc:
                    report.errors.append(f"poll:{type(exc).__name__}")
                    self._mastodon_failed(exc, "poll_failed", report, source=source.key)
                    return
                except RejectedError as exc:  # e.g. a server without this endpoint: skip it
                    report.errors.append(f"poll:{type(exc).__name__}")
                    report.api_error("mastodon", exc)
                    log.warning("poll_refused", source=source.key, error=exc)
        finally:
            report.seen += counts.seen
            report.queued += counts.queued
            report.skipped += counts.skipped
            for _ in range(counts.backlog_full):
                report.drop("backlog_full")
        if sweeping:
            self._sweeps.done(now)
        self._pause.succeeded()
        self._pace.polled(now, self._mastodon.rate_limit(), len(sources))

    def _mastodon_failed(
        self, exc: TransientError, event: str, report: CycleReport, **facts: object
    ) -> None:
        report.api_error("mastodon", exc)
        retry_in = self._pause.failed(exc)
        log.warning(event, error=exc, retry_in=round(retry_in, 1), **facts)

    def _drain(self, report: CycleReport) -> None:
        assert self._rooms is not None
        _, poster, _ = self._rooms
        queue = self._expire(self._store.pending(), poster, report)
        if not queue:
            return
        found = self._papers.get([r.arxiv_id for item in queue for r in item.refs])
        report.arxiv_requests += found.requests
        if found.error is not None:
            report.errors.append(f"arxiv:{type(found.error).__name__}")
            report.api_error("arxiv", found.error)
        papers, refused = found.papers, found.refused
        poster.plan(len(queue))
        posted_before = poster.posts_sent
        try:
            for item in queue:
                if self._should_stop():
                    return
                if any(r.arxiv_id not in papers and r.arxiv_id not in refused for r in item.refs):
                    report.waiting += 1  # arXiv is away, or does not know a paper yet
                    continue
                if self._held_by_cap(item):
                    report.waiting += 1
                    continue
                present = [(r, papers[r.arxiv_id]) for r in item.refs if r.arxiv_id in papers]
                if item.kind != "delete" and not present and item.message is None:
                    poster.give_up(item, "no_such_paper")
                    report.drop("no_such_paper")
                    continue
                try:
                    if item.kind == "delete":
                        poster.delete(item)
                        continue
                    try:
                        outcome = poster.answer(
                            item, present, self._watch.limits, self._papers.tldrs
                        )
                    except RejectedError as exc:
                        if not (too_long(exc) and self._watch.count_strictly()):
                            raise
                        # Composed again under the strictest count, and tried once more.
                        outcome = poster.answer(
                            item, present, self._watch.limits, self._papers.tldrs
                        )
                except RejectedError as exc:
                    poster.give_up(item, f"rejected_{exc.status}", error=exc)
                    report.drop(f"rejected_{exc.status}")
                    report.api_error("mastodon", exc)
                    continue
                except TransientError as exc:
                    report.errors.append(f"post:{type(exc).__name__}")
                    self._mastodon_failed(exc, "post_failed", report, status_id=item.status.id)
                    return
                if outcome == "answered":
                    report.replied += 1
                elif outcome == "thread_cap":
                    report.drop("thread_cap")
                elif outcome == "out_of_posts":
                    report.waiting += 1
                    return
        finally:
            report.posts += poster.posts_sent - posted_before

    def _held_by_cap(self, item: PendingStatus) -> bool:
        """A paper request waits while its account has had its answers for the hour."""
        if item.kind not in ("hashtag", "mention") or item.posted_reply_ids:
            return False
        since = self._now() - timedelta(hours=1)
        answered = self._store.answers_since(item.status.account.id, since)
        return over_rate(answered, self._settings.bot_rate_per_account)

    def _expire(
        self, queue: list[PendingStatus], poster: Poster, report: CycleReport
    ) -> list[PendingStatus]:
        """Drop what waited ``BOT_PENDING_HOURS`` with nothing posted: as ``no_such_paper`` when
        arXiv kept not knowing a paper it names, else ``expired``."""
        horizon = self._now() - timedelta(hours=self._settings.bot_pending_hours)
        kept = []
        for item in queue:
            if item.first_seen < horizon and not item.posted_reply_ids:
                missed = self._store.missed(r.arxiv_id for r in item.refs) if item.refs else set()
                reason = "no_such_paper" if missed else "expired"
                poster.give_up(item, reason)
                report.drop(reason)
            else:
                kept.append(item)
        return kept

    def _prune_now_and_then(self, now: float) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        cutoff = self._now() - timedelta(days=self._settings.bot_retention_days)
        removed = self._store.prune(cutoff)
        if any(removed.values()):
            log.info("state_pruned", older_than=cutoff.isoformat(), **removed)
