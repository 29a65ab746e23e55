"""The facts one page's decisions need, gathered in one pass before any status is decided:
what was decided before, who said stop, who follows the bot, the bot's answers and waiting
requests per account this hour, who had a help text today or a notice this hour, the posts
that mentions reply to, and the owners of replies someone asks to delete.

A handful of queries and requests per page, whatever its size; none per status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from bot.clients.ports import MastodonPort
from bot.clock import Clock
from bot.deciding.asked import Asked
from bot.errors import RejectedError
from bot.models import Identity, Status
from bot.state.consent import Consent
from bot.state.ledger import Ledger, ReplyOwner

log = structlog.get_logger()


@dataclass(frozen=True)
class PageFacts:
    decided: frozenset[str] = frozenset()
    """Statuses decided before: queued, answered or skipped."""
    stopped: frozenset[str] = frozenset()
    followers: frozenset[str] | None = None
    """Accounts that follow the bot, where the hashtag policy asks (else None)."""
    answered: Mapping[str, int] = field(default_factory=dict)
    """Paper answers each account had in the last hour."""
    queued: Mapping[str, int] = field(default_factory=dict)
    """Paper requests of each account waiting in the queue."""
    helped_today: frozenset[str] = frozenset()
    noticed_this_hour: frozenset[str] = frozenset()
    parents: Mapping[str, Asked | str] = field(default_factory=dict)
    """The post a mention replies to, read; or why it cannot be (``unreadable_403``, …)."""
    reply_owners: Mapping[str, ReplyOwner] = field(default_factory=dict)


def wants_parent(asked: Asked) -> bool:
    """A mention with no paper and no command of its own (but ``abstract``) asks about the
    post it replies to."""
    status = asked.status
    return not asked.refs and asked.command in (None, "abstract") and bool(status.in_reply_to_id)


class Facts:
    def __init__(
        self,
        ledger: Ledger,
        consent: Consent,
        mastodon: MastodonPort,
        clock: Clock,
        parse: Callable[[Status], Asked],
        *,
        me: Identity,
        followers_only: bool,
    ) -> None:
        self._ledger = ledger
        self._consent = consent
        self._mastodon = mastodon
        self._clock = clock
        self._parse = parse
        self._me = me
        self._followers_only = followers_only

    def for_hashtag_posts(self, page: Sequence[Asked]) -> PageFacts:
        """For posts with papers: they need consent, and room under the caps."""
        decided = self._ledger.decided_among([a.status.id for a in page])
        fresh = [a for a in page if a.status.id not in decided]
        authors = {a.status.account.id for a in fresh}
        answered, queued, noticed = self._rates(authors)
        return PageFacts(
            decided=decided,
            stopped=self._consent.stopped_among(authors),
            followers=self._followers(a.status for a in fresh if not a.status.account.bot),
            answered=answered,
            queued=queued,
            noticed_this_hour=noticed,
        )

    def for_mentions(self, page: Sequence[Asked]) -> PageFacts:
        decided = self._ledger.decided_among([a.status.id for a in page])
        fresh = [a for a in page if a.status.id not in decided]
        askers = {a.status.account.id for a in fresh}
        stopped = self._consent.stopped_among(askers)
        since = self._clock.now() - timedelta(days=1)
        asking = [
            a
            for a in fresh
            if wants_parent(a)
            and not a.status.account.bot
            and a.status.account.id not in stopped
            and a.status.account.id != self._me.account_id
        ]
        deleting = [a.status.in_reply_to_id for a in fresh if a.command == "delete"]
        answered, queued, noticed = self._rates(askers)
        return PageFacts(
            decided=decided,
            stopped=stopped,
            answered=answered,
            queued=queued,
            helped_today=self._consent.noticed_since(askers, "help", since),
            noticed_this_hour=noticed,
            parents=self._parents(a.status.in_reply_to_id or "" for a in asking),
            reply_owners=self._ledger.reply_owners([i for i in deleting if i]),
        )

    def _rates(self, accounts: set[str]) -> tuple[dict[str, int], dict[str, int], frozenset[str]]:
        """Answers in the last hour, requests waiting, and who had a notice this hour."""
        hour_ago = self._clock.now() - timedelta(hours=1)
        return (
            self._ledger.answers_since(accounts, hour_ago),
            self._ledger.queued_by(accounts),
            self._consent.noticed_since(accounts, "notice", hour_ago),
        )

    def _followers(self, statuses: Iterable[Status]) -> frozenset[str] | None:
        if not self._followers_only:
            return None
        authors = sorted({s.account.id for s in statuses})
        try:
            return frozenset(self._mastodon.followers_among(authors))
        except RejectedError as exc:  # nobody counts as a follower: answering nobody is safe
            log.warning("followers_unreadable", error=exc)
            return frozenset()

    def _parents(self, parent_ids: Iterable[str]) -> dict[str, Asked | str]:
        """The posts mentions reply to, each read once; for one the bot may not read, why."""
        parents: dict[str, Asked | str] = {}
        for parent_id in parent_ids:
            if parent_id in parents:
                continue
            try:
                parent = self._mastodon.status(parent_id)
            except RejectedError as exc:
                parents[parent_id] = f"unreadable_{exc.status}"
                continue
            parents[parent_id] = (
                self._parse(parent) if parent is not None else "unreadable_malformed"
            )
        return parents
