"""Every status of a page decided, from what it asks and the page's facts (pure).

Statuses are decided oldest first, and each decision can change the next one's facts: a
request queued for an account counts against its hourly cap (and, past it, its backlog), a ``stop`` holds
for the account's later mentions on the same page, one help text or notice per account is
enough. So the facts are copied into a small running tally here, never re-read. What the
intake should log comes back as :class:`Note` values, in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.deciding.asked import Asked
from bot.deciding.facts import PageFacts
from bot.deciding.policy import (
    HashtagPolicy,
    MentionDecision,
    capped,
    conversation_skip_reason,
    hashtag_skip_reason,
    may_delete,
    mention_decision,
    over_rate,
)
from bot.models import Decided, Identity, PaperRef, Request, RequestKind, Status


@dataclass(frozen=True, slots=True)
class Rules:
    """The settings the decisions follow."""

    hashtag_policy: HashtagPolicy = "all"
    rate_per_account: int = 10
    backlog_per_account: int = 20
    max_papers_per_post: int = 3


Level = Literal["debug", "info", "warning"]


@dataclass(frozen=True, slots=True)
class Note:
    """A line for the log: what was decided about one status, and why."""

    level: Level
    event: str
    facts: dict[str, Any]


@dataclass
class _Tally:
    """The page's facts as they change while the page is decided."""

    facts: PageFacts
    added: Counter[str] = field(default_factory=Counter)
    helped: set[str] = field(default_factory=set)
    noticed: set[str] = field(default_factory=set)

    def queued(self, account_id: str) -> int:
        return self.facts.queued.get(account_id, 0) + self.added[account_id]

    def must_wait(self, account_id: str, per_hour: int) -> bool:
        """Whether a new request of this account will wait for its hourly cap."""
        answered = self.facts.answered.get(account_id, 0)
        return over_rate(answered + self.queued(account_id), per_hour)

    def backlog_full(self, account_id: str, rules: Rules) -> bool:
        """Whether a new request of this account would wait for its hour behind
        ``BOT_BACKLOG_PER_ACCOUNT`` others that already do. Only waiting for the account's
        own cap counts: requests waiting for arXiv, a paused server or the post budget do
        not, however many they are."""
        answered = self.facts.answered.get(account_id, 0)
        waiting_for_the_cap = answered + self.queued(account_id) - rules.rate_per_account
        return waiting_for_the_cap >= rules.backlog_per_account


@dataclass
class Verdicts:
    decided: Decided = field(default_factory=Decided)
    notes: list[Note] = field(default_factory=list)

    def skip(self, status_id: str, reason: str, event: str, **facts: Any) -> None:
        self.decided.skipped[status_id] = reason
        level: Level = "warning" if reason == "backlog_full" else "info"
        self.notes.append(Note(level, event, {"status_id": status_id, "reason": reason, **facts}))

    def note(self, level: Level, event: str, **facts: Any) -> None:
        self.notes.append(Note(level, event, facts))


def hashtag_posts(
    page: Sequence[Asked], facts: PageFacts, rules: Rules, me: Identity, now: datetime
) -> Verdicts:
    """Posts under a watched hashtag (each already its boost's original, oldest first):
    answered only with every kind of consent."""
    out = Verdicts()
    tally = _Tally(facts)
    seen: set[str] = set()
    for asked in page:
        subject = asked.status
        if not asked.refs:  # most posts: decided without a fact
            out.note("debug", "status_skipped", status_id=subject.id, reason="no_arxiv_link")
            continue
        if subject.id in seen or subject.id in facts.decided:
            continue  # seen before (a sweep, a boost of it): decided once, logged once
        seen.add(subject.id)
        author = subject.account.id
        reason = hashtag_skip_reason(
            subject,
            me.account_id,
            asked.refs,
            stopped=author in facts.stopped,
            policy=rules.hashtag_policy,
            follows_bot=None if facts.followers is None else author in facts.followers,
        )
        if reason is None and tally.backlog_full(author, rules):
            reason = "backlog_full"  # past the cap a post waits; past the backlog it is dropped
        if reason is not None:
            out.skip(subject.id, reason, "status_skipped")
            continue
        tally.added[author] += 1
        out.decided.requests.append(Request(subject, _capped(asked, rules, out), now))
    return out


def mentions(
    page: Sequence[Asked], facts: PageFacts, rules: Rules, me: Identity, now: datetime
) -> Verdicts:
    """Mentions of the bot, oldest first: each a request to answer, a command, or help,
    within the limits. Past the hourly cap a request waits, and the first such mention of
    the hour gets a notice first."""
    out = Verdicts()
    tally = _Tally(facts)
    for asked in page:
        if asked.status.id not in facts.decided:
            _mention(asked, facts, tally, rules, me, now, out)
    return out


def _mention(
    asked: Asked,
    facts: PageFacts,
    tally: _Tally,
    rules: Rules,
    me: Identity,
    now: datetime,
    out: Verdicts,
) -> None:
    mention, command = asked.status, asked.command
    asker = mention.account.id
    stops = out.decided.stops
    stopped = stops.get(asker, asker in facts.stopped)
    decision = mention_decision(mention, me.account_id, asked.refs, command, stopped=stopped)
    said = {"command": command}
    if decision.action == "ignore":
        out.skip(mention.id, decision.reason, "mention_skipped", **said)
        return
    if decision.action in ("stop", "start"):
        stops[asker] = decision.action == "stop"
        out.note(
            "info",
            "consent_changed",
            account_id=asker,
            stopped=stops[asker],
            status_id=mention.id,
            **said,
        )
        out.decided.requests.append(_message(mention, "confirm", now, stopped=stops[asker]))
        return
    if decision.action == "delete":
        _deletion(mention, facts, now, out)
        return
    refs, subject_author = asked.refs, None
    if decision.action == "answer_parent":
        parent = facts.parents.get(mention.in_reply_to_id or "", "unreadable_unknown")
        if isinstance(parent, str):
            out.skip(mention.id, f"parent_{parent}", "mention_skipped", **said)
            return
        chatting = conversation_skip_reason(parent.status, me.account_id)
        if chatting is not None:
            out.skip(mention.id, chatting, "mention_skipped", **said)
            return
        refs, subject_author = parent.refs, parent.status.account.id
        if not refs:
            decision = MentionDecision("help", "no_paper_in_parent")
    if decision.action == "help":
        if asker in facts.helped_today or asker in tally.helped:
            out.skip(mention.id, "help_sent_today", "mention_skipped", **said)
            return
        tally.helped.add(asker)
        out.decided.requests.append(_message(mention, "help", now))
        return
    if tally.backlog_full(asker, rules):
        out.skip(mention.id, "backlog_full", "mention_skipped", **said)
        return
    noticed = asker in facts.noticed_this_hour or asker in tally.noticed
    if tally.must_wait(asker, rules.rate_per_account) and not noticed:
        # It waits for the account's hour like a hashtag post, with one notice an hour.
        tally.noticed.add(asker)
        out.decided.requests.append(_message(mention, "notice", now))
    tally.added[asker] += 1
    kept = _capped(Asked(mention, refs, command), rules, out)
    out.decided.requests.append(
        Request(
            mention, kept, now, kind="mention", mode=decision.mode, subject_author_id=subject_author
        )
    )


def _capped(asked: Asked, rules: Rules, out: Verdicts) -> tuple[PaperRef, ...]:
    kept, dropped = capped(asked.refs, rules.max_papers_per_post)
    if dropped:
        out.note(
            "info",
            "papers_capped",
            status_id=asked.status.id,
            paper_ids=[str(r) for r in kept],
            ignored=[str(r) for r in dropped],
        )
    return kept


def _message(status: Status, kind: RequestKind, now: datetime, *, stopped: bool = False) -> Request:
    return Request(status, (), now, kind=kind, stopped=stopped)


def _deletion(mention: Status, facts: PageFacts, now: datetime, out: Verdicts) -> None:
    """``delete`` under one of the bot's replies, by the people it was for: queued."""
    target = mention.in_reply_to_id or ""
    owner = facts.reply_owners.get(target)
    said = {"status_id": mention.id, "reply_id": target}
    if owner is None:
        out.note("info", "delete_refused", reason="not_a_reply_of_mine", **said)
        return
    if not may_delete(mention.account.id, owner.asker_id, owner.subject_author_id):
        out.note("info", "delete_refused", reason="not_asked_by_its_people", **said)
        return
    out.decided.requests.append(Request(mention, (), now, kind="delete"))
