"""The layout of the state file: the first schema, and each step that brings an older file up
to date. A new file gets the first schema and then every step, so each table is written once.

To change the layout: add the next step here (its statements run in one transaction) and a
test that opens a file of the previous version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

FIRST = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (
    source TEXT PRIMARY KEY, cursor TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending (
    status_id TEXT PRIMARY KEY, request TEXT NOT NULL, asker_id TEXT NOT NULL,
    kind TEXT NOT NULL, first_seen TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS answered (
    status_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, paper_ids TEXT NOT NULL,
    asker_id TEXT NOT NULL DEFAULT '', subject_author_id TEXT, kind TEXT NOT NULL DEFAULT '',
    answered_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stopped (account_id TEXT PRIMARY KEY, stopped_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notices (
    account_id TEXT NOT NULL, kind TEXT NOT NULL, sent_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replies (
    status_id TEXT NOT NULL, position INTEGER NOT NULL, reply_id TEXT NOT NULL,
    paper_id TEXT NOT NULL, posted_at TEXT NOT NULL, PRIMARY KEY (status_id, position));
CREATE TABLE IF NOT EXISTS intents (
    status_id TEXT NOT NULL, position INTEGER NOT NULL, parent_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (status_id, position));
CREATE TABLE IF NOT EXISTS papers (
    arxiv_id TEXT PRIMARY KEY, paper TEXT NOT NULL, fetched_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tldrs (
    arxiv_id TEXT NOT NULL, version INTEGER NOT NULL, model TEXT NOT NULL, tldr TEXT,
    verdict TEXT NOT NULL, made_at TEXT NOT NULL, PRIMARY KEY (arxiv_id, version, model));
CREATE INDEX IF NOT EXISTS notices_by_account ON notices (account_id, kind, sent_at);
CREATE INDEX IF NOT EXISTS answered_by_asker ON answered (asker_id, answered_at);
CREATE INDEX IF NOT EXISTS replies_by_reply ON replies (reply_id);
"""
"""Version 1, as 0.1.0 wrote it."""

MIGRATIONS: Mapping[int, Sequence[str]] = {
    # Queue items that no longer parse, kept aside instead of failing every cycle.
    2: [
        "CREATE TABLE IF NOT EXISTS set_aside ("
        " status_id TEXT PRIMARY KEY, request TEXT NOT NULL, reason TEXT NOT NULL,"
        " set_aside_at TEXT NOT NULL)"
    ],
    # Ids arXiv did not know yet, and when to ask again.
    3: [
        "CREATE TABLE IF NOT EXISTS misses ("
        " arxiv_id TEXT PRIMARY KEY, first_at TEXT NOT NULL, count INTEGER NOT NULL,"
        " next_at TEXT NOT NULL)"
    ],
    # Where each timeline's cursor stood (for sweeps), and posts decided against.
    4: [
        "CREATE TABLE IF NOT EXISTS checkpoints ("
        " source TEXT NOT NULL, cursor TEXT NOT NULL, recorded_at TEXT NOT NULL,"
        " PRIMARY KEY (source, recorded_at))",
        "CREATE TABLE IF NOT EXISTS skipped ("
        " status_id TEXT PRIMARY KEY, reason TEXT NOT NULL, skipped_at TEXT NOT NULL)",
    ],
    # Posts known by their URI (decided here, or found on another server and resolved or
    # dropped), and the ones found elsewhere still waiting to be resolved here.
    5: [
        "CREATE TABLE IF NOT EXISTS uris ("
        " uri TEXT PRIMARY KEY, status_id TEXT NOT NULL, outcome TEXT NOT NULL,"
        " seen_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS remote_found ("
        " uri TEXT PRIMARY KEY, source TEXT NOT NULL, found_at TEXT NOT NULL,"
        " attempts INTEGER NOT NULL, next_at TEXT NOT NULL)",
    ],
}
"""Statements that bring a database from version ``n - 1`` to ``n``."""
VERSION = max(MIGRATIONS)


def first_statements() -> list[str]:
    return [statement for statement in FIRST.split(";") if statement.strip()]
