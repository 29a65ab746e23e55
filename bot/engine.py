"""One poll cycle: the only code that sequences I/O.

    read new statuses per source → queue the ones to answer and advance the cursor (one step)
    → papers for everything queued (cache, then one batched arXiv request)
    → compose → post each reply, recording it → mark the status done

Every step is recorded before the next begins, so a crash at any point loses nothing: the
queue survives, a reply already posted is not posted again, and a post retried after a crash
carries the same idempotency key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import structlog

from bot.arxiv_ids import papers_in_status
from bot.compose import ReplyMode, compose_thread
from bot.errors import BotError, RateLimitedError, RejectedError, TransientError
from bot.llm_client import TLDR_MAX_CHARACTERS
from bot.models import (
    Account,
    Paper,
    PaperRef,
    PendingStatus,
    Post,
    ServerLimits,
    Status,
    Visibility,
)
from bot.pacing import Backoff, RateLimit, stretched_gap
from bot.policy import (
    capped,
    idempotency_key,
    mention_for,
    reply_visibility,
    skip_reason,
    subject_of,
)
from bot.store import Store
from bot.summary import acceptable_tldr

PAGE_LIMIT = 40
MAX_PAGES_PER_CYCLE = 10
LIMITS_REFRESH_SECONDS = 6 * 3600
PRUNE_EVERY_SECONDS = 24 * 3600
log = structlog.get_logger()


class MastodonPort(Protocol):
    def me(self) -> Account: ...
    def server_limits(self) -> ServerLimits: ...
    def tag_page(
        self, tags: Sequence[str], min_id: str | None, limit: int = ...
    ) -> list[Status]: ...
    def post(self, post: Post) -> str: ...
    def replies_by(self, account_id: str, parent_id: str) -> list[str]: ...
    def rate_limit(self) -> RateLimit | None: ...


class ArxivPort(Protocol):
    def fetch(self, ids: Sequence[str]) -> dict[str, Paper]: ...


class LlmPort(Protocol):
    model: str

    def tldr(self, paper: Paper) -> str: ...


@dataclass(frozen=True, slots=True)
class EngineConfig:
    tag_groups: tuple[tuple[str, ...], ...]
    reply_visibility: Visibility = "unlisted"
    max_papers_per_post: int = 3
    dry_run: bool = False
    pending_hours: float = 24.0
    bare_ids: bool = False
    reply_mode: ReplyMode = "summary"
    poll_interval: float = 60.0
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 900.0
    retention_days: float = 30.0
    verify_account: bool = True
    """False only for a dry run without a token: then there is no account to verify."""


@dataclass
class CycleReport:
    seen: int = 0
    queued: int = 0
    skipped: int = 0
    replied: int = 0
    posts: int = 0
    waiting: int = 0
    dropped: int = 0
    arxiv_requests: int = 0
    errors: list[str] = field(default_factory=list)


def tag_groups(hashtags: Sequence[str], per_request: int = 5) -> tuple[tuple[str, ...], ...]:
    """Hashtags in groups that one timeline request can watch (``any[]`` takes 4 more)."""
    tags = tuple(hashtags)
    return tuple(tags[i : i + per_request] for i in range(0, len(tags), per_request))


def source_key(group: Sequence[str]) -> str:
    return "tags:" + ",".join(group)


class Engine:
    def __init__(
        self,
        store: Store,
        mastodon: MastodonPort,
        arxiv: ArxivPort,
        config: EngineConfig,
        *,
        llm: LlmPort | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self._store = store
        self._mastodon = mastodon
        self._arxiv = arxiv
        self._config = config
        self._llm = llm
        self._now = now
        self._monotonic = monotonic
        self._should_stop = should_stop
        self._own_id: str | None = None
        self._limits = ServerLimits()
        self._limits_read_at: float | None = None
        self._mastodon_backoff = Backoff(config.retry_base_seconds, config.retry_max_seconds)
        self._arxiv_backoff = Backoff(config.retry_base_seconds, config.retry_max_seconds)
        self._next_poll_at = float("-inf")
        self._pruned_at: float | None = None
        self._started = False

    def start(self) -> None:
        """Learn who the bot is (so it never answers itself) and the server's post limits.

        Called by the first cycle if not before; a failure here is retried by the next cycle.
        """
        if self._config.verify_account:
            me = self._mastodon.me()
            self._own_id = me.id
            log.info("account_verified", account=me.acct, account_id=me.id, bot_flag=me.bot)
            if not me.bot:
                log.warning(
                    "bot_flag_not_set",
                    account=me.acct,
                    hint="tick 'This is an automated account' in the profile",
                )
        self._refresh_limits()
        self._started = True

    def _refresh_limits(self) -> None:
        try:
            self._limits = self._mastodon.server_limits()
        except (TransientError, RejectedError) as exc:
            log.warning("server_limits_unavailable", error=exc, using=self._limits.max_characters)
            return
        self._limits_read_at = self._monotonic()
        log.info(
            "server_limits",
            max_characters=self._limits.max_characters,
            characters_reserved_per_url=self._limits.characters_reserved_per_url,
        )

    def run_cycle(self) -> CycleReport:
        """Poll the sources when due, then work through the queue. AuthError propagates.

        Whatever is backing off (Mastodon after errors or a 429, arXiv after errors) is
        skipped until due; the scheduler's later cycles pick it up.
        """
        started = time.perf_counter()
        report = CycleReport()
        now = self._monotonic()
        self._prune_now_and_then(now)
        if not self._mastodon_backoff.ready(now):
            report.errors.append("mastodon:backing_off")
            log.info(
                "mastodon_backing_off", retry_in=round(self._mastodon_backoff.next_at - now, 1)
            )
        else:
            if not self._started:
                try:
                    self.start()
                except TransientError as exc:
                    self._mastodon_failed(exc, "start_failed")
                    report.errors.append(f"start:{type(exc).__name__}")
                    return report
            if self._limits_read_at is None or now - self._limits_read_at > LIMITS_REFRESH_SECONDS:
                self._refresh_limits()
            if now >= self._next_poll_at:
                self._poll_all(report, now)
            self._drain(report)
        log.info(
            "cycle",
            seen=report.seen,
            queued=report.queued,
            skipped=report.skipped,
            replied=report.replied,
            posts=report.posts,
            waiting=report.waiting,
            dropped=report.dropped,
            arxiv_requests=report.arxiv_requests,
            errors=len(report.errors),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        if not report.errors:
            self._store.set_meta("last_good_cycle", self._now().isoformat())
        return report

    # --- reading -----------------------------------------------------------------------------

    def _poll_all(self, report: CycleReport, now: float) -> None:
        for group in self._config.tag_groups:
            if self._should_stop():
                return
            try:
                self._poll(group, report)
            except TransientError as exc:
                report.errors.append(f"poll:{type(exc).__name__}")
                self._mastodon_failed(exc, "poll_failed", source=source_key(group))
                return
        self._mastodon_backoff.succeeded()
        interval = self._config.poll_interval
        gap = stretched_gap(self._mastodon.rate_limit(), len(self._config.tag_groups), interval)
        if gap > interval:
            # Due half an interval before the gap ends, so scheduler jitter costs no cycle.
            self._next_poll_at = now + gap - interval / 2
            log.warning("polling_stretched", gap_seconds=round(gap, 1), interval=interval)
        else:
            self._next_poll_at = float("-inf")  # the scheduler's interval is the pace

    def _mastodon_failed(self, exc: TransientError, event: str, **facts: object) -> None:
        now = self._monotonic()
        if isinstance(exc, RateLimitedError) and exc.retry_in is not None:
            self._mastodon_backoff.hold_until(now + exc.retry_in)
            retry_in = exc.retry_in
        else:
            retry_in = self._mastodon_backoff.failed(now)
        log.warning(event, error=exc, retry_in=round(retry_in, 1), **facts)

    def _poll(self, group: tuple[str, ...], report: CycleReport) -> None:
        source = source_key(group)
        cursor = self._store.cursor(source)
        if cursor is None:
            # First start for these tags: begin at "now" rather than answer the backlog.
            newest = self._mastodon.tag_page(group, None, limit=1)
            start = newest[0].id if newest else "0"
            self._store.record_page(source, start, [])
            log.info("source_started", source=source, cursor=start)
            return
        for _ in range(MAX_PAGES_PER_CYCLE):
            if self._should_stop():
                return
            page = self._mastodon.tag_page(group, cursor, limit=PAGE_LIMIT)
            if not page:
                return
            report.seen += len(page)
            # Pages come newest first; queue oldest first, so replies go out in that order.
            wanted = [item for item in map(self._consider, reversed(page)) if item is not None]
            report.skipped += len(page) - len(wanted)
            cursor = page[0].id
            report.queued += self._store.record_page(source, cursor, wanted)
            if len(page) < PAGE_LIMIT:
                return

    def _consider(self, status: Status) -> PendingStatus | None:
        subject = subject_of(status)
        refs = papers_in_status(
            subject.content,
            self._today(),
            card_url=subject.card_url,
            bare_ids=self._config.bare_ids,
        )
        reason = skip_reason(subject, self._own_id, refs)
        if reason is not None:
            level = log.debug if reason == "no_arxiv_link" else log.info
            level("status_skipped", status_id=subject.id, reason=reason)
            return None
        kept, dropped = capped(refs, self._config.max_papers_per_post)
        if dropped:
            log.info(
                "papers_capped",
                status_id=subject.id,
                paper_ids=[str(r) for r in kept],
                ignored=[str(r) for r in dropped],
            )
        return PendingStatus(subject, kept, self._now())

    def _today(self) -> date:
        return self._now().date()

    # --- answering ---------------------------------------------------------------------------

    def _drain(self, report: CycleReport) -> None:
        queue = self._expire(self._store.pending(), report)
        if not queue:
            return
        ids = list(dict.fromkeys(r.arxiv_id for item in queue for r in item.refs))
        papers = self._store.cached_papers(ids)
        missing = [i for i in ids if i not in papers]
        unknown: set[str] = set()
        now = self._monotonic()
        if missing and self._arxiv_backoff.ready(now):
            try:
                fetched, unknown = self._fetch(missing, report)
                self._arxiv_backoff.succeeded()
            except TransientError as exc:
                report.errors.append(f"arxiv:{type(exc).__name__}")
                retry_in = self._arxiv_backoff.failed(now)
                log.warning(
                    "arxiv_unavailable", paper_ids=missing, error=exc, retry_in=round(retry_in, 1)
                )
                fetched = {}
            self._store.cache_papers(fetched.values())
            papers.update(fetched)
        for item in queue:
            if self._should_stop():
                return
            if any(r.arxiv_id not in papers and r.arxiv_id not in unknown for r in item.refs):
                report.waiting += 1
                continue
            present = [(r, papers[r.arxiv_id]) for r in item.refs if r.arxiv_id in papers]
            if not present:
                self._give_up(item, "no_such_paper", report)
                continue
            try:
                self._answer(item, present, report)
            except RejectedError as exc:
                self._give_up(item, f"rejected_{exc.status}", report, error=exc)
            except TransientError as exc:
                report.errors.append(f"post:{type(exc).__name__}")
                self._mastodon_failed(exc, "post_failed", status_id=item.status.id)
                return

    def _fetch(self, ids: list[str], report: CycleReport) -> tuple[dict[str, Paper], set[str]]:
        """Papers for ``ids``, and the ids arXiv does not know or refuses.

        A refused batch is split in halves until the refused id stands alone.
        """
        report.arxiv_requests += 1
        try:
            found = self._arxiv.fetch(ids)
        except RejectedError:
            if len(ids) == 1:
                log.warning("arxiv_refused_id", paper_id=ids[0])
                return {}, set(ids)
            half = len(ids) // 2
            left, left_unknown = self._fetch(ids[:half], report)
            right, right_unknown = self._fetch(ids[half:], report)
            return left | right, left_unknown | right_unknown
        unknown = {i for i in ids if i not in found}
        if unknown:
            log.info("arxiv_unknown_ids", paper_ids=sorted(unknown))
        return found, unknown

    def _already_posted(self, status_id: str, position: int, parent: str) -> str | None:
        """After a crash or a lost answer: the reply the bot did post, found in the thread."""
        intended = self._store.intent(status_id, position)
        if intended is None or self._own_id is None or intended != parent:
            return None
        found = self._mastodon.replies_by(self._own_id, parent)
        if found:
            log.info("reply_recovered", status_id=status_id, position=position, reply_id=found[0])
            return found[0]
        return None

    def _tldrs(self, present: Sequence[tuple[PaperRef, Paper]]) -> dict[str, str]:
        """Machine-written TL;DRs by paper id, asked once per paper version and model."""
        if self._llm is None:
            return {}
        found: dict[str, str] = {}
        for _, paper in present:
            asked, tldr = self._store.tldr(paper.arxiv_id, paper.version, self._llm.model)
            if not asked:
                try:
                    answer = self._llm.tldr(paper)
                except BotError as exc:
                    log.warning(
                        "llm_failed", paper_id=paper.arxiv_id, error=exc, fallback="extractive"
                    )
                    continue
                tldr, verdict = acceptable_tldr(answer, TLDR_MAX_CHARACTERS)
                self._store.set_tldr(paper.arxiv_id, paper.version, self._llm.model, tldr, verdict)
                if tldr is None:
                    log.info(
                        "llm_tldr_rejected",
                        paper_id=paper.arxiv_id,
                        reason=verdict,
                        fallback="extractive",
                    )
            if tldr:
                found[paper.arxiv_id] = tldr
        return found

    def _prune_now_and_then(self, now: float) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        cutoff = self._now() - timedelta(days=self._config.retention_days)
        removed = self._store.prune(cutoff)
        if any(removed.values()):
            log.info("state_pruned", older_than=cutoff.isoformat(), **removed)

    def _expire(self, queue: Iterable[PendingStatus], report: CycleReport) -> list[PendingStatus]:
        horizon = self._now() - timedelta(hours=self._config.pending_hours)
        kept = []
        for item in queue:
            if item.first_seen < horizon and not item.posted_reply_ids:
                self._give_up(item, "expired", report)
            else:
                kept.append(item)
        return kept

    def _give_up(
        self, item: PendingStatus, outcome: str, report: CycleReport, error: Exception | None = None
    ) -> None:
        report.dropped += 1
        self._store.finish(item.status.id, outcome, [r.arxiv_id for r in item.refs])
        log.warning(
            "status_dropped",
            status_id=item.status.id,
            paper_ids=[str(r) for r in item.refs],
            reason=outcome,
            error=error,
        )

    def _answer(
        self, item: PendingStatus, present: list[tuple[PaperRef, Paper]], report: CycleReport
    ) -> None:
        status = item.status
        posts = compose_thread(
            present,
            self._limits,
            mention_for(status),
            status.spoiler_text,
            self._config.reply_mode,
            self._tldrs(present),
        )
        refs = {ref.arxiv_id: ref for ref, _ in present}
        visibility = reply_visibility(status.visibility, self._config.reply_visibility)
        reply_ids = list(item.posted_reply_ids)
        for position, composed in enumerate(posts):
            if position < len(reply_ids):
                continue  # posted before a crash or an error; carry on after it
            if self._should_stop():
                return  # the rest of the thread follows on the next start
            ref = refs[composed.paper_id]
            parent = reply_ids[-1] if reply_ids else status.id
            post = Post(
                text=composed.text,
                visibility=visibility,
                in_reply_to_id=parent,
                idempotency_key=idempotency_key(status.id, position, [ref]),
                spoiler_text=status.spoiler_text,
                language=status.language,
            )
            recovered = self._already_posted(status.id, position, parent)
            if recovered is not None:
                reply_id = recovered
            elif self._config.dry_run:
                reply_id = f"dry-run:{status.id}:{position}"
                log.info(
                    "would_post",
                    status_id=status.id,
                    paper_id=str(ref),
                    visibility=visibility,
                    machine_written=composed.machine_written,
                    text=post.text,
                )
            else:
                self._store.record_intent(status.id, position, parent, post.idempotency_key)
                reply_id = self._mastodon.post(post)
            self._store.record_reply(status.id, position, ref.arxiv_id, reply_id)
            reply_ids.append(reply_id)
            report.posts += 1
        self._store.finish(status.id, "answered", [r.arxiv_id for r, _ in present])
        report.replied += 1
        log.info(
            "replied",
            status_id=status.id,
            status_url=status.url,
            paper_ids=[str(r) for r, _ in present],
            reply_ids=reply_ids,
            visibility=visibility,
            dry_run=self._config.dry_run,
        )
