"""Posts known by their URI, and the posts found on other servers' tag timelines that wait to
be resolved on the bot's own server.

A status is decided under its id on the bot's own server; the same post read from another
server has another id there, so it is known here by its URI (its ActivityPub id, the same on
every server): a post decided here, or found elsewhere and resolved or dropped, is never
resolved again. A post found elsewhere waits in ``remote_found`` until it is resolved (then
decided like any other), retried after a transient failure, or dropped with its reason.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.models import Found
from bot.state.db import Database, placeholders


@dataclass(frozen=True, slots=True)
class Waiting:
    """A post found elsewhere, not yet resolved here."""

    uri: str
    source: str
    found_at: datetime
    attempts: int


class RemotePosts:
    def __init__(self, db: Database) -> None:
        self._db = db

    def known_among(self, uris: Collection[str]) -> frozenset[str]:
        """Of these URIs, the ones decided here, resolved, dropped or waiting."""
        wanted = sorted(set(uris))
        if not wanted:
            return frozenset()
        marks = placeholders(wanted)
        rows = self._db.all(
            f"SELECT uri FROM uris WHERE uri IN ({marks}) UNION "  # noqa: S608 -- placeholders only
            f"SELECT uri FROM remote_found WHERE uri IN ({marks})",
            wanted * 2,
        )
        return frozenset(str(r[0]) for r in rows)

    def write_seen(self, tx: sqlite3.Connection, uris: Mapping[str, str], outcome: str) -> None:
        """Inside a page's transaction: these statuses (id → URI) were decided here."""
        if not uris:
            return
        stamp = self._db.stamp()
        tx.executemany(
            "INSERT OR IGNORE INTO uris (uri, status_id, outcome, seen_at) VALUES (?, ?, ?, ?)",
            [(uri, status_id, outcome, stamp) for status_id, uri in uris.items()],
        )
        tx.executemany("DELETE FROM remote_found WHERE uri=?", [(uri,) for uri in uris.values()])

    def write_found(self, tx: sqlite3.Connection, found: Sequence[Found]) -> int:
        """Inside a page's transaction: posts found elsewhere, to resolve; how many were new."""
        added = 0
        stamp = self._db.stamp() if found else ""
        for item in found:
            added += tx.execute(
                "INSERT OR IGNORE INTO remote_found (uri, source, found_at, attempts, next_at)"
                " SELECT ?, ?, ?, 0, ? WHERE NOT EXISTS (SELECT 1 FROM uris WHERE uri=?)",
                (item.uri, item.source, stamp, stamp, item.uri),
            ).rowcount
        return added

    def due(self, now: datetime, limit: int) -> list[Waiting]:
        """The posts whose resolve is due, oldest found first."""
        rows = self._db.all(
            "SELECT uri, source, found_at, attempts FROM remote_found WHERE next_at <= ?"
            " ORDER BY found_at, uri LIMIT ?",
            (now.isoformat(), limit),
        )
        return [Waiting(str(u), str(s), datetime.fromisoformat(f), int(a)) for u, s, f, a in rows]

    def waiting(self) -> int:
        return self._db.count("SELECT COUNT(*) FROM remote_found")

    def retry_at(self, uri: str, at: datetime) -> None:
        """A resolve failed for now: try it again from ``at``."""
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE remote_found SET attempts=attempts+1, next_at=? WHERE uri=?",
                (at.isoformat(), uri),
            )

    def postpone_all(self, at: datetime) -> None:
        """Every resolve waits until ``at`` (the bot's own server refuses them all for now)."""
        with self._db.transaction() as tx:
            tx.execute("UPDATE remote_found SET next_at=? WHERE next_at < ?", (at.isoformat(),) * 2)

    def drop(self, uri: str, reason: str) -> None:
        """Never resolved: remembered with the reason, so it is not found again."""
        with self._db.transaction() as tx:
            self.write_seen(tx, {"": uri}, reason)
