"""The one reading loop: a source's pages, each decided and recorded with its cursor.

On a source's first start the cursor is set to "now": the backlog is not answered. Errors
propagate: the cursor only moves with a page that was recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from bot.limits.budget import MAX_PAGES_PER_CYCLE
from bot.models import Decided, Status
from bot.reading.sources import Source
from bot.state.cursors import Cursors

log = structlog.get_logger()
Decide = Callable[[bool, Sequence[Status]], Decided]
Record = Callable[[str, str | None, Decided], int]
"""Records a page's decisions (and its cursor, unless None); returns how many were queued."""


@dataclass
class ReadCounts:
    seen: int = 0
    queued: int = 0
    skipped: int = 0
    backlog_full: int = 0
    """Requests dropped because their account had too many waiting already."""


def read_source(
    source: Source,
    cursors: Cursors,
    decide: Decide,
    record: Record,
    should_stop: Callable[[], bool],
    counts: ReadCounts,
    *,
    start: str | None = None,
    max_pages: int = MAX_PAGES_PER_CYCLE,
) -> str | None:
    """Read ``source`` from its stored cursor (or from ``start``, for a source that keeps
    none), deciding and recording page by page.

    Returns where the walk stopped when it stopped before the newest page (``max_pages``
    read, or a stop requested), None when it reached the newest.
    """
    cursor = cursors.get(source.key) if source.keeps_cursor else start
    if source.keeps_cursor and cursor is None:
        first = source.newest() or "0"
        record(source.key, first, Decided())
        log.info("source_started", source=source.key, cursor=first)
        return None
    pages = source.pages(cursor)
    for _ in range(max_pages):
        if should_stop():
            return cursor
        page = next(pages, None)
        if page is None:
            return None
        counts.seen += page.size
        # Pages come newest first; queue oldest first, so replies go out in that order.
        decided = decide(source.mentions, page.statuses[::-1])
        counts.skipped += page.size - len(decided.requests)
        counts.backlog_full += sum(1 for r in decided.skipped.values() if r == "backlog_full")
        cursor = page.cursor
        counts.queued += record(source.key, cursor if source.keeps_cursor else None, decided)
    return cursor
