"""What arXiv said: papers it sent, ids it did not know (yet), and machine-written TL;DRs."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta

import structlog

from bot.models import Paper
from bot.state.codecs import UnreadableRecord, paper_from_json, paper_to_json
from bot.state.db import Database, placeholders

log = structlog.get_logger()


class PaperCache:
    def __init__(self, db: Database) -> None:
        self._db = db

    def papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        """Cached papers by id; an entry that no longer parses is forgotten (and logged), so
        the paper is simply fetched again."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        rows = self._db.all(
            f"SELECT arxiv_id, paper FROM papers WHERE arxiv_id IN ({placeholders(wanted)})",  # noqa: S608 -- placeholders only
            wanted,
        )
        out: dict[str, Paper] = {}
        for arxiv_id, text in rows:
            try:
                out[str(arxiv_id)] = paper_from_json(text)
            except UnreadableRecord as exc:
                with self._db.transaction() as db:
                    db.execute("DELETE FROM papers WHERE arxiv_id=?", (arxiv_id,))
                log.warning("cached_paper_forgotten", paper_id=arxiv_id, reason=str(exc))
        return {i: out[i] for i in wanted if i in out}

    def keep(self, papers: Iterable[Paper]) -> None:
        with self._db.transaction() as db:
            for paper in papers:
                db.execute(
                    "INSERT OR REPLACE INTO papers (arxiv_id, paper, fetched_at) VALUES (?, ?, ?)",
                    (paper.arxiv_id, paper_to_json(paper), self._db.stamp()),
                )

    # --- ids arXiv did not know (yet) ------------------------------------------------------

    def misses_not_due(self, ids: Collection[str]) -> set[str]:
        """Of these ids, the ones arXiv did not know whose next ask is still in the future."""
        now = self._db.clock.now()
        return {
            arxiv_id
            for arxiv_id, next_at in self._misses(ids, "next_at")
            if datetime.fromisoformat(next_at) > now
        }

    def missed(self, ids: Collection[str]) -> set[str]:
        """Of these ids, the ones arXiv has not known at least once (and not since)."""
        return {arxiv_id for arxiv_id, _ in self._misses(ids, "count")}

    def _misses(self, ids: Collection[str], column: str) -> list[tuple[str, str]]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        rows = self._db.all(
            f"SELECT arxiv_id, {column} FROM misses WHERE arxiv_id IN ({placeholders(wanted)})",  # noqa: S608 -- fixed names, placeholders
            wanted,
        )
        return [(str(a), str(b)) for a, b in rows]

    def record_misses(self, ids: Iterable[str], delay: Callable[[int], float]) -> None:
        """arXiv did not know these: ask again after ``delay(misses so far)`` seconds."""
        now = self._db.clock.now()
        with self._db.transaction() as db:
            for arxiv_id in ids:
                row = db.execute(
                    "SELECT count FROM misses WHERE arxiv_id=?", (arxiv_id,)
                ).fetchone()
                count = 1 if row is None else int(row[0]) + 1
                next_at = (now + timedelta(seconds=delay(count))).isoformat()
                db.execute(
                    "INSERT INTO misses (arxiv_id, first_at, count, next_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(arxiv_id) DO UPDATE SET count=excluded.count,"
                    " next_at=excluded.next_at",
                    (arxiv_id, now.isoformat(), count, next_at),
                )

    def forget_misses(self, ids: Iterable[str]) -> None:
        with self._db.transaction() as db:
            db.executemany("DELETE FROM misses WHERE arxiv_id=?", [(i,) for i in ids])

    # --- machine-written summaries ----------------------------------------------------------

    def tldr(self, arxiv_id: str, version: int, model: str) -> tuple[bool, str | None]:
        """Whether the model was already asked about this version, and its accepted answer."""
        row = self._db.one(
            "SELECT tldr FROM tldrs WHERE arxiv_id=? AND version=? AND model=?",
            (arxiv_id, version, model),
        )
        return (False, None) if row is None else (True, row[0])

    def set_tldr(
        self, arxiv_id: str, version: int, model: str, tldr: str | None, verdict: str
    ) -> None:
        with self._db.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO tldrs (arxiv_id, version, model, tldr, verdict, made_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (arxiv_id, version, model, tldr, verdict, self._db.stamp()),
            )
