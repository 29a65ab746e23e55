"""The queue and the ledger: requests waiting, what was answered or decided against, every
reply posted, and the intent recorded before each post.

A request is queued once (whichever source saw it first), each reply is recorded as soon as
it is posted, and a finished request moves from the queue to ``answered`` in one step.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog

from bot.models import Request
from bot.state.codecs import UnreadableRecord, request_from_json, request_to_json
from bot.state.db import Database, placeholders

log = structlog.get_logger()
PAPER_KINDS = ("hashtag", "mention")
"""Requests that are answered with papers: the ones hourly caps and backlogs count."""


@dataclass(frozen=True, slots=True)
class ReplyOwner:
    """For one of the bot's replies: the status it answered, who asked, whose post it was."""

    status_id: str
    asker_id: str
    subject_author_id: str | None


class Ledger:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- what was decided before ---------------------------------------------------------

    def decided_among(self, status_ids: Collection[str]) -> frozenset[str]:
        """Of these statuses, the ones decided before: queued, answered or skipped."""
        ids = sorted(set(status_ids))
        if not ids:
            return frozenset()
        marks = placeholders(ids)
        rows = self._db.all(
            f"SELECT status_id FROM pending WHERE status_id IN ({marks}) UNION "  # noqa: S608 -- placeholders only
            f"SELECT status_id FROM answered WHERE status_id IN ({marks}) UNION "
            f"SELECT status_id FROM skipped WHERE status_id IN ({marks})",
            ids * 3,
        )
        return frozenset(str(r[0]) for r in rows)

    def is_answered(self, status_id: str) -> bool:
        return self._db.one("SELECT 1 FROM answered WHERE status_id=?", (status_id,)) is not None

    def write_skipped(self, tx: sqlite3.Connection, skipped: Mapping[str, str]) -> None:
        """Inside a page's transaction: statuses decided against, never decided again."""
        for status_id, reason in skipped.items():
            tx.execute(
                "INSERT OR IGNORE INTO skipped (status_id, reason, skipped_at) VALUES (?, ?, ?)",
                (status_id, reason, self._db.stamp()),
            )

    def write_request(self, tx: sqlite3.Connection, request: Request) -> bool:
        """Inside a page's transaction: queue it unless it was decided before."""
        key = request.key
        seen = tx.execute(
            "SELECT 1 FROM pending WHERE status_id=? UNION ALL "
            "SELECT 1 FROM answered WHERE status_id=? UNION ALL "
            "SELECT 1 FROM skipped WHERE status_id=?",
            (key, key, key),
        ).fetchone()
        if seen is not None:
            return False
        tx.execute(
            "INSERT INTO pending (status_id, request, asker_id, kind, first_seen, seq)"
            " VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM pending))",
            (
                key,
                request_to_json(request),
                request.status.account.id,
                request.kind,
                request.first_seen.isoformat(),
            ),
        )
        return True

    # --- the queue -----------------------------------------------------------------------

    def depth(self) -> int:
        return self._db.count("SELECT COUNT(*) FROM pending")

    def queued_by(self, account_ids: Collection[str]) -> dict[str, int]:
        """Paper requests of these accounts waiting in the queue, by account."""
        return self._by_account(
            "SELECT asker_id, COUNT(*) FROM pending WHERE kind IN ('hashtag', 'mention')",
            account_ids,
        )

    def pending(self) -> list[Request]:
        """Queued requests, oldest first, each with the replies already posted for it.

        A request that no longer parses (written by another version of the bot, or damaged)
        is moved to ``set_aside`` and logged once, so it cannot fail every cycle.
        """
        rows = self._db.all("SELECT status_id, request, first_seen FROM pending ORDER BY seq")
        posted: dict[str, list[str]] = {}
        for status_id, reply_id in self._db.all(
            "SELECT status_id, reply_id FROM replies WHERE status_id IN"
            " (SELECT status_id FROM pending) ORDER BY status_id, position"
        ):
            posted.setdefault(str(status_id), []).append(str(reply_id))
        queue = []
        for status_id, text, first_seen in rows:
            try:
                queue.append(
                    request_from_json(
                        text,
                        datetime.fromisoformat(first_seen),
                        tuple(posted.get(str(status_id), ())),
                    )
                )
            except (UnreadableRecord, ValueError) as exc:
                self._set_aside(str(status_id), str(text), str(exc))
        return queue

    def _set_aside(self, status_id: str, text: str, reason: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM pending WHERE status_id=?", (status_id,))
            db.execute(
                "INSERT OR REPLACE INTO set_aside (status_id, request, reason, set_aside_at)"
                " VALUES (?, ?, ?, ?)",
                (status_id, text, reason, self._db.stamp()),
            )
        log.warning("request_set_aside", status_id=status_id, reason=reason)

    def set_aside(self) -> list[tuple[str, str]]:
        """Requests taken off the queue because they no longer parse: (status id, reason)."""
        rows = self._db.all("SELECT status_id, reason FROM set_aside ORDER BY set_aside_at")
        return [(str(a), str(b)) for a, b in rows]

    def finish(self, request: Request, outcome: str) -> None:
        """The request is done (answered, or given up on): off the queue for good."""
        with self._db.transaction() as db:
            db.execute("DELETE FROM pending WHERE status_id=?", (request.key,))
            db.execute("DELETE FROM intents WHERE status_id=?", (request.key,))
            db.execute(
                "INSERT OR REPLACE INTO answered (status_id, outcome, paper_ids, asker_id,"
                " subject_author_id, kind, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    request.key,
                    outcome,
                    json.dumps([r.arxiv_id for r in request.refs]),
                    request.status.account.id,
                    request.subject_author_id,
                    request.kind,
                    self._db.stamp(),
                ),
            )

    # --- answers, replies and intents ----------------------------------------------------

    def answers_since(self, account_ids: Collection[str], since: datetime) -> dict[str, int]:
        """Paper answers these accounts got since then, by account: only answers count, not
        skips or drops."""
        return self._by_account(
            "SELECT asker_id, COUNT(*) FROM answered WHERE answered_at>=?"
            " AND outcome='answered' AND kind IN ('hashtag', 'mention')",
            account_ids,
            since.isoformat(),
        )

    def posts_since(self, since: datetime) -> int:
        """Posts the bot made since then (replies, notices, help: everything it posted)."""
        return self._db.count(
            "SELECT COUNT(*) FROM replies WHERE posted_at>=?", (since.isoformat(),)
        )

    def reply_owners(self, reply_ids: Collection[str]) -> dict[str, ReplyOwner]:
        ids = sorted(set(reply_ids))
        if not ids:
            return {}
        rows = self._db.all(
            "SELECT r.reply_id, r.status_id, a.asker_id, a.subject_author_id FROM replies r"  # noqa: S608 -- placeholders only
            f" JOIN answered a ON a.status_id = r.status_id WHERE r.reply_id IN ({placeholders(ids)})",
            ids,
        )
        return {str(r[0]): ReplyOwner(str(r[1]), str(r[2]), r[3]) for r in rows}

    def is_reply(self, reply_id: str) -> bool:
        """Whether this is one of the bot's replies it has on record."""
        return self._db.one("SELECT 1 FROM replies WHERE reply_id=?", (reply_id,)) is not None

    def forget_reply(self, reply_id: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM replies WHERE reply_id=?", (reply_id,))

    def record_intent(self, status_id: str, position: int, parent_id: str, key: str) -> None:
        """About to post: if the process dies now, the next start knows to look before posting."""
        with self._db.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO intents"
                " (status_id, position, parent_id, idempotency_key, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (status_id, position, parent_id, key, self._db.stamp()),
            )

    def intent(self, status_id: str, position: int) -> str | None:
        """The parent of an intended post whose outcome is unknown, if there is one."""
        row = self._db.one(
            "SELECT parent_id FROM intents WHERE status_id=? AND position=?", (status_id, position)
        )
        return None if row is None else str(row[0])

    def record_reply(self, status_id: str, position: int, paper_id: str, reply_id: str) -> None:
        with self._db.transaction() as db:
            db.execute(
                "DELETE FROM intents WHERE status_id=? AND position=?", (status_id, position)
            )
            db.execute(
                "INSERT OR REPLACE INTO replies (status_id, position, reply_id, paper_id, posted_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (status_id, position, reply_id, paper_id, self._db.stamp()),
            )

    def _by_account(self, sql: str, account_ids: Collection[str], *first: object) -> dict[str, int]:
        ids = sorted(set(account_ids))
        if not ids:
            return {}
        rows = self._db.all(
            f"{sql} AND asker_id IN ({placeholders(ids)}) GROUP BY asker_id",
            [*first, *ids],
        )
        return {str(account): int(count) for account, count in rows}
