"""A status read once for what it asks: the papers it points to and, for a mention, the
command after the bot's handle. Every status the bot looks at is read here and only here."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.models import PaperRef, Status
from bot.text.arxiv_links import papers_in_status
from bot.text.commands import Command, command_in, status_text


@dataclass(frozen=True, slots=True)
class Asked:
    status: Status
    refs: tuple[PaperRef, ...]
    command: Command | None = None


class Parser:
    """Reads statuses for the bot called ``username`` (its commands follow that handle)."""

    def __init__(self, clock: Clock, *, bare_ids: bool, username: str = "") -> None:
        self._clock = clock
        self._bare_ids = bare_ids
        self._username = username

    def refs(self, status: Status) -> tuple[PaperRef, ...]:
        today = self._clock.now().date()
        found = papers_in_status(
            status.content, today, card_url=status.card_url, bare_ids=self._bare_ids
        )
        return tuple(found)

    def __call__(self, status: Status, *, mention: bool = False) -> Asked:
        """What ``status`` asks; its command only when it is a ``mention``."""
        command = command_in(status_text(status.content), self._username) if mention else None
        return Asked(status, self.refs(status), command)
