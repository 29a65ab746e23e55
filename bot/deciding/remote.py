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
        subjects = [subject_of(s) for s in statuses]
        with_papers = [s for s in subjects if s.uri and not s.account.bot and self._parse.refs(s)]
        known = self._known_among([s.uri for s in with_papers if s.uri])
        found: list[Found] = []
        for status in with_papers:
            uri = status.uri
            if uri is None or uri in known or any(f.uri == uri for f in found):
                continue
            found.append(Found(uri, source))
            log.debug("remote_post_found", source=source, uri=uri, remote_id=status.id)
        return Decided(found=found)
