"""The parts of the state, opened together on one connection; and the one step that records
a page: its requests, its decisions against, its stop/start commands and its cursor, all or
nothing."""

from __future__ import annotations

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


@dataclass(frozen=True)
class Store:
    db: Database
    cursors: Cursors
    ledger: Ledger
    consent: Consent
    papers: PaperCache
    meta: Meta

    @classmethod
    def open(cls, path: Path, clock: Clock) -> Store:
        return cls.on(Database.open(path, clock))

    @classmethod
    def in_memory(cls, clock: Clock) -> Store:
        """A throw-away state, for ``arxiv-bot preview``: the same code paths, nothing kept."""
        return cls.open(Path(":memory:"), clock)

    @classmethod
    def on(cls, db: Database) -> Store:
        return cls(db, Cursors(db), Ledger(db), Consent(db), PaperCache(db), Meta(db))

    def close(self) -> None:
        self.db.close()

    def record_page(self, source: str, cursor: str | None, decided: Decided) -> int:
        """Queue the page's requests, remember what it decided against, apply its stop/start
        commands and advance the source's cursor (unless None: a sweep, or a stream), in one
        transaction. A request decided before is left alone; a message request is noted as
        sent to its account. Returns how many were queued."""
        queued = 0
        with self.db.transaction() as tx:
            self.ledger.write_skipped(tx, decided.skipped)
            self.consent.write_stops(tx, decided.stops)
            for request in decided.requests:
                if not self.ledger.write_request(tx, request):
                    continue
                if request.kind in ("help", "notice", "confirm"):
                    self.consent.write_notice(tx, request.status.account.id, request.kind)
                queued += 1
            if cursor is not None:
                self.cursors.write(tx, source, cursor)
        return queued
