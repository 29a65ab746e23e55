"""The sources of statuses, all of one shape: a key, whether they bring mentions, where a
first start begins, and the pages after a cursor.

Hashtag timelines and mentions are read forward with ``min_id`` (the page right after the
cursor, newest first), page after page while pages come back full. A page repeated (a server
that ignores the cursor) or an empty one ends the walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Literal, Protocol

from bot.clients.ports import MastodonPort
from bot.limits.budget import PAGE_LIMIT
from bot.models import Page, Status

MENTIONS = "mentions"
Read = Literal["live", "stream", "sweep"]
"""How a source's statuses were read, for the metrics."""


class Source(Protocol):
    key: str
    """The name its cursor (if it keeps one) and its records are kept under."""
    mentions: bool
    """Whether its statuses are mentions (requests) rather than hashtag posts."""
    read: Read
    keeps_cursor: bool
    """False for a sweep (it starts where it is told) and for the streams' inbox (no cursor)."""

    def newest(self) -> str | None:
        """The cursor of the newest item now: where a first start begins."""
        ...

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """The pages after ``cursor``, oldest page first, each newest status first."""
        ...


def forward(
    fetch: Callable[[str, int], Page], cursor: str, limit: int = PAGE_LIMIT
) -> Iterator[Page]:
    """Pages after ``cursor`` with ``min_id``, until one is short, empty or repeated."""
    walked: set[str] = set()
    while True:
        page = fetch(cursor, limit)
        if page.cursor is None or page.cursor in walked or page.cursor == cursor:
            return  # the end, or a server that answers the same page again
        walked.add(page.cursor)
        yield page
        if page.size < limit:  # a page short of unreadable items is still full
            return
        cursor = page.cursor


def carries_a_watched_tag(status: Status, watched: frozenset[str]) -> bool:
    """Whether ``status`` (or the post it boosts) carries one of the ``watched`` tags (lower
    case), from its own ``tags``: a server that ignores or ANDs ``any[]``, or a stream that
    delivers more than asked, cannot mislead the bot."""
    tags = set(status.tags) | set(status.reblog.tags if status.reblog else ())
    return bool(tags & watched)


class HashtagSource:
    """Public posts under up to four hashtags (one timeline request)."""

    mentions = False
    read: Read = "live"
    keeps_cursor = True

    def __init__(self, mastodon: MastodonPort, tags: Sequence[str]) -> None:
        self._mastodon = mastodon
        self.tags = tuple(tags)
        self._watched = frozenset(t.lower() for t in self.tags)
        self.key = "tags:" + ",".join(self.tags)

    def newest(self) -> str | None:
        return self._mastodon.tag_page(self.tags, None, limit=1).cursor

    def page(self, cursor: str, limit: int) -> Page:
        """The page, less statuses that carry none of the watched tags (from each status's
        ``tags``), so a server that ignores or ANDs ``any[]`` cannot mislead the bot."""
        page = self._mastodon.tag_page(self.tags, cursor, limit=limit)
        kept = tuple(s for s in page.statuses if carries_a_watched_tag(s, self._watched))
        return Page(kept, page.cursor, page.size)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return forward(self.page, cursor or "0")


class MentionSource:
    """The bot's mention notifications; the cursor is the notification id."""

    mentions = True
    read: Read = "live"
    keeps_cursor = True
    key = MENTIONS

    def __init__(self, mastodon: MastodonPort, own_account_id: str | None) -> None:
        self._mastodon = mastodon
        self._own = own_account_id

    def newest(self) -> str | None:
        return self._mastodon.mention_page(None, limit=1).cursor

    def page(self, cursor: str, limit: int) -> Page:
        """Mentions of the bot only: a status whose ``mentions`` do not name the bot is not
        one (servers that type every reply or every post as a mention)."""
        page = self._mastodon.mention_page(cursor, limit=limit)
        kept = tuple(s for s in page.statuses if self._own is None or self._own in s.mention_ids)
        return Page(kept, page.cursor, page.size)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return forward(self.page, cursor or "0")
