"""The SQLite state, on real files."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.errors import StateError
from bot.models import Account, Decided, Paper, PaperRef, Request, Status
from bot.state import retention
from bot.state.codecs import REQUEST_VERSION
from bot.state.db import Database
from bot.state.schema import VERSION as SCHEMA_VERSION
from bot.state.schema import first_statements
from bot.state.store import Store
from tests.conftest import FakeClock

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def opened(path: Path, clock: FakeClock | None = None) -> Store:
    return Store.open(path, clock or FakeClock(NOW))


def page(*requests: Request) -> Decided:
    return Decided(list(requests))


def pending(status_id: str, *ids: str) -> Request:
    status = Status(
        id=status_id,
        url=f"https://fake.example/@a/{status_id}",
        account=Account("5", "a@b.example"),
        content="<p>x</p>",
        visibility="public",
        spoiler_text="cw",
        language="fr",
    )
    return Request(status, tuple(PaperRef(i, 2) for i in ids), NOW)


def test_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = opened(path)
    assert store.record_page("tags:arxiv", "200", page(pending("150", "1706.03762"))) == 1
    store.ledger.record_reply("150", 0, "1706.03762", "900")
    store.close()

    store = opened(path)
    assert store.cursors.get("tags:arxiv") == "200"
    [item] = store.ledger.pending()
    assert item.status.language == "fr"
    assert item.status.spoiler_text == "cw"
    assert item.refs == (PaperRef("1706.03762", 2),)
    assert item.posted_reply_ids == ("900",)
    store.ledger.finish(item, "answered")
    assert store.ledger.pending() == []
    assert store.ledger.is_answered("150")
    store.close()


def test_a_status_is_queued_once_even_from_two_sources(tmp_path: Path) -> None:
    store = opened(tmp_path / "s.sqlite3")
    assert store.record_page("tags:a", "10", page(pending("9", "1706.03762"))) == 1
    assert store.record_page("tags:b", "11", page(pending("9", "1706.03762"))) == 0
    store.ledger.finish(pending("9", "1706.03762"), "answered")
    assert store.record_page("tags:a", "12", page(pending("9", "1706.03762"))) == 0
    assert store.ledger.pending() == []


def test_a_page_is_all_or_nothing(tmp_path: Path) -> None:
    store = opened(tmp_path / "s.sqlite3")
    store.record_page("tags:a", "10", page())
    good = pending("11", "1706.03762")
    nobody = Account(None, "x")  # type: ignore[arg-type]  # a row the database refuses
    broken = Request(Status("12", None, nobody, "", "public"), (), NOW)
    with pytest.raises(sqlite3.IntegrityError):
        store.record_page("tags:a", "20", Decided([good, broken], {"13": "own_post"}, {"5": True}))
    assert store.cursors.get("tags:a") == "10"
    assert store.ledger.pending() == []
    assert store.ledger.decided_among(["11", "13"]) == frozenset()
    assert store.consent.stopped_among(["5"]) == frozenset()


def test_paper_cache_round_trip(tmp_path: Path) -> None:
    store = opened(tmp_path / "s.sqlite3")
    paper = Paper("1706.03762", 7, "T", ("A", "B"), "Abs.", "cs.CL", NOW, NOW, "15 pages")
    store.papers.keep([paper])
    assert store.papers.papers(["1706.03762", "2504.18412"]) == {"1706.03762": paper}


def test_a_corrupt_file_stops_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="cannot use the state database"):
        opened(path)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    opened(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StateError, match="newer than this bot's"):
        opened(path)


def test_a_locked_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    opened(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StateError, match="locked"):
            Database.open(path, FakeClock(NOW), busy_timeout=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_old_records_are_pruned_but_not_what_is_still_in_flight(tmp_path: Path) -> None:
    store = opened(tmp_path / "s.sqlite3")
    store.record_page("tags:a", "10", page(pending("1", "1706.03762"), pending("2", "2504.18412")))
    store.ledger.record_reply("1", 0, "1706.03762", "901")
    store.ledger.finish(pending("1", "1706.03762"), "answered")
    store.ledger.record_reply("2", 0, "2504.18412", "902")  # "2" still waits for its second post
    store.papers.keep([Paper("1706.03762", 7, "T", ("A",), "Abs.", "cs.CL", NOW, NOW)])
    store.papers.record_misses(["2611.00042"], lambda _: 300)
    removed = retention.prune(store.db, NOW + timedelta(days=1))
    assert removed == {
        "answered": 1, "notices": 0, "replies": 1, "papers": 1, "tldrs": 0, "misses": 1,
        "skipped": 0, "checkpoints": 0, "uris": 0,
    }  # fmt: skip
    [waiting] = store.ledger.pending()
    assert (waiting.status.id, waiting.posted_reply_ids) == ("2", ("902",))
    assert store.cursors.get("tags:a") == "10"
    assert retention.prune(store.db, NOW - timedelta(days=1)) == {
        "answered": 0, "notices": 0, "replies": 0, "papers": 0, "tldrs": 0, "misses": 0,
        "skipped": 0, "checkpoints": 0, "uris": 0,
    }  # fmt: skip


def test_an_older_schema_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = opened(path)
    store.record_page("tags:a", "10", page())
    store.close()
    migrations = {SCHEMA_VERSION + 1: ("ALTER TABLE cursors ADD COLUMN note TEXT DEFAULT 'kept'",)}
    db = Database.open(path, FakeClock(NOW), target=SCHEMA_VERSION + 1, migrations=migrations)
    store = Store.on(db)
    assert store.cursors.get("tags:a") == "10"
    assert store.meta.get("schema_version") == str(SCHEMA_VERSION + 1)
    store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT note FROM cursors").fetchone() == ("kept",)


# A queued request and a cached paper exactly as version 0.1.0 (schema 1) wrote them: JSON
# with no version field.
V1_REQUEST = (
    '{"status": {"id": "150", "url": "https://fake.example/@a/150", "account": {"id": "5",'
    ' "acct": "a@b.example", "bot": false, "note": "", "fields": []}, "content": "<p>x</p>",'
    ' "visibility": "public", "spoiler_text": "cw", "language": "fr", "in_reply_to_id": null,'
    ' "card_url": null, "reblog": null}, "refs": [["1706.03762", 2]], "kind": "hashtag",'
    ' "mode": "summary", "message": null, "subject_author_id": null}'
)
V1_PAPER = (
    '{"arxiv_id": "1706.03762", "version": 7, "title": "Attention", "authors": ["A. V."],'
    ' "abstract": "We propose.", "primary_category": "cs.CL",'
    ' "published": "2017-06-12T17:57:34+00:00", "updated": "2023-08-02T00:41:18+00:00",'
    ' "comment": null}'
)


def schema_1_database(path: Path) -> None:
    """A state file as schema 1 left it, holding one queued request and one cached paper."""
    with sqlite3.connect(path) as db:
        for statement in first_statements():
            db.execute(statement)
        db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
        db.execute(
            "INSERT INTO pending (status_id, request, asker_id, kind, first_seen, seq)"
            " VALUES ('150', ?, '5', 'hashtag', ?, 1)",
            (V1_REQUEST, NOW.isoformat()),
        )
        db.execute(
            "INSERT INTO papers (arxiv_id, paper, fetched_at) VALUES ('1706.03762', ?, ?)",
            (V1_PAPER, NOW.isoformat()),
        )
    db.close()


def test_records_of_schema_1_are_read_after_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    schema_1_database(path)
    store = opened(path)
    assert store.meta.get("schema_version") == str(SCHEMA_VERSION)
    [item] = store.ledger.pending()
    assert item == pending("150", "1706.03762")
    [paper] = store.papers.papers(["1706.03762"]).values()
    assert (paper.version, paper.title, paper.published.year) == (7, "Attention", 2017)
    assert store.ledger.set_aside() == []
    assert store.papers.missed(["1706.03762"]) == set(), "the tables of later versions exist"
    assert store.cursors.sweep_start("tags:a", NOW) is None


def test_a_request_that_no_longer_parses_is_set_aside_once(
    tmp_path: Path, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    path = tmp_path / "state.sqlite3"
    schema_1_database(path)
    store = opened(path)
    store.record_page("tags:a", "9", page(pending("151", "2504.18412")))
    with store.db.transaction() as db:  # a field renamed by some other version of the bot
        db.execute(
            "UPDATE pending SET request=? WHERE status_id='150'",
            (V1_REQUEST.replace('"visibility"', '"audience"'),),
        )
    assert [p.status.id for p in store.ledger.pending()] == ["151"]
    assert [p.status.id for p in store.ledger.pending()] == ["151"]
    [(status_id, reason)] = store.ledger.set_aside()
    assert status_id == "150"
    assert "visibility" in reason
    set_aside = [e for e in captured_logs if e["event"] == "request_set_aside"]
    assert [e["status_id"] for e in set_aside] == ["150"], "logged once, not every cycle"


def test_an_unreadable_cached_paper_is_forgotten_and_fetched_again(tmp_path: Path) -> None:
    store = opened(tmp_path / "state.sqlite3")
    with store.db.transaction() as db:
        db.execute(
            "INSERT INTO papers (arxiv_id, paper, fetched_at) VALUES ('1706.03762', '{\"v\": 9}', ?)",
            (NOW.isoformat(),),
        )
    assert store.papers.papers(["1706.03762"]) == {}
    assert store.papers.papers(["1706.03762"]) == {}, "gone, not failing again"


def test_records_are_written_with_their_version(tmp_path: Path) -> None:
    store = opened(tmp_path / "state.sqlite3")
    store.record_page("tags:a", "9", page(pending("151", "2504.18412")))
    [(request,)] = store.db.all("SELECT request FROM pending")
    assert json.loads(request)["v"] == REQUEST_VERSION


# A help request as version 2 of the record kept it: its text, written when it was queued.
V2_HELP = (
    V1_REQUEST.replace('"kind": "hashtag"', '"kind": "help"')
    .replace('"message": null', '"message": "@a@b.example words of an older bot"')
    .replace('"refs": [["1706.03762", 2]]', '"refs": []')
    .replace("{", '{"v": 2, ', 1)
)


def test_a_message_request_of_version_2_keeps_its_words(tmp_path: Path) -> None:
    store = opened(tmp_path / "state.sqlite3")
    with store.db.transaction() as db:
        db.execute(
            "INSERT INTO pending (status_id, request, asker_id, kind, first_seen, seq)"
            " VALUES ('150', ?, '5', 'help', ?, 1)",
            (V2_HELP, NOW.isoformat()),
        )
    [item] = store.ledger.pending()
    assert (item.kind, item.message) == ("help", "@a@b.example words of an older bot")


def test_times_are_the_injected_clocks(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    store = opened(tmp_path / "state.sqlite3", clock)
    store.record_page("tags:a", "9", page(pending("151", "2504.18412")))
    store.ledger.finish(pending("151", "2504.18412"), "answered")
    assert store.ledger.answers_since(["5"], NOW) == {"5": 1}
    clock.advance(3601)
    assert store.ledger.answers_since(["5"], clock.now() - timedelta(hours=1)) == {}


def test_the_database_runs_in_wal_mode(tmp_path: Path) -> None:
    opened(tmp_path / "state.sqlite3").close()
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
