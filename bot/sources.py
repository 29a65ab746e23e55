"""Reading sources into requests: one loop for every source of statuses.

A source is a small adapter that says where it begins and reads one page after a cursor
(hashtag timelines and mentions today; a stream or a sweep of history is one more class).
:func:`read_source` pages forward from the stored cursor, hands each page to the intake to
decide, and records the page's requests together with the new cursor in one transaction.
Nothing is written to Mastodon while a page is read: every action becomes a queued request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog

from bot.intake import Decided
from bot.models import Page, Status
from bot.pacing import MAX_PAGES_PER_CYCLE, PAGE_LIMIT
from bot.ports import MastodonPort
from bot.store import Store

log = structlog.get_logger()
MENTIONS = "mentions"


class Source(Protocol):
    key: str
    """The name its cursor is stored under."""
    mentions: bool
    """Whether its statuses are mentions (requests) rather than hashtag posts."""

    def newest(self) -> str | None:
        """The cursor of the newest item now: where a first start begins."""
        ...

    def page(self, cursor: str, limit: int) -> Page: ...


class HashtagSource:
    """Public posts under up to five hashtags (one timeline request)."""

    mentions = False

    def __init__(self, mastodon: MastodonPort, tags: Sequence[str]) -> None:
        self._mastodon = mastodon
        self._tags = tuple(tags)
        self._watched = frozenset(t.lower() for t in self._tags)
        self.key = "tags:" + ",".join(self._tags)

    def newest(self) -> str | None:
        return self._mastodon.tag_page(self._tags, None, limit=1).cursor

    def page(self, cursor: str, limit: int) -> Page:
        """The page, less statuses that carry none of the watched tags (from each status's
        ``tags``), so a server that ignores or ANDs ``any[]`` cannot mislead the bot."""
        page = self._mastodon.tag_page(self._tags, cursor, limit=limit)
        kept = tuple(s for s in page.statuses if carries_a_watched_tag(s, self._watched))
        return Page(kept, page.cursor, page.size)


def carries_a_watched_tag(status: Status, watched: frozenset[str]) -> bool:
    """Whether ``status`` (or the post it boosts) carries one of the ``watched`` tags (lower
    case), from its own ``tags``: a server that ignores or ANDs ``any[]``, or a stream that
    delivers more than asked, cannot mislead the bot."""
    tags = set(status.tags) | set(status.reblog.tags if status.reblog else ())
    return bool(tags & watched)


class MentionSource:
    """The bot's mention notifications; the cursor is the notification id."""

    mentions = True
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


@dataclass
class ReadCounts:
    seen: int = 0
    queued: int = 0
    skipped: int = 0
    backlog_full: int = 0
    """Requests dropped because their account had too many waiting already."""


class SweepSource:
    """A hashtag timeline read again over recent history, for posts that arrived late.

    Mastodon gives a post from another server an id made from its publish time: one that
    federates minutes late sorts before posts the live cursor has passed. A sweep pages
    forward again from a checkpoint at least the lookback old; what it finds goes through the
    same intake, where a post decided before is not decided again. It keeps no cursor.
    """

    mentions = False

    def __init__(self, live: HashtagSource, not_before: datetime) -> None:
        self._live = live
        self._not_before = not_before
        self.key = "sweep:" + live.key

    def newest(self) -> str | None:
        return self._live.newest()

    def page(self, cursor: str, limit: int) -> Page:
        """The live page, less the posts published before the lookback (left alone)."""
        page = self._live.page(cursor, limit)
        recent = tuple(
            s for s in page.statuses if s.created_at is None or s.created_at >= self._not_before
        )
        return Page(recent, page.cursor, page.size)


def read_source(
    source: Source,
    store: Store,
    decide: Callable[[bool, Sequence[Status]], Decided],
    should_stop: Callable[[], bool],
    counts: ReadCounts,
    page_limit: int = PAGE_LIMIT,
    *,
    start: str | None = None,
    max_pages: int = MAX_PAGES_PER_CYCLE,
) -> str | None:
    """Page forward from the stored cursor, deciding and recording page by page.

    On a source's first start the cursor is set to "now": the backlog is not answered.
    Errors propagate: the cursor only moves with a page that was recorded. With ``start``
    (a sweep) the walk begins there and moves no stored cursor.

    Returns where the walk stopped when it stopped before the newest page (``max_pages``
    read, or a stop requested), None when it reached the newest.
    """
    keep_cursor = start is None
    cursor = store.cursor(source.key) if start is None else start
    if cursor is None:
        first = source.newest() or "0"
        store.record_page(source.key, first, [])
        log.info("source_started", source=source.key, cursor=first)
        return None
    walked: set[str] = set()
    for _ in range(max_pages):
        if should_stop():
            return cursor
        page = source.page(cursor, page_limit)
        if page.cursor is None or page.cursor in walked or page.cursor == cursor:
            return None  # the end, or a server that answers the same page again
        walked.add(page.cursor)
        counts.seen += page.size
        # Pages come newest first; queue oldest first, so replies go out in that order.
        decided = decide(source.mentions, page.statuses[::-1])
        counts.skipped += page.size - len(decided.requests)
        counts.backlog_full += sum(1 for r in decided.skipped.values() if r == "backlog_full")
        cursor = page.cursor
        counts.queued += store.record_page(
            source.key,
            cursor if keep_cursor else None,
            decided.requests,
            stops=decided.stops,
            skipped=decided.skipped,
        )
        if page.size < page_limit:  # a page short of unreadable items is still full
            return None
    return cursor
