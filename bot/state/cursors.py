"""Where each source's reading stands, and where it stood now and then (for sweeps)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from bot.state.db import Database


class Cursors:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, source: str) -> str | None:
        row = self._db.one("SELECT cursor FROM cursors WHERE source=?", (source,))
        return None if row is None else str(row[0])

    def write(self, tx: sqlite3.Connection, source: str, cursor: str) -> None:
        """Inside a page's transaction: the source has read up to ``cursor``."""
        tx.execute(
            "INSERT INTO cursors (source, cursor, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(source) DO UPDATE SET cursor=excluded.cursor, "
            "updated_at=excluded.updated_at",
            (source, cursor, self._db.stamp()),
        )

    def checkpoint(self, source: str, cursor: str, every: float) -> None:
        """Note where ``source``'s cursor is now, at most once per ``every`` seconds."""
        now = self._db.clock.now()
        row = self._db.one("SELECT MAX(recorded_at) FROM checkpoints WHERE source=?", (source,))
        last = row[0] if row is not None else None
        if last is not None and now - datetime.fromisoformat(last) < timedelta(seconds=every):
            return
        with self._db.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO checkpoints (source, cursor, recorded_at) VALUES (?, ?, ?)",
                (source, cursor, now.isoformat()),
            )

    def sweep_start(self, source: str, before: datetime) -> str | None:
        """Where a sweep of ``source`` begins: the newest checkpoint recorded at or before
        ``before``, else (a young install) the oldest one; None when there is none."""
        row = self._db.one(
            "SELECT cursor FROM checkpoints WHERE source=? AND recorded_at<=?"
            " ORDER BY recorded_at DESC LIMIT 1",
            (source, before.isoformat()),
        )
        if row is None:
            row = self._db.one(
                "SELECT cursor FROM checkpoints WHERE source=? ORDER BY recorded_at LIMIT 1",
                (source,),
            )
        return None if row is None else str(row[0])
