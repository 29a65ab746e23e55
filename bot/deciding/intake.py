"""The intake: one page of statuses in, the page's decisions out, logged.

Each status is read once (``asked``), the page's facts are gathered in one pass (``facts``),
then everything is decided by pure rules (``verdicts``). The result goes back to the reading
loop, which records it with the cursor in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from bot.clock import Clock
from bot.deciding import verdicts
from bot.deciding.asked import Parser
from bot.deciding.facts import Facts
from bot.deciding.policy import subject_of
from bot.models import Decided, Identity, Status

log = structlog.get_logger()


class Intake:
    def __init__(
        self,
        facts: Facts,
        parse: Parser,
        rules: verdicts.Rules,
        me: Identity,
        clock: Clock,
        *,
        remember_uris: bool = False,
    ) -> None:
        self._remember_uris = remember_uris
        """With remote tags watched: note the URI of each status decided, so that a copy of
        it on another server is known and never resolved (nothing is written otherwise)."""
        self._facts = facts
        self._parse = parse
        self._rules = rules
        self._me = me
        self._clock = clock

    def decide(self, mentions: bool, statuses: Sequence[Status]) -> Decided:
        """The requests among ``statuses`` (oldest first), from a hashtag or a mention page."""
        now = self._clock.now()
        if mentions:
            asked = [self._parse(m, mention=True) for m in statuses]
            found = verdicts.mentions(
                asked, self._facts.for_mentions(asked), self._rules, self._me, now
            )
        else:
            asked = [self._parse(subject_of(s)) for s in statuses]
            with_papers = [a for a in asked if a.refs]
            facts = self._facts.for_hashtag_posts(with_papers)
            found = verdicts.hashtag_posts(asked, facts, self._rules, self._me, now)
        for note in found.notes:
            getattr(log, note.level)(note.event, **note.facts)
        decided = found.decided
        if self._remember_uris:
            settled = set(decided.skipped) | {r.status.id for r in decided.requests}
            decided.uris = {
                a.status.id: a.status.uri
                for a in asked
                if a.refs and a.status.uri and a.status.id in settled
            }
        return decided
