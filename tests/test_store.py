"""The SQLite state, on real files."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import StateError
from bot.models import Account, Paper, PaperRef, PendingStatus, Status
from bot.store import Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def pending(status_id: str, *ids: str) -> PendingStatus:
    status = Status(
        id=status_id,
        url=f"https://fake.example/@a/{status_id}",
        account=Account("5", "a@b.example"),
        content="<p>x</p>",
        visibility="public",
        spoiler_text="cw",
        language="fr",
    )
    return PendingStatus(status, tuple(PaperRef(i, 2) for i in ids), NOW)


def test_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = Store.open(path)
    assert store.record_page("tags:arxiv", "200", [pending("150", "1706.03762")]) == 1
    store.record_reply("150", 0, "1706.03762", "900")
    store.close()

    store = Store.open(path)
    assert store.cursor("tags:arxiv") == "200"
    [item] = store.pending()
    assert item.status.language == "fr"
    assert item.status.spoiler_text == "cw"
    assert item.refs == (PaperRef("1706.03762", 2),)
    assert item.posted_reply_ids == ("900",)
    store.finish("150", "answered", ["1706.03762"])
    assert store.pending() == []
    assert store.is_answered("150")
    store.close()


def test_a_status_is_queued_once_even_from_two_sources(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.sqlite3")
    assert store.record_page("tags:a", "10", [pending("9", "1706.03762")]) == 1
    assert store.record_page("tags:b", "11", [pending("9", "1706.03762")]) == 0
    store.finish("9", "answered", ["1706.03762"])
    assert store.record_page("tags:a", "12", [pending("9", "1706.03762")]) == 0
    assert store.pending() == []


def test_a_page_is_all_or_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.sqlite3")
    store.record_page("tags:a", "10", [])

    def half_a_page() -> Iterator[PendingStatus]:
        yield pending("11", "1706.03762")
        raise RuntimeError("crash halfway through the page")

    with pytest.raises(RuntimeError):
        store.record_page("tags:a", "20", half_a_page())
    assert store.cursor("tags:a") == "10"
    assert store.pending() == []


def test_paper_cache_round_trip(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.sqlite3")
    paper = Paper("1706.03762", 7, "T", ("A", "B"), "Abs.", "cs.CL", NOW, NOW, "15 pages")
    store.cache_papers([paper])
    assert store.cached_papers(["1706.03762", "2504.18412"]) == {"1706.03762": paper}


def test_a_corrupt_file_stops_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="cannot use the state database"):
        Store.open(path)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    Store.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StateError, match="newer than this bot's"):
        Store.open(path)


def test_a_locked_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    Store.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StateError, match="locked"):
            Store.open(path, busy_timeout=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
