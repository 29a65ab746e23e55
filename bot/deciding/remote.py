"""Posts read from another server's tag timeline: which are worth resolving on the bot's own
server (read once; nothing else is decided here).

A post is found when it links a paper, has a URI, is not by a bot (never answered anyway),
and is not known yet by that URI (decided here, found before, resolved or dropped). Everything else about it — consent, opt-outs,
caps, visibility — is decided only once the bot's own server has resolved it, by the same
intake as a post read there: the remote copy is never answered, and its author's profile is
read as the bot's own server sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import structlog

from bot.deciding.asked import Parser
from bot.deciding.policy import subject_of
from bot.models import Decided, Found, Status

log = structlog.get_logger()


class RemoteIntake:
    def __init__(
        self, parse: Parser, known_among: Callable[[Collection[str]], frozenset[str]]
    ) -> None:
        self._parse = parse
        self._known_among = known_among

    def decider(self, source: str) -> Callable[[bool, Sequence[Status]], Decided]:
        """The decide step of one remote source's reading loop."""
        return lambda _mentions, statuses: self.found(source, statuses)

    def found(self, source: str, statuses: Sequence[Status]) -> Decided:
        """The posts among ``statuses`` (oldest first) to resolve, each once."""
        with_papers: dict[str, Status] = {}  # by URI, the first of each, in order
        for status in map(subject_of, statuses):
            if status.uri and not status.account.bot and self._parse.refs(status):
                with_papers.setdefault(status.uri, status)
        known = self._known_among(with_papers)
        found = [Found(uri, source) for uri in with_papers if uri not in known]
        for item in found:
            log.debug(
                "remote_post_found", source=source, uri=item.uri, remote_id=with_papers[item.uri].id
            )
        return Decided(found=found)
