"""One poll cycle: the only code that sequences I/O.

    read new statuses per source → queue the ones to answer and advance the cursor (one step)
    → papers for everything queued (cache, then one batched arXiv request)
    → compose → post each reply, recording it → mark the status done

Every step is recorded before the next begins, so a crash at any point loses nothing: the
queue survives, a reply already posted is not posted again, and a post retried after a crash
carries the same idempotency key.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import structlog

from bot.arxiv_ids import papers_in_status
from bot.compose import (
    ComposedPost,
    compose_thread,
    help_text,
    rate_notice,
    start_confirmation,
    stop_confirmation,
)
from bot.errors import BotError, RateLimitedError, RejectedError, TransientError
from bot.llm_client import TLDR_MAX_CHARACTERS
from bot.models import (
    Account,
    Paper,
    PaperRef,
    PendingStatus,
    Post,
    ReplyMode,
    RequestKind,
    ServerLimits,
    Status,
    Visibility,
)
from bot.pacing import TAGS_PER_REQUEST, Backoff, RateLimit, stretched_gap
from bot.policy import (
    HashtagPolicy,
    MentionDecision,
    capped,
    command_in,
    hashtag_skip_reason,
    idempotency_key,
    may_delete,
    mention_decision,
    mention_for,
    over_rate,
    reply_visibility,
    status_text,
    subject_of,
    thread_room,
)
from bot.store import Store
from bot.summary import acceptable_tldr

PAGE_LIMIT = 40
MAX_PAGES_PER_CYCLE = 10
LIMITS_REFRESH_SECONDS = 6 * 3600
LIMITS_RETRY_SECONDS = 300
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
    def mention_page(self, min_id: str | None, limit: int = ...) -> list[tuple[str, Status]]: ...
    def status(self, status_id: str) -> Status | None: ...
    def thread(self, status_id: str) -> list[Status]: ...
    def followers_among(self, account_ids: Sequence[str]) -> set[str]: ...
    def delete(self, status_id: str) -> None: ...


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
    mentions: bool = True
    """Answer mentions too (needs a token)."""
    hashtag_policy: HashtagPolicy = "all"
    max_replies_per_thread: int = 6
    rate_per_account: int = 10


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


MENTIONS = "mentions"


class _PageRates:
    """Per-account counts while one page is read: the last hour's answers from the store plus
    this page's, and who already got a help text or a notice from this page."""

    def __init__(self, store: Store, now: datetime) -> None:
        self._store = store
        self._since = now - timedelta(hours=1)
        self._added: Counter[str] = Counter()
        self._helped: set[str] = set()
        self._noticed: set[str] = set()

    def over(self, account_id: str, per_hour: int) -> bool:
        answered = self._store.answers_since(account_id, self._since)
        return over_rate(answered + self._added[account_id], per_hour)

    def count(self, account_id: str) -> None:
        self._added[account_id] += 1

    def helped(self, account_id: str) -> bool:
        return account_id in self._helped

    def help(self, account_id: str) -> None:
        self._helped.add(account_id)

    def noticed(self, account_id: str) -> bool:
        return account_id in self._noticed

    def notice(self, account_id: str) -> None:
        self._noticed.add(account_id)


def tag_groups(
    hashtags: Sequence[str], per_request: int = TAGS_PER_REQUEST
) -> tuple[tuple[str, ...], ...]:
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
        self._own_username = ""
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
            self._own_username = me.acct.split("@")[0]
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
            # Try again in a few minutes, not every cycle.
            self._limits_read_at = self._monotonic() - LIMITS_REFRESH_SECONDS + LIMITS_RETRY_SECONDS
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
        sources: list[tuple[str, Callable[[], None]]] = [
            (source_key(group), functools.partial(self._poll, group, report))
            for group in self._config.tag_groups
        ]
        if self._config.mentions and self._own_id is not None:
            sources.append((MENTIONS, lambda: self._poll_mentions(report)))
        for source, poll in sources:
            if self._should_stop():
                return
            try:
                poll()
            except TransientError as exc:
                report.errors.append(f"poll:{type(exc).__name__}")
                self._mastodon_failed(exc, "poll_failed", source=source)
                return
            except RejectedError as exc:  # e.g. a server without this endpoint: skip the source
                report.errors.append(f"poll:{type(exc).__name__}")
                log.warning("poll_refused", source=source, error=exc)
        self._mastodon_backoff.succeeded()
        interval = self._config.poll_interval
        gap = stretched_gap(self._mastodon.rate_limit(), len(sources), interval)
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
            followers = self._followers_in(page)
            rates = _PageRates(self._store, self._now())
            # Pages come newest first; queue oldest first, so replies go out in that order.
            wanted = [
                item
                for item in (self._consider(s, followers, rates) for s in reversed(page))
                if item is not None
            ]
            report.skipped += len(page) - len(wanted)
            cursor = page[0].id
            report.queued += self._store.record_page(source, cursor, wanted)
            if len(page) < PAGE_LIMIT:
                return

    def _followers_in(self, page: Sequence[Status]) -> set[str] | None:
        if self._config.hashtag_policy != "followers":
            return None
        authors = {subject_of(s).account.id for s in page if not subject_of(s).account.bot}
        return self._mastodon.followers_among(sorted(authors))

    def _refs(self, status: Status) -> list[PaperRef]:
        return papers_in_status(
            status.content, self._today(), card_url=status.card_url, bare_ids=self._config.bare_ids
        )

    def _capped(self, status: Status, refs: Sequence[PaperRef]) -> tuple[PaperRef, ...]:
        kept, dropped = capped(refs, self._config.max_papers_per_post)
        if dropped:
            log.info(
                "papers_capped",
                status_id=status.id,
                paper_ids=[str(r) for r in kept],
                ignored=[str(r) for r in dropped],
            )
        return kept

    def _consider(
        self, status: Status, followers: set[str] | None, rates: _PageRates
    ) -> PendingStatus | None:
        """A post under a watched hashtag: answer it only with every kind of consent."""
        subject = subject_of(status)
        refs = self._refs(subject)
        if not refs:  # most posts: decided without touching the database
            log.debug("status_skipped", status_id=subject.id, reason="no_arxiv_link")
            return None
        reason = hashtag_skip_reason(
            subject,
            self._own_id,
            refs,
            stopped=self._store.is_stopped(subject.account.id),
            policy=self._config.hashtag_policy,
            follows_bot=None if followers is None else subject.account.id in followers,
        )
        if reason is None and rates.over(subject.account.id, self._config.rate_per_account):
            reason = "rate_per_account"  # nobody asked here, so no notice either
        if reason is not None:
            level = log.debug if reason == "no_arxiv_link" else log.info
            level("status_skipped", status_id=subject.id, reason=reason)
            return None
        rates.count(subject.account.id)
        return PendingStatus(subject, self._capped(subject, refs), self._now())

    def _poll_mentions(self, report: CycleReport) -> None:
        cursor = self._store.cursor(MENTIONS)
        if cursor is None:
            newest = self._mastodon.mention_page(None, limit=1)
            start = newest[0][0] if newest else "0"
            self._store.record_page(MENTIONS, start, [])
            log.info("source_started", source=MENTIONS, cursor=start)
            return
        for _ in range(MAX_PAGES_PER_CYCLE):
            if self._should_stop():
                return
            page = self._mastodon.mention_page(cursor, limit=PAGE_LIMIT)
            if not page:
                return
            report.seen += len(page)
            stops: dict[str, bool] = {}
            rates = _PageRates(self._store, self._now())
            wanted = []
            for _, status in reversed(page):
                item = self._consider_mention(status, stops, rates)
                if item is not None:
                    wanted.append(item)
            report.skipped += len(page) - len(wanted)
            cursor = page[0][0]
            report.queued += self._store.record_page(MENTIONS, cursor, wanted, stops=stops)
            if len(page) < PAGE_LIMIT:
                return

    def _consider_mention(
        self, mention: Status, stops: dict[str, bool], rates: _PageRates
    ) -> PendingStatus | None:
        """A mention is a request: answer it, run its command, or help, within the limits."""
        asker = mention.account.id
        stopped = stops.get(asker, self._store.is_stopped(asker))
        refs = self._refs(mention)
        command = command_in(status_text(mention.content), self._own_username)
        decision = mention_decision(mention, self._own_id, refs, command, stopped=stopped)
        facts = {"status_id": mention.id, "command": command}
        if decision.action == "ignore":
            log.info("mention_skipped", reason=decision.reason, **facts)
            return None
        mention_text = mention_for(mention)
        if decision.action in ("stop", "start"):
            stops[asker] = decision.action == "stop"
            log.info("consent_changed", account_id=asker, stopped=stops[asker], **facts)
            text = stop_confirmation if decision.action == "stop" else start_confirmation
            return self._message(mention, "confirm", text(mention_text))
        if decision.action == "delete":
            self._delete_for(mention)
            return None
        subject_author = None
        if decision.action == "answer_parent":
            parent = self._mastodon.status(mention.in_reply_to_id or "")
            if parent is not None and parent.account.id == self._own_id:
                # "Thanks!" under one of its answers: Mastodon mentions the bot in every reply
                # to it, which is no request for the same summary again.
                log.info("mention_skipped", reason="reply_to_my_own_post", **facts)
                return None
            refs = self._refs(parent) if parent is not None else []
            subject_author = parent.account.id if parent is not None else None
            if not refs:
                decision = MentionDecision("help", "no_paper_in_parent")
        if decision.action == "help":
            since = self._now() - timedelta(days=1)
            if self._store.notices_since(asker, "help", since) or rates.helped(asker):
                log.info("mention_skipped", reason="help_sent_today", **facts)
                return None
            rates.help(asker)
            return self._message(mention, "help", help_text(mention_text))
        if rates.over(asker, self._config.rate_per_account):
            since = self._now() - timedelta(hours=1)
            if self._store.notices_since(asker, "notice", since) or rates.noticed(asker):
                log.info("mention_skipped", reason="rate_per_account", **facts)
                return None
            rates.notice(asker)
            return self._message(
                mention, "notice", rate_notice(mention_text, self._config.rate_per_account)
            )
        rates.count(asker)
        return PendingStatus(
            mention,
            self._capped(mention, refs),
            self._now(),
            kind="mention",
            mode=decision.mode,
            subject_author_id=subject_author,
        )

    def _message(self, status: Status, kind: RequestKind, text: str) -> PendingStatus:
        return PendingStatus(status, (), self._now(), kind=kind, message=text)

    def _delete_for(self, mention: Status) -> None:
        target = mention.in_reply_to_id or ""
        owner = self._store.reply_owner(target)
        facts = {"status_id": mention.id, "reply_id": target}
        if owner is None:
            log.info("delete_refused", reason="not_a_reply_of_mine", **facts)
            return
        _, asker, subject_author = owner
        if not may_delete(mention.account.id, asker, subject_author):
            log.info("delete_refused", reason="not_asked_by_its_people", **facts)
            return
        if self._config.dry_run:
            log.info("would_delete", **facts)
            return
        self._mastodon.delete(target)
        self._store.forget_reply(target)
        log.info("reply_deleted", **facts)

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
            if not present and item.message is None:
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

    def _thread_facts(self, item: PendingStatus) -> tuple[int, dict[str, str]]:
        """Room left for the bot in this conversation, and papers it already summarised there."""
        if self._own_id is None:
            return self._config.max_replies_per_thread, {}
        mine = [
            s
            for s in self._mastodon.thread(item.status.id)
            if s.account.id == self._own_id and s.id not in item.posted_reply_ids
        ]
        already: dict[str, str] = {}
        for status in mine:
            for ref in papers_in_status(status.content, self._today()):
                already.setdefault(ref.arxiv_id, status.url or status.id)
        return thread_room(len(mine), self._config.max_replies_per_thread), already

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
        self._store.finish(item, outcome)
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
        if item.message is not None:
            posts = [ComposedPost(item.message, "")]
        else:
            room, already = self._thread_facts(item)
            if room == 0:
                self._give_up(item, "thread_cap", report)
                return
            posts = compose_thread(
                present,
                self._limits,
                mention_for(status),
                status.spoiler_text,
                "abstract" if item.mode == "abstract" else self._config.reply_mode,
                self._tldrs(present),
                already,
            )[: len(item.posted_reply_ids) + room]
        refs = {ref.arxiv_id: ref for ref, _ in present}
        visibility = reply_visibility(status.visibility, self._config.reply_visibility)
        reply_ids = list(item.posted_reply_ids)
        for position, composed in enumerate(posts):
            if position < len(reply_ids):
                continue  # posted before a crash or an error; carry on after it
            if self._should_stop():
                return  # the rest of the thread follows on the next start
            ref = refs.get(composed.paper_id)
            parent = reply_ids[-1] if reply_ids else status.id
            post = Post(
                text=composed.text,
                visibility=visibility,
                in_reply_to_id=parent,
                idempotency_key=idempotency_key(status.id, position, [ref] if ref else []),
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
                    paper_id=str(ref) if ref else None,
                    visibility=visibility,
                    machine_written=composed.machine_written,
                    text=post.text,
                )
            else:
                self._store.record_intent(status.id, position, parent, post.idempotency_key)
                reply_id = self._mastodon.post(post)
            self._store.record_reply(status.id, position, composed.paper_id, reply_id)
            reply_ids.append(reply_id)
            report.posts += 1
        self._store.finish(item, "answered")
        report.replied += 1
        log.info(
            "replied",
            status_id=status.id,
            status_url=status.url,
            kind=item.kind,
            paper_ids=[str(r) for r, _ in present],
            reply_ids=reply_ids,
            visibility=visibility,
            dry_run=self._config.dry_run,
        )
