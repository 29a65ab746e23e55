"""Who told the bot to stop, and who was sent which of its notices when."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping
from datetime import datetime

from bot.state.db import Database, placeholders


class Consent:
    def __init__(self, db: Database) -> None:
        self._db = db

    def stopped_among(self, account_ids: Collection[str]) -> frozenset[str]:
        """The accounts of these that said ``stop`` (and not ``start`` since)."""
        ids = sorted(set(account_ids))
        if not ids:
            return frozenset()
        rows = self._db.all(
            f"SELECT account_id FROM stopped WHERE account_id IN ({placeholders(ids)})",  # noqa: S608 -- placeholders only
            ids,
        )
        return frozenset(str(r[0]) for r in rows)

    def noticed_since(
        self, account_ids: Collection[str], kind: str, since: datetime
    ) -> frozenset[str]:
        """The accounts of these that were sent a message of ``kind`` since then."""
        ids = sorted(set(account_ids))
        if not ids:
            return frozenset()
        rows = self._db.all(
            "SELECT DISTINCT account_id FROM notices WHERE kind=? AND sent_at>=?"  # noqa: S608 -- placeholders only
            f" AND account_id IN ({placeholders(ids)})",
            [kind, since.isoformat(), *ids],
        )
        return frozenset(str(r[0]) for r in rows)

    def write_stops(self, tx: sqlite3.Connection, stops: Mapping[str, bool]) -> None:
        """Inside a page's transaction: ``stop`` (True) or ``start`` (False), by account."""
        for account_id, stop in stops.items():
            if stop:
                tx.execute(
                    "INSERT OR IGNORE INTO stopped (account_id, stopped_at) VALUES (?, ?)",
                    (account_id, self._db.stamp()),
                )
            else:
                tx.execute("DELETE FROM stopped WHERE account_id=?", (account_id,))

    def write_notice(self, tx: sqlite3.Connection, account_id: str, kind: str) -> None:
        """Inside a page's transaction: a message of ``kind`` is on its way to the account."""
        tx.execute(
            "INSERT INTO notices (account_id, kind, sent_at) VALUES (?, ?, ?)",
            (account_id, kind, self._db.stamp()),
        )
