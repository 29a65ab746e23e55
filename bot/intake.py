"""Deciding which statuses of a page are requests, and what each asks for.

The page's lookups come first (who follows the bot, the posts that mentions reply to); then
every status is decided with the pure policy and the store's memory (stops, notices, hourly
counts). Nothing here writes anywhere: the result is a list of requests for the queue and the
stop/start commands, which the reading loop records with the cursor in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import structlog

from bot.arxiv_ids import papers_in_status
from bot.compose import help_text, rate_notice, start_confirmation, stop_confirmation
from bot.config import Settings
from bot.errors import RejectedError
from bot.models import PaperRef, PendingStatus, RequestKind, Status
from bot.policy import (
    Command,
    MentionDecision,
    capped,
    command_in,
    conversation_skip_reason,
    hashtag_skip_reason,
    may_delete,
    mention_decision,
    mention_for,
    over_rate,
    status_text,
    subject_of,
)
from bot.ports import MastodonPort
from bot.store import Store

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the bot is: known after the token is verified (never, on a dry run without one)."""

    account_id: str | None = None
    username: str = ""


@dataclass
class Decided:
    """What one page asks for: requests to queue, oldest first, and stop/start commands."""

    requests: list[PendingStatus] = field(default_factory=list)
    stops: dict[str, bool] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Statuses with papers decided against, by id, with the reason: never decided again."""


class _PageRates:
    """Per-account counts while one page is decided: the last hour's answers and the queued
    requests from the store, plus this page's, and who already got a help text or a notice
    from this page."""

    def __init__(self, store: Store, now: datetime) -> None:
        self._store = store
        self._since = now - timedelta(hours=1)
        self._added: Counter[str] = Counter()
        self.helped: set[str] = set()
        self.noticed: set[str] = set()

    def queued(self, account_id: str) -> int:
        return self._store.queued_for(account_id) + self._added[account_id]

    def must_wait(self, account_id: str, per_hour: int) -> bool:
        """Whether a new request of this account will wait for its hourly cap."""
        answered = self._store.answers_since(account_id, self._since)
        return over_rate(answered + self.queued(account_id), per_hour)

    def count(self, account_id: str) -> None:
        self._added[account_id] += 1


class Intake:
    def __init__(
        self,
        store: Store,
        mastodon: MastodonPort,
        settings: Settings,
        me: Identity,
        now: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._mastodon = mastodon
        self._settings = settings
        self._me = me
        self._now = now

    def refs(self, status: Status) -> list[PaperRef]:
        return papers_in_status(
            status.content,
            self._today(),
            card_url=status.card_url,
            bare_ids=self._settings.bot_bare_ids,
        )

    def _today(self) -> date:
        return self._now().date()

    def decide(self, mentions: bool, statuses: Sequence[Status]) -> Decided:
        """The requests among ``statuses`` (oldest first), from a hashtag or a mention page."""
        if mentions:
            return self._mentions(statuses)
        return self._hashtag_posts(statuses)

    # --- hashtag posts ---------------------------------------------------------------------

    def _hashtag_posts(self, statuses: Sequence[Status]) -> Decided:
        followers = self._followers_in(statuses)
        rates = _PageRates(self._store, self._now())
        decided = Decided()
        for status in statuses:
            item = self._hashtag_post(status, followers, rates, decided.skipped)
            if item is not None:
                decided.requests.append(item)
        return decided

    def _followers_in(self, page: Sequence[Status]) -> set[str] | None:
        if self._settings.bot_hashtag_policy != "followers":
            return None
        authors = {subject_of(s).account.id for s in page if not subject_of(s).account.bot}
        try:
            return self._mastodon.followers_among(sorted(authors))
        except RejectedError as exc:  # nobody counts as a follower: answering nobody is safe
            log.warning("followers_unreadable", error=exc)
            return set()

    def _hashtag_post(
        self,
        status: Status,
        followers: set[str] | None,
        rates: _PageRates,
        skipped: dict[str, str],
    ) -> PendingStatus | None:
        """A post under a watched hashtag: answer it only with every kind of consent."""
        subject = subject_of(status)
        refs = self.refs(subject)
        if not refs:  # most posts: decided without touching the database
            log.debug("status_skipped", status_id=subject.id, reason="no_arxiv_link")
            return None
        if subject.id in skipped or self._store.decided(subject.id):
            return None  # seen before (a sweep, a boost of it): decided once, logged once
        author = subject.account.id
        reason = hashtag_skip_reason(
            subject,
            self._me.account_id,
            refs,
            stopped=self._store.is_stopped(author),
            policy=self._settings.bot_hashtag_policy,
            follows_bot=None if followers is None else author in followers,
        )
        if reason is None and rates.queued(author) >= self._settings.bot_backlog_per_account:
            reason = "backlog_full"  # past the cap a post waits; past the backlog it is dropped
        if reason is not None:
            level = log.warning if reason == "backlog_full" else log.info
            level("status_skipped", status_id=subject.id, reason=reason)
            skipped[subject.id] = reason
            return None
        rates.count(author)
        return PendingStatus(subject, self._capped(subject, refs), self._now())

    def _capped(self, status: Status, refs: Sequence[PaperRef]) -> tuple[PaperRef, ...]:
        kept, dropped = capped(refs, self._settings.bot_max_papers_per_post)
        if dropped:
            log.info(
                "papers_capped",
                status_id=status.id,
                paper_ids=[str(r) for r in kept],
                ignored=[str(r) for r in dropped],
            )
        return kept

    # --- mentions --------------------------------------------------------------------------

    def _mentions(self, statuses: Sequence[Status]) -> Decided:
        # A mention seen before (streamed, then polled) was decided then: decided once.
        statuses = [m for m in statuses if not self._store.decided(m.id)]
        # What each mention names and asks, read once from its HTML.
        asked = {
            m.id: (self.refs(m), command_in(status_text(m.content), self._me.username))
            for m in statuses
        }
        parents = self._parents(statuses, asked)
        rates = _PageRates(self._store, self._now())
        decided = Decided()
        for mention in statuses:
            notice: list[PendingStatus] = []
            item = self._mention(
                mention, asked[mention.id], decided.stops, rates, parents, notice, decided.skipped
            )
            decided.requests.extend(notice)
            if item is not None:
                decided.requests.append(item)
        return decided

    def _parents(
        self, mentions: Sequence[Status], asked: dict[str, tuple[list[PaperRef], Command | None]]
    ) -> dict[str, Status | str]:
        """The posts that mentions without papers of their own reply to, read before deciding;
        for one the bot may not read, why (``unreadable_403``, ``unreadable_404``, …)."""
        parents: dict[str, Status | str] = {}
        for mention in mentions:
            refs, command = asked[mention.id]
            stopped = self._store.is_stopped(mention.account.id)
            decision = mention_decision(
                mention, self._me.account_id, refs, command, stopped=stopped
            )
            parent_id = mention.in_reply_to_id
            if decision.action != "answer_parent" or not parent_id or parent_id in parents:
                continue
            try:
                parent = self._mastodon.status(parent_id)
            except RejectedError as exc:
                parents[parent_id] = f"unreadable_{exc.status}"
                continue
            parents[parent_id] = parent if parent is not None else "unreadable_malformed"
        return parents

    def _mention(
        self,
        mention: Status,
        asked: tuple[list[PaperRef], Command | None],
        stops: dict[str, bool],
        rates: _PageRates,
        parents: dict[str, Status | str],
        notice: list[PendingStatus],
        skipped: dict[str, str],
    ) -> PendingStatus | None:
        """A mention is a request: answer it, run its command, or help, within the limits.

        Past the hourly cap it waits, and the first such mention of the hour gets a notice
        (added to ``notice``, to go out at once)."""
        asker = mention.account.id
        stopped = stops.get(asker, self._store.is_stopped(asker))
        refs, command = asked
        decision = mention_decision(mention, self._me.account_id, refs, command, stopped=stopped)
        facts = {"status_id": mention.id, "command": command}
        if decision.action == "ignore":
            log.info("mention_skipped", reason=decision.reason, **facts)
            skipped[mention.id] = decision.reason
            return None
        mention_text = mention_for(mention)
        if decision.action in ("stop", "start"):
            stops[asker] = decision.action == "stop"
            log.info("consent_changed", account_id=asker, stopped=stops[asker], **facts)
            text = stop_confirmation if decision.action == "stop" else start_confirmation
            return self._message(mention, "confirm", text(mention_text))
        if decision.action == "delete":
            return self._deletion(mention)
        subject_author = None
        if decision.action == "answer_parent":
            parent = parents.get(mention.in_reply_to_id or "", "unreadable_unknown")
            if isinstance(parent, str):
                log.info("mention_skipped", reason=f"parent_{parent}", **facts)
                skipped[mention.id] = f"parent_{parent}"
                return None
            chatting = conversation_skip_reason(parent, self._me.account_id)
            if chatting is not None:
                log.info("mention_skipped", reason=chatting, **facts)
                skipped[mention.id] = chatting
                return None
            refs = self.refs(parent)
            subject_author = parent.account.id
            if not refs:
                decision = MentionDecision("help", "no_paper_in_parent")
        if decision.action == "help":
            since = self._now() - timedelta(days=1)
            if self._store.notices_since(asker, "help", since) or asker in rates.helped:
                log.info("mention_skipped", reason="help_sent_today", **facts)
                skipped[mention.id] = "help_sent_today"
                return None
            rates.helped.add(asker)
            return self._message(mention, "help", help_text(mention_text))
        if rates.queued(asker) >= self._settings.bot_backlog_per_account:
            log.warning("mention_skipped", reason="backlog_full", **facts)
            skipped[mention.id] = "backlog_full"
            return None
        per_hour = self._settings.bot_rate_per_account
        if rates.must_wait(asker, per_hour):
            # It waits for the account's hour like a hashtag post, with one notice an hour.
            since = self._now() - timedelta(hours=1)
            if not self._store.notices_since(asker, "notice", since) and asker not in rates.noticed:
                rates.noticed.add(asker)
                notice.append(self._message(mention, "notice", rate_notice(mention_text, per_hour)))
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

    def _deletion(self, mention: Status) -> PendingStatus | None:
        """``delete`` under one of the bot's replies, by the people it was for: queued."""
        target = mention.in_reply_to_id or ""
        owner = self._store.reply_owner(target)
        facts = {"status_id": mention.id, "reply_id": target}
        if owner is None:
            log.info("delete_refused", reason="not_a_reply_of_mine", **facts)
            return None
        _, asker, subject_author = owner
        if not may_delete(mention.account.id, asker, subject_author):
            log.info("delete_refused", reason="not_asked_by_its_people", **facts)
            return None
        return PendingStatus(mention, (), self._now(), kind="delete")
