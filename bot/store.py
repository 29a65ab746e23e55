"""SQLite state: cursors per source, statuses waiting for a reply, replies posted, paper cache.

Each step that changes state is one transaction, so a crash leaves either the whole step or
none of it. WAL mode lets ``arxiv-bot healthcheck`` read while the bot writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from bot import schema
from bot.errors import StateError
from bot.models import Paper, PendingStatus
from bot.records import (
    UnreadableRecord,
    paper_from_json,
    paper_to_json,
    request_from_json,
    request_to_json,
)

log = structlog.get_logger()


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Store:
    """The bot's only persistent state. Open with :meth:`open`; one instance per process."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(
        cls,
        path: Path,
        busy_timeout: float = 5.0,
        *,
        target: int = schema.VERSION,
        migrations: Mapping[int, Sequence[str]] | None = None,
    ) -> Store:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            store = cls(db)
            store._migrate(target, migrations)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot use the state database {path}: {exc}") from exc
        return store

    @classmethod
    def in_memory(cls) -> Store:
        """A throw-away store, for ``arxiv-bot preview``: the same code paths, nothing kept."""
        return cls.open(Path(":memory:"))

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(
        self, target: int = schema.VERSION, migrations: Mapping[int, Sequence[str]] | None = None
    ) -> None:
        """Create a new database at ``target``, or bring an older one up to it, atomically."""
        steps = {**schema.MIGRATIONS, **(migrations or {})}
        with self._transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else None
            if version is not None and version > target:
                raise StateError(
                    f"the state database has schema {version}, newer than this bot's "
                    f"{target}: upgrade the bot or use another BOT_DATA_DIR"
                )
            if version is None:  # a new database: the first schema, then every step
                for statement in schema.first_statements():
                    db.execute(statement)
                version = 1
            for step in range(version + 1, target + 1):
                for statement in steps.get(step, ()):
                    db.execute(statement)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(target),),
            )

    # --- cursors and the queue -------------------------------------------------------------

    def cursor(self, source: str) -> str | None:
        row = self._db.execute("SELECT cursor FROM cursors WHERE source=?", (source,)).fetchone()
        return None if row is None else str(row[0])

    def record_page(
        self,
        source: str,
        cursor: str | None,
        new: Iterable[PendingStatus],
        *,
        stops: Mapping[str, bool] | None = None,
        skipped: Mapping[str, str] | None = None,
    ) -> int:
        """Queue the page's requests, apply its stop/start commands, remember the statuses it
        decided not to answer, and advance the cursor (unless None: a sweep of history), all
        or nothing.

        Statuses already queued or answered are left alone; a queued help text or notice is
        remembered as sent. Returns how many were queued.
        """
        queued = 0
        with self._transaction() as db:
            for status_id, reason in (skipped or {}).items():
                db.execute(
                    "INSERT OR IGNORE INTO skipped (status_id, reason, skipped_at) VALUES (?, ?, ?)",
                    (status_id, reason, _now()),
                )
            for account_id, stop in (stops or {}).items():
                if stop:
                    db.execute(
                        "INSERT OR IGNORE INTO stopped (account_id, stopped_at) VALUES (?, ?)",
                        (account_id, _now()),
                    )
                else:
                    db.execute("DELETE FROM stopped WHERE account_id=?", (account_id,))
            for item in new:
                if self.decided(item.key):
                    continue
                db.execute(
                    "INSERT INTO pending (status_id, request, asker_id, kind, first_seen, seq)"
                    " VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM pending))",
                    (
                        item.key,
                        request_to_json(item),
                        item.status.account.id,
                        item.kind,
                        item.first_seen.isoformat(),
                    ),
                )
                if item.kind in ("help", "notice", "confirm"):
                    db.execute(
                        "INSERT INTO notices (account_id, kind, sent_at) VALUES (?, ?, ?)",
                        (item.status.account.id, item.kind, _now()),
                    )
                queued += 1
            if cursor is not None:
                db.execute(
                    "INSERT INTO cursors (source, cursor, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(source) DO UPDATE SET cursor=excluded.cursor, "
                    "updated_at=excluded.updated_at",
                    (source, cursor, _now()),
                )
        return queued

    def queue_depth(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])

    def decided(self, status_id: str) -> bool:
        """Whether this status was decided before: queued, answered or skipped with a reason."""
        row = self._db.execute(
            "SELECT 1 FROM pending WHERE status_id=? UNION ALL "
            "SELECT 1 FROM answered WHERE status_id=? UNION ALL "
            "SELECT 1 FROM skipped WHERE status_id=?",
            (status_id, status_id, status_id),
        ).fetchone()
        return row is not None

    # --- checkpoints for sweeps of recent history -------------------------------------------

    def checkpoint(self, source: str, cursor: str, at: datetime, every: float) -> None:
        """Note where ``source``'s cursor was at ``at``, at most once per ``every`` seconds."""
        row = self._db.execute(
            "SELECT MAX(recorded_at) FROM checkpoints WHERE source=?", (source,)
        ).fetchone()
        if row[0] is not None and at - datetime.fromisoformat(row[0]) < timedelta(seconds=every):
            return
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO checkpoints (source, cursor, recorded_at) VALUES (?, ?, ?)",
                (source, cursor, at.isoformat()),
            )

    def sweep_start(self, source: str, before: datetime) -> str | None:
        """Where a sweep of ``source`` begins: the newest checkpoint recorded at or before
        ``before``, else (a young install) the oldest one; None when there is none."""
        row = self._db.execute(
            "SELECT cursor FROM checkpoints WHERE source=? AND recorded_at<=?"
            " ORDER BY recorded_at DESC LIMIT 1",
            (source, before.isoformat()),
        ).fetchone()
        if row is None:
            row = self._db.execute(
                "SELECT cursor FROM checkpoints WHERE source=? ORDER BY recorded_at LIMIT 1",
                (source,),
            ).fetchone()
        return None if row is None else str(row[0])

    def is_answered(self, status_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM answered WHERE status_id=?", (status_id,))
        return row.fetchone() is not None

    def pending(self) -> list[PendingStatus]:
        """Queued requests, oldest first, each with the replies already posted for it.

        A request that no longer parses (written by another version of the bot, or damaged)
        is moved to ``set_aside`` and logged once, so it cannot fail every cycle.
        """
        rows = self._db.execute(
            "SELECT status_id, request, first_seen FROM pending ORDER BY seq"
        ).fetchall()
        queue = []
        for status_id, request, first_seen in rows:
            try:
                queue.append(
                    request_from_json(
                        request,
                        datetime.fromisoformat(first_seen),
                        tuple(self.reply_ids(status_id)),
                    )
                )
            except (UnreadableRecord, ValueError) as exc:
                self._set_aside(str(status_id), str(request), str(exc))
        return queue

    def _set_aside(self, status_id: str, request: str, reason: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM pending WHERE status_id=?", (status_id,))
            db.execute(
                "INSERT OR REPLACE INTO set_aside (status_id, request, reason, set_aside_at)"
                " VALUES (?, ?, ?, ?)",
                (status_id, request, reason, _now()),
            )
        log.warning("request_set_aside", status_id=status_id, reason=reason)

    def set_aside(self) -> list[tuple[str, str]]:
        """Requests taken off the queue because they no longer parse: (status id, reason)."""
        rows = self._db.execute("SELECT status_id, reason FROM set_aside ORDER BY set_aside_at")
        return [(str(a), str(b)) for a, b in rows]

    # --- consent and etiquette ----------------------------------------------------------------

    def is_stopped(self, account_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM stopped WHERE account_id=?", (account_id,))
        return row.fetchone() is not None

    def notices_since(self, account_id: str, kind: str, since: datetime) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM notices WHERE account_id=? AND kind=? AND sent_at>=?",
            (account_id, kind, since.isoformat()),
        ).fetchone()
        return int(row[0])

    def answers_since(self, account_id: str, since: datetime) -> int:
        """Paper answers this account got since then: only answers count, not skips or drops."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM answered WHERE asker_id=? AND answered_at>=?"
            " AND outcome='answered' AND kind IN ('hashtag', 'mention')",
            (account_id, since.isoformat()),
        ).fetchone()
        return int(row[0])

    def queued_for(self, account_id: str) -> int:
        """Paper requests of this account waiting in the queue."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM pending WHERE asker_id=? AND kind IN ('hashtag', 'mention')",
            (account_id,),
        ).fetchone()
        return int(row[0])

    def reply_owner(self, reply_id: str) -> tuple[str, str, str | None] | None:
        """For one of the bot's replies: the status it answered, who asked, whose post it was."""
        row = self._db.execute(
            "SELECT r.status_id, a.asker_id, a.subject_author_id FROM replies r"
            " JOIN answered a ON a.status_id = r.status_id WHERE r.reply_id=?",
            (reply_id,),
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), row[2])

    def forget_reply(self, reply_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM replies WHERE reply_id=?", (reply_id,))

    def record_intent(self, status_id: str, position: int, parent_id: str, key: str) -> None:
        """About to post: if the process dies now, the next start knows to look before posting."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO intents"
                " (status_id, position, parent_id, idempotency_key, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (status_id, position, parent_id, key, _now()),
            )

    def intent(self, status_id: str, position: int) -> str | None:
        """The parent of an intended post whose outcome is unknown, if there is one."""
        row = self._db.execute(
            "SELECT parent_id FROM intents WHERE status_id=? AND position=?", (status_id, position)
        ).fetchone()
        return None if row is None else str(row[0])

    def record_reply(self, status_id: str, position: int, paper_id: str, reply_id: str) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM intents WHERE status_id=? AND position=?", (status_id, position)
            )
            db.execute(
                "INSERT OR REPLACE INTO replies (status_id, position, reply_id, paper_id, posted_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (status_id, position, reply_id, paper_id, _now()),
            )

    def finish(self, item: PendingStatus, outcome: str) -> None:
        """The request is done (answered, or given up on): take it off the queue for good."""
        status_id = item.key
        with self._transaction() as db:
            db.execute("DELETE FROM pending WHERE status_id=?", (status_id,))
            db.execute("DELETE FROM intents WHERE status_id=?", (status_id,))
            db.execute(
                "INSERT OR REPLACE INTO answered (status_id, outcome, paper_ids, asker_id,"
                " subject_author_id, kind, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    status_id,
                    outcome,
                    json.dumps([r.arxiv_id for r in item.refs]),
                    item.status.account.id,
                    item.subject_author_id,
                    item.kind,
                    _now(),
                ),
            )

    def posts_since(self, since: datetime) -> int:
        """Posts the bot made since then (replies, notices, help: everything it posted)."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM replies WHERE posted_at>=?", (since.isoformat(),)
        ).fetchone()
        return int(row[0])

    def is_reply(self, reply_id: str) -> bool:
        """Whether this is one of the bot's replies it has on record."""
        row = self._db.execute("SELECT 1 FROM replies WHERE reply_id=?", (reply_id,))
        return row.fetchone() is not None

    def reply_ids(self, status_id: str) -> list[str]:
        return [
            str(r[0])
            for r in self._db.execute(
                "SELECT reply_id FROM replies WHERE status_id=? ORDER BY position", (status_id,)
            )
        ]

    # --- paper cache -----------------------------------------------------------------------

    def cached_papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        """Cached papers by id; a cache entry that no longer parses is forgotten (and logged),
        so the paper is simply fetched again."""
        out: dict[str, Paper] = {}
        for arxiv_id in dict.fromkeys(ids):
            row = self._db.execute(
                "SELECT paper FROM papers WHERE arxiv_id=?", (arxiv_id,)
            ).fetchone()
            if row is None:
                continue
            try:
                out[arxiv_id] = paper_from_json(row[0])
            except UnreadableRecord as exc:
                with self._transaction() as db:
                    db.execute("DELETE FROM papers WHERE arxiv_id=?", (arxiv_id,))
                log.warning("cached_paper_forgotten", paper_id=arxiv_id, reason=str(exc))
        return out

    def cache_papers(self, papers: Iterable[Paper]) -> None:
        with self._transaction() as db:
            for paper in papers:
                db.execute(
                    "INSERT OR REPLACE INTO papers (arxiv_id, paper, fetched_at) VALUES (?, ?, ?)",
                    (paper.arxiv_id, paper_to_json(paper), _now()),
                )

    # --- ids arXiv did not know (yet) ------------------------------------------------------

    def misses_not_due(self, ids: Iterable[str], now: datetime) -> set[str]:
        """Of these ids, the ones arXiv did not know whose next ask is still in the future."""
        out = set()
        for arxiv_id in dict.fromkeys(ids):
            row = self._db.execute(
                "SELECT next_at FROM misses WHERE arxiv_id=?", (arxiv_id,)
            ).fetchone()
            if row is not None and datetime.fromisoformat(row[0]) > now:
                out.add(arxiv_id)
        return out

    def missed(self, ids: Iterable[str]) -> set[str]:
        """Of these ids, the ones arXiv has not known at least once (and not since)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return set()
        rows = self._db.execute(
            f"SELECT arxiv_id FROM misses WHERE arxiv_id IN ({','.join('?' * len(wanted))})",  # noqa: S608 -- placeholders only
            wanted,
        ).fetchall()
        return {str(r[0]) for r in rows}

    def record_misses(
        self, ids: Iterable[str], now: datetime, delay: Callable[[int], float]
    ) -> None:
        """arXiv did not know these: ask again after ``delay(misses so far)`` seconds."""
        with self._transaction() as db:
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
        with self._transaction() as db:
            db.executemany("DELETE FROM misses WHERE arxiv_id=?", [(i,) for i in ids])

    # --- machine-written summaries ----------------------------------------------------------

    def tldr(self, arxiv_id: str, version: int, model: str) -> tuple[bool, str | None]:
        """Whether the model was already asked about this version, and its accepted answer."""
        row = self._db.execute(
            "SELECT tldr FROM tldrs WHERE arxiv_id=? AND version=? AND model=?",
            (arxiv_id, version, model),
        ).fetchone()
        return (False, None) if row is None else (True, row[0])

    def set_tldr(
        self, arxiv_id: str, version: int, model: str, tldr: str | None, verdict: str
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO tldrs (arxiv_id, version, model, tldr, verdict, made_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (arxiv_id, version, model, tldr, verdict, _now()),
            )

    # --- retention ----------------------------------------------------------------------------

    def prune(self, older_than: datetime) -> dict[str, int]:
        """Forget answered statuses, their replies, cached papers and TL;DRs older than this.

        Cursors, the queue and open intents are never pruned.
        """
        cutoff = older_than.isoformat()
        removed: dict[str, int] = {}
        with self._transaction() as db:
            for table, column, keep in (
                ("answered", "answered_at", ""),
                ("notices", "sent_at", ""),
                ("replies", "posted_at", " AND status_id NOT IN (SELECT status_id FROM pending)"),
                ("papers", "fetched_at", ""),
                ("tldrs", "made_at", ""),
                ("misses", "first_at", ""),
                ("skipped", "skipped_at", ""),
                ("checkpoints", "recorded_at", ""),
            ):
                sql = f"DELETE FROM {table} WHERE {column} < ?{keep}"  # noqa: S608 -- fixed names
                removed[table] = db.execute(sql, (cutoff,)).rowcount
        return removed

    # --- health ----------------------------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        self.set_metas({key: value})

    def set_metas(self, values: Mapping[str, str]) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items())
            )

    def delete_meta(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM meta WHERE key=?", (key,))

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])
