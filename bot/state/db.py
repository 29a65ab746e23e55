"""One SQLite connection, its transactions, and the clock every stored time is read from.

Each step that changes state is one transaction, so a crash leaves either the whole step or
none of it. WAL mode lets ``arxiv-bot healthcheck`` read while the bot writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.errors import StateError
from bot.state import schema


class Database:
    """The bot's only connection to its state file; one per process."""

    def __init__(self, connection: sqlite3.Connection, clock: Clock) -> None:
        self._db = connection
        self.clock = clock

    @classmethod
    def open(
        cls,
        path: Path,
        clock: Clock,
        busy_timeout: float = 5.0,
        *,
        target: int = schema.VERSION,
        migrations: Mapping[int, Sequence[str]] | None = None,
    ) -> Database:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            db = cls(connection, clock)
            db._migrate(target, migrations)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot use the state database {path}: {exc}") from exc
        return db

    def close(self) -> None:
        self._db.close()

    def stamp(self) -> str:
        """Now, as stored times are written."""
        return self.clock.now().isoformat()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._db.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._db.execute(sql, params).fetchall())

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = self.one(sql, params)
        return int(row[0]) if row is not None else 0

    def _migrate(self, target: int, migrations: Mapping[int, Sequence[str]] | None) -> None:
        """Create a new database at ``target``, or bring an older one up to it, atomically."""
        steps = {**schema.MIGRATIONS, **(migrations or {})}
        with self.transaction() as db:
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


def placeholders(values: Sequence[object]) -> str:
    """``?,?,?`` for an ``IN (…)`` of these values."""
    return ",".join("?" * len(values))
