"""The parts of the state, opened together on one connection; and the one step that records
a page: its requests, its decisions against, its stop/start commands and its cursor, all or
nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.clock import Clock
from bot.models import Decided
from bot.state.consent import Consent
from bot.state.cursors import Cursors
from bot.state.db import Database
from bot.state.ledger import Ledger
from bot.state.meta import Meta
from bot.state.paper_cache import PaperCache
from bot.state.remote import RemotePosts


@dataclass(frozen=True)
class Store:
    db: Database
    cursors: Cursors
    ledger: Ledger
    consent: Consent
    papers: PaperCache
    meta: Meta
    remote: RemotePosts

    @classmethod
    def open(cls, path: Path, clock: Clock) -> Store:
        return cls.on(Database.open(path, clock))

    @classmethod
    def in_memory(cls, clock: Clock) -> Store:
        """A throw-away state, for ``arxiv-bot preview``: the same code paths, nothing kept."""
        return cls.open(Path(":memory:"), clock)

    @classmethod
    def on(cls, db: Database) -> Store:
        return cls(
            db, Cursors(db), Ledger(db), Consent(db), PaperCache(db), Meta(db), RemotePosts(db)
        )

    def close(self) -> None:
        self.db.close()

    def record_page(self, source: str, cursor: str | None, decided: Decided) -> int:
        """Queue the page's requests, remember what it decided against, apply its stop/start
        commands, note the URIs of its statuses with papers and the posts it found on another
        server, and advance the source's cursor (unless None: a sweep, or a stream), in one
        transaction. A request decided before is left alone; a message request is noted as
        sent to its account. Returns how many were queued (or found, on a remote source)."""
        with self.db.transaction() as tx:
            queued = self._write(tx, decided)
            if cursor is not None:
                self.cursors.write(tx, source, cursor)
        return queued

    def record_resolved(self, uri: str, status_id: str, decided: Decided) -> int:
        """A post found on another server, resolved here as ``status_id`` and decided: its
        decisions and its URI, in one transaction. Returns how many were queued."""
        with self.db.transaction() as tx:
            queued = self._write(tx, decided)
            self.remote.write_seen(tx, {status_id: uri}, "resolved")
        return queued

    def _write(self, tx: sqlite3.Connection, decided: Decided) -> int:
        queued = 0
        self.ledger.write_skipped(tx, decided.skipped)
        self.consent.write_stops(tx, decided.stops)
        for request in decided.requests:
            if not self.ledger.write_request(tx, request):
                continue
            if request.kind in ("help", "notice", "confirm"):
                self.consent.write_notice(tx, request.status.account.id, request.kind)
            queued += 1
        self.remote.write_seen(tx, decided.uris, "decided")
        return queued + self.remote.write_found(tx, decided.found)
