"""What the state forgets, and when: records of finished work older than the retention."""

from __future__ import annotations

from datetime import datetime

from bot.state.db import Database

PRUNED = (
    ("answered", "answered_at", ""),
    ("notices", "sent_at", ""),
    ("replies", "posted_at", " AND status_id NOT IN (SELECT status_id FROM pending)"),
    ("papers", "fetched_at", ""),
    ("tldrs", "made_at", ""),
    ("misses", "first_at", ""),
    ("skipped", "skipped_at", ""),
    ("checkpoints", "recorded_at", ""),
    ("uris", "seen_at", ""),
)
"""(table, its time column, what of it is kept regardless). Cursors, the queue and open
intents are never pruned."""


def prune(db: Database, older_than: datetime) -> dict[str, int]:
    """Forget answered statuses, their replies, cached papers and TL;DRs older than this;
    returns how many rows went, by table."""
    cutoff = older_than.isoformat()
    removed: dict[str, int] = {}
    with db.transaction() as tx:
        for table, column, keep in PRUNED:
            sql = f"DELETE FROM {table} WHERE {column} < ?{keep}"  # noqa: S608 -- fixed names
            removed[table] = tx.execute(sql, (cutoff,)).rowcount
    return removed
