"""Faults and limits: backoff, 429s, the paged-request budget, batch isolation, shutdown."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.app import built
from bot.config import Settings
from bot.cycle import Cycle
from bot.limits.backoff import Backoff
from bot.limits.budget import (
    PAGE_LIMIT,
    SWEEP_MAX_PAGES,
    RateLimit,
    budget_warning,
    paged_requests_per_window,
    smallest_interval,
    stretched_gap,
)
from bot.scheduler import serve
from tests.conftest import FakeClock, hashtag, link, paper_post, post_html, run_cycle
from tests.fakes.arxiv import RATE_EXCEEDED, FakeArxiv
from tests.fakes.http import Response
from tests.fakes.mastodon import FakeMastodon
from tests.waiting import wait_for


@contextmanager
def engine_with_clock(settings: Settings, clock: FakeClock) -> Iterator[Cycle]:
    """The real adapters and store, with time under the test's control."""
    with built(settings, clock=clock) as bot:
        bot.cycle.start()
        yield bot.cycle


ABS = "https://arxiv.org/abs/1706.03762"


def add_post(mastodon: FakeMastodon, arxiv_id: str = "1706.03762") -> int:
    return paper_post(mastodon, f"https://arxiv.org/abs/{arxiv_id}")


def tag_requests(mastodon: FakeMastodon) -> int:
    return mastodon.count("GET", "/api/v1/timelines/tag/")


# --- pure pacing ---------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(10, 100, random.Random(7))
    delays = [backoff.failed(0) for _ in range(6)]
    ceilings = [10, 20, 40, 80, 100, 100]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert not backoff.ready(delays[-1] - 0.1)
    assert backoff.ready(delays[-1])
    backoff.succeeded()
    assert backoff.ready(0)
    assert backoff.failed(0) <= 10


def test_budget_warning_names_the_smallest_interval_that_fits() -> None:
    assert budget_warning(60, 1, mentions=True) is None
    # 10 tags -> 3 requests of up to 4, plus mentions -> 4 a cycle; every 30 s, 120 per 15 min.
    assert budget_warning(30, 10, mentions=True) is None
    warning = budget_warning(5, 10, mentions=True)
    assert warning is not None
    assert "720 paged requests per 15 min" in warning
    assert "the smallest interval that fits is 15 s" in warning
    assert smallest_interval(10, mentions=True) == 15
    # Elsewhere one request per tag: 11 a cycle.
    assert smallest_interval(10, mentions=True, per_request=1) == 900 * 11 / 240
    # Sweeps every 300 s over 2 timeline groups: 3 a group per 15 minutes, at the least.
    assert paged_requests_per_window(60, 6, True, sweep_seconds=300) == 15 * 3 + 6


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (None, 10),
        (RateLimit(300, 200, 600), 10),
        (RateLimit(300, 45, 600), 600 / 30),
        (RateLimit(300, 20, 600), 600 / 5),
        (RateLimit(300, 10, 600), 600),
        (RateLimit(300, 40, 1), 10),
    ],
)
def test_polls_are_stretched_only_when_the_budget_runs_low(
    rate: RateLimit | None, expected: float
) -> None:
    assert stretched_gap(rate, 1, 10) == pytest.approx(expected)


# --- against the fakes ---------------------------------------------------------------------


def test_a_server_without_rate_limit_headers_is_polled_as_configured(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    clock = FakeClock()
    mastodon.rate_limit = None  # a server that sends no X-RateLimit headers
    settings = make_settings(BOT_POLL_INTERVAL="60", BOT_SWEEP_SECONDS="86400")
    with engine_with_clock(settings, clock) as engine:
        before = tag_requests(mastodon)
        for _ in range(5):
            engine.run_cycle()
            clock.advance(60)
    assert tag_requests(mastodon) - before == 5 + 1, "five polls and the sweep at start"


def test_low_remaining_budget_stretches_polling_so_no_429_is_provoked(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    clock = FakeClock()
    mastodon.rate_limit = (300, 40, 600)  # 40 left for the next 10 minutes
    with engine_with_clock(make_settings(BOT_POLL_INTERVAL="5"), clock) as engine:
        engine.run_cycle()  # first start: reads where the timeline is
        before = tag_requests(mastodon)
        for _ in range(24):  # two minutes of cycles
            engine.run_cycle()
            clock.advance(5)
    polls = tag_requests(mastodon) - before
    # (40 - 15 reserve) requests for 2 sources over 600 s -> a poll every 50 s: 3 in two
    # minutes, not 24.
    assert 2 <= polls <= 4
    assert any(e["event"] == "polling_stretched" for e in captured_logs)
    with engine_with_clock(make_settings(BOT_POLL_INTERVAL="5"), clock) as engine:  # restart
        stretched_until_now = tag_requests(mastodon)
        engine.run_cycle()
        assert tag_requests(mastodon) == stretched_until_now, "the stretch outlives a restart"


def test_a_429_is_honoured_until_its_reset_across_restarts_and_logged_once(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_RETRY_BASE_SECONDS="5")
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        add_post(mastodon)
        mastodon.rate_limit = (300, 0, 3600)
        mastodon.fail(
            "GET",
            "/api/v1/timelines/tag/",
            Response.json({"error": "Too many requests"}, 429, mastodon.rate_limit_headers()),
        )
        engine.run_cycle()
        mastodon.rate_limit = None
        before = tag_requests(mastodon)
        for _ in range(30):  # half an hour of one-minute cycles, waiting
            clock.advance(60)
            assert engine.run_cycle().errors == [], "waiting is no failure"
    with engine_with_clock(settings, clock) as engine:  # a restart, or the next run --once
        engine.run_cycle()
        assert tag_requests(mastodon) == before, "still inside the server's reset time"
        clock.advance(1801)
        engine.run_cycle()
    assert tag_requests(mastodon) == before + 2, "the poll and the sweep at start"
    assert len(mastodon.posted()) == 1
    events = [e["event"] for e in captured_logs]
    assert events.count("backoff_started") == 1
    assert events.count("backoff_ended") == 1
    waiting = [e for e in captured_logs if e["event"] == "cycle" and e["log_level"] == "info"]
    assert len(waiting) <= 3, "a cycle that only waits is not logged at INFO"


def test_a_429_without_a_reset_time_backs_off_exponentially(
    make_settings: Callable[..., Settings],
) -> None:
    """Akkoma throttles with a bare 429 ``{"error": "Throttled"}`` and sends no rate-limit
    headers at all (FACTS-fediverse): nothing says when to come back."""
    mastodon = FakeMastodon(flavour="akkoma")
    clock = FakeClock()
    settings = make_settings(
        MASTODON_BASE_URL=mastodon.url, BOT_RETRY_BASE_SECONDS="10", BOT_RETRY_MAX_SECONDS="40"
    )
    attempts = []
    try:
        with engine_with_clock(settings, clock) as engine:
            engine.run_cycle()
            throttled = Response.json({"error": "Throttled"}, 429)
            mastodon.fail("GET", "/api/v1/timelines/tag/", throttled, times=3)
            for _ in range(40):
                before = tag_requests(mastodon)
                engine.run_cycle()
                if tag_requests(mastodon) > before:
                    attempts.append(clock.monotonic())
                clock.advance(5)
    finally:
        mastodon.close()
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert 5 <= gaps[0] <= 10, gaps
    assert 10 <= gaps[1] <= 25, gaps
    assert 20 <= gaps[2] <= 45, gaps


def test_server_errors_back_off_exponentially_then_recover(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    clock = FakeClock()
    with engine_with_clock(
        make_settings(BOT_RETRY_BASE_SECONDS="10", BOT_RETRY_MAX_SECONDS="40"), clock
    ) as engine:
        engine.run_cycle()
        add_post(mastodon)
        mastodon.fail(
            "GET", "/api/v1/timelines/tag/", Response.json({"error": "bad gateway"}, 502), times=3
        )
        attempts = []
        for _ in range(40):  # 200 s of 5-second cycles
            before = tag_requests(mastodon)
            engine.run_cycle()
            if tag_requests(mastodon) > before:
                attempts.append(clock.monotonic())
            clock.advance(5)
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert len(attempts) >= 4
    assert 5 <= gaps[0] <= 10, gaps
    assert 10 <= gaps[1] <= 25, gaps
    assert 20 <= gaps[2] <= 45, gaps
    assert len(mastodon.posted()) == 1, "answered once the server recovered"


def test_arxiv_errors_back_off_and_statuses_wait(
    mastodon: FakeMastodon, arxiv_server: FakeArxiv, make_settings: Callable[..., Settings]
) -> None:
    clock = FakeClock()
    with engine_with_clock(make_settings(BOT_RETRY_BASE_SECONDS="30"), clock) as engine:
        engine.run_cycle()
        add_post(mastodon)
        arxiv_server.fail("GET", "/api/query", Response(502, b"", "text/plain"))
        engine.run_cycle()
        engine.run_cycle()
        assert len(arxiv_server.requests) == 1, "backing off, not hammering"
        clock.advance(31)
        report = engine.run_cycle()
    assert report.replied == 1
    assert len(arxiv_server.requests) == 2


def test_a_refused_batch_is_split_to_isolate_the_id(
    mastodon: FakeMastodon, arxiv_server: FakeArxiv, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    clock = FakeClock()
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        good = [add_post(mastodon, i) for i in ("1706.03762", "hep-th/9711200", "2504.18412")]
        bad = add_post(mastodon, "2101.00042")
        arxiv_server.refused.add("2101.00042")
        report = engine.run_cycle()
    assert report.replied == 3
    assert report.dropped == 1
    assert sorted(r.in_reply_to_id or 0 for r in mastodon.posted()) == good
    assert mastodon.replies_to(bad) == []
    assert [len(ids) for ids in arxiv_server.id_lists()] == [4, 2, 2, 1, 1]


def test_the_arxiv_gap_holds_across_restarts(
    arxiv_server: FakeArxiv, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(ARXIV_DELAY_SECONDS="0.2")
    with built(settings) as bot:
        assert bot.librarian.papers.get(["1706.03762"]).papers
    with built(settings) as bot:
        assert bot.librarian.papers.get(["hep-th/9711200"]).papers
    first, second = (r.at for r in arxiv_server.requests)
    assert second - first >= 0.2


def test_mastodon_down_at_start_is_retried_not_a_crash_loop(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    settings = make_settings(BOT_POLL_INTERVAL="0.05")
    run_cycle(settings)
    status = add_post(mastodon)
    mastodon.fail(
        "GET", "/api/v1/accounts/verify_credentials", Response.json({"error": "down"}, 503), times=3
    )
    stop = threading.Event()
    with built(settings, stop) as bot:
        served: list[tuple[int, bool]] = []
        loop = threading.Thread(target=lambda: served.append(serve(bot.cycle, 0.05, stop)))
        loop.start()
        try:
            wait_for(lambda: bool(mastodon.posted()))
        finally:
            stop.set()
            loop.join(timeout=30)
    assert served == [(0, True)], "the loop retried instead of ending"
    assert [r.in_reply_to_id for r in mastodon.posted()] == [status]
    assert [e["event"] for e in captured_logs].count("start_failed") == 3


def test_statuses_wait_for_arxiv_up_to_the_pending_hours_then_are_dropped(
    mastodon: FakeMastodon,
    arxiv_server: FakeArxiv,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_PENDING_HOURS="2", BOT_RETRY_MAX_SECONDS="600")
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        status = add_post(mastodon)
        arxiv_server.fail("GET", "/api/query", RATE_EXCEEDED, times=1000)
        for _ in range(24):  # 2 hours of 5-minute cycles
            report = engine.run_cycle()
            clock.advance(300)
        assert report.waiting == 1
        clock.advance(600)
        report = engine.run_cycle()
    assert report.dropped == 1
    assert mastodon.replies_to(status) == []
    [dropped] = [e for e in captured_logs if e["event"] == "status_dropped"]
    assert dropped["reason"] == "expired"
    assert dropped["status_id"] == str(status)


def test_a_paper_arxiv_does_not_know_yet_is_asked_again_until_it_is_announced(
    mastodon: FakeMastodon, arxiv_server: FakeArxiv, make_settings: Callable[..., Settings]
) -> None:
    clock = FakeClock()
    announced = replace(arxiv_server.papers["2504.18412"], arxiv_id="2611.00042")
    with engine_with_clock(make_settings(BOT_POLL_INTERVAL="60"), clock) as engine:
        engine.run_cycle()
        status = add_post(mastodon, "2611.00042")
        asked = []
        for minute in range(0, 120):  # two hours of one-minute cycles
            if minute == 45:
                arxiv_server.papers["2611.00042"] = announced  # arXiv announces it
            before = len(arxiv_server.requests)
            report = engine.run_cycle()
            if len(arxiv_server.requests) > before:
                asked.append(minute)
            if report.replied:
                break
            clock.advance(60)
    # Asked at once, then after 5, 10, 20 and 40 minutes (doubling), never every cycle;
    # answered at the first ask after the announcement.
    assert asked == [0, 5, 15, 35, 75]
    assert [r.in_reply_to_id for r in mastodon.posted()] == [status]


def test_a_paper_arxiv_never_knows_is_dropped_after_the_pending_hours(
    mastodon: FakeMastodon,
    arxiv_server: FakeArxiv,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_PENDING_HOURS="3")
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        status = add_post(mastodon, "2301.00001")
        for _ in range(3 * 12):  # three hours of five-minute cycles
            assert engine.run_cycle().dropped == 0
            clock.advance(300)
        clock.advance(300)
        assert engine.run_cycle().dropped == 1
        assert engine.run_cycle().dropped == 0, "given up once, not again every cycle"
    asks = len(arxiv_server.requests)
    assert 5 <= asks <= 8, f"asked {asks} times in three hours: backing off, at most hourly"
    assert mastodon.posted() == []
    [dropped] = [e for e in captured_logs if e["event"] == "status_dropped"]
    assert (dropped["status_id"], dropped["reason"]) == (str(status), "no_such_paper")


def test_posts_are_paced_to_the_3_hour_budget_with_one_warning(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_POSTS_PER_3H="10", BOT_RATE_PER_ACCOUNT="100")
    run_cycle(settings, clock)
    statuses = [add_post(mastodon) for _ in range(12)]
    run_cycle(settings, clock)
    run_cycle(settings, clock)
    assert len(mastodon.posted()) == 9, "10 a window, less a reserve of 1"
    assert [e["event"] for e in captured_logs].count("post_budget") == 1
    clock.advance(3 * 3600 + 1)  # the window moves past those posts
    run_cycle(settings, clock)
    assert sorted(r.in_reply_to_id or 0 for r in mastodon.posted()) == statuses
    assert [e["event"] for e in captured_logs].count("post_budget_restored") == 1


def test_a_late_arrival_is_found_by_the_next_sweep_and_answered_once(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_POLL_INTERVAL="60", BOT_SWEEP_SECONDS="300")
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        first = add_post(mastodon)
        skipped = paper_post(mastodon, "https://arxiv.org/abs/2504.18412", account=mastodon.bot)
        clock.advance(60)
        engine.run_cycle()  # the live cursor passes both
        late = paper_post_after(mastodon, first, "hep-th/9711200")  # published before `skipped`
        for _ in range(3):  # the live poll never sees it
            clock.advance(60)
            engine.run_cycle()
        assert mastodon.replies_to(late) == []
        clock.advance(60)
        report = engine.run_cycle()  # five minutes after the sweep at start
        assert report.swept >= 3
        for _ in range(10):
            clock.advance(60)
            engine.run_cycle()
    assert [r.in_reply_to_id for r in mastodon.posted()] == [first, late], "each once"
    skips = [
        e
        for e in captured_logs
        if e["event"] == "status_skipped" and e["status_id"] == str(skipped)
    ]
    assert len(skips) == 1, "a post decided against is not decided or logged again"


def test_posts_older_than_the_lookback_are_left_alone(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_POLL_INTERVAL="60", BOT_LOOKBACK_HOURS="1")
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        old = add_post(mastodon)
        for _ in range(150):  # two and a half hours of one-minute cycles
            clock.advance(60)
            engine.run_cycle()
        recent = add_post(mastodon, "2504.18412")
        newer = add_post(mastodon, "1903.01234")
        clock.advance(60)
        engine.run_cycle()  # the live cursor passes `recent` and `newer`
        very_late = paper_post_after(  # published just after `old`, 2.5 hours ago
            mastodon, old, "hep-th/9711200", clock.now() - timedelta(hours=2.5)
        )
        late = paper_post_after(  # published right after `recent`, a minute ago
            mastodon, recent, "2101.00042", clock.now() - timedelta(minutes=1)
        )
        clock.advance(300)
        engine.run_cycle()  # the sweep, from where the cursor was an hour ago (at `old`)
    answered = {r.in_reply_to_id for r in mastodon.posted()}
    assert answered == {old, recent, newer, late}
    assert very_late not in answered


def paper_post_after(
    mastodon: FakeMastodon, earlier: int, arxiv_id: str, published_at: datetime | None = None
) -> int:
    """A post from another server that arrives now, published right after ``earlier``."""
    author = mastodon.add_account("remote", domain="far.example")
    body = post_html(link(f"https://arxiv.org/abs/{arxiv_id}"), hashtag("arxiv"))
    return mastodon.add_status(
        author, body, tags=("arxiv",), published_after=earlier, published_at=published_at
    )


def test_a_busy_timeline_is_swept_in_turns_of_bounded_pages(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_POLL_INTERVAL="60", BOT_SWEEP_SECONDS="300")
    author = mastodon.add_account("busy")
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        chatter = [
            mastodon.add_status(author, f"<p>chat {i} #arxiv</p>", tags=("arxiv",))
            for i in range(SWEEP_MAX_PAGES * PAGE_LIMIT + 100)
        ]
        for _ in range(4):  # the live polls catch up, ten pages a cycle
            clock.advance(60)
            engine.run_cycle()
        late = paper_post_after(mastodon, chatter[-50], "hep-th/9711200")
        requests_before = tag_requests(mastodon)
        clock.advance(60)
        first = engine.run_cycle()  # a sweep: 20 pages, not yet as far as `late`
        assert mastodon.replies_to(late) == []
        assert tag_requests(mastodon) - requests_before <= SWEEP_MAX_PAGES + 1, "bounded"
        clock.advance(300)
        second = engine.run_cycle()  # the next sweep carries on from there
    assert first.swept == SWEEP_MAX_PAGES * PAGE_LIMIT
    assert second.swept > 0
    assert len(mastodon.replies_to(late)) == 1


def test_a_backlog_of_one_account_through_an_outage_is_answered_in_full(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    """Posting fails for twelve minutes while one account posts 120 papers: every one waits
    (the default backlog bounds only what waits for the account's own hour) and is answered
    once the server takes posts again; the timelines are read all along."""
    clock = FakeClock()
    settings = make_settings(BOT_RATE_PER_ACCOUNT="1000", BOT_RETRY_BASE_SECONDS="30")
    author = mastodon.add_account("prolific", domain="science.example")
    down = Response.json({"error": "Internal Server Error"}, 500)
    posts: list[int] = []
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        mastodon.fail("POST", "/api/v1/statuses", down, times=100_000)
        reads = []
        for _ in range(12):
            posts += [paper_post(mastodon, ABS, account=author) for _ in range(10)]
            before = tag_requests(mastodon)
            engine.run_cycle()
            reads.append(tag_requests(mastodon) - before)
            clock.advance(60)
        assert mastodon.posted() == []
        assert all(n >= 1 for n in reads), "the timelines were read every minute"
        mastodon.faults.clear()  # the server takes posts again
        for _ in range(30):
            engine.run_cycle()
            if all(mastodon.replies_to(p) for p in posts):
                break
            clock.advance(60)
    assert [len(mastodon.replies_to(p)) for p in posts] == [1] * 120
    assert not [e for e in captured_logs if e.get("reason") == "backlog_full"]
    assert not [e for e in captured_logs if e["event"] == "status_dropped"]
    waits = [e["retry_in"] for e in captured_logs if e["event"] == "post_failed"]
    assert waits[0] <= 5, "a first retry within seconds"
    assert max(waits) > 60, "doubling after that"


def test_a_failed_read_pauses_reading_but_not_posting(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    clock = FakeClock()
    down = Response.json({"error": "Internal Server Error"}, 500)
    with engine_with_clock(make_settings(BOT_RETRY_BASE_SECONDS="30"), clock) as engine:
        engine.run_cycle()
        status = add_post(mastodon)
        mastodon.fail("POST", "/api/v1/statuses", down)
        engine.run_cycle()  # read, and its reply refused: posting waits a few seconds
        assert mastodon.posted() == []
        clock.advance(6)
        mastodon.fail("GET", "/api/v1/timelines/tag/", down)
        engine.run_cycle()  # the read fails: reading waits 15 to 30 s
        reads = tag_requests(mastodon)
        clock.advance(6)
        report = engine.run_cycle()
        assert tag_requests(mastodon) == reads, "reading still paused"
    assert [r.in_reply_to_id for r in mastodon.posted()] == [status], "posting went on"
    assert report.wake_in is not None
    assert 0 < report.wake_in <= 30 - 6, "the next cycle comes when reading may resume"


def test_the_cycle_after_a_failed_post_comes_when_its_backoff_ends(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    """The next cycle is an hour away; the post refused a moment ago is tried again as soon
    as posting's backoff (about a second here) is over."""
    settings = make_settings(BOT_POLL_INTERVAL="3600", BOT_RETRY_BASE_SECONDS="1")
    run_cycle(settings)
    status = add_post(mastodon)
    mastodon.fail("POST", "/api/v1/statuses", Response.json({"error": "oops"}, 502))
    stop = threading.Event()
    with built(settings, stop) as bot:
        loop = threading.Thread(target=serve, args=(bot.cycle, 3600, stop, bot.doorbell))
        loop.start()
        try:
            wait_for(lambda: bool(mastodon.posted()), timeout=15)
        finally:
            stop.set()
            loop.join(timeout=30)
    assert mastodon.count("POST", "/api/v1/statuses") == 2, "refused once, then posted"
    assert [r.in_reply_to_id for r in mastodon.posted()] == [status]


def test_after_a_restart_the_queue_is_answered_while_the_timelines_back_off(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    """A backoff after a failed read is kept across restarts, yet it must not keep the queue
    from being answered: the restarted bot starts once (who it is, the server's limits) and
    posts. A 429's reset is another matter: then it asks nothing at all until then."""
    clock = FakeClock()
    settings = make_settings(BOT_RETRY_BASE_SECONDS="30")
    down = Response.json({"error": "Internal Server Error"}, 500)
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        status = add_post(mastodon)
        mastodon.fail("POST", "/api/v1/statuses", down)
        engine.run_cycle()  # read and queued; its post refused
        clock.advance(6)
        mastodon.fail("GET", "/api/v1/timelines/tag/", down)
        mastodon.fail("POST", "/api/v1/statuses", down)
        engine.run_cycle()  # the read fails: the timelines back off; the post fails again
    assert mastodon.posted() == []
    clock.advance(12)
    with built(settings, clock=clock) as bot:  # a restart, inside the timelines' backoff
        reads = tag_requests(mastodon)
        bot.cycle.run_cycle()
        assert tag_requests(mastodon) == reads, "the timelines wait"
    assert [r.in_reply_to_id for r in mastodon.posted()] == [status], "the queue did not"
    mastodon.rate_limit = (300, 0, 3600)
    throttled = Response.json({"error": "Too many requests"}, 429, mastodon.rate_limit_headers())
    mastodon.fail("GET", "/api/v1/timelines/tag/", throttled)
    clock.advance(60)
    with built(settings, clock=clock) as bot:
        bot.cycle.run_cycle()  # starts, reads: 429 until the reset
    asked = len(mastodon.requests)
    clock.advance(60)
    with built(settings, clock=clock) as bot:
        bot.cycle.run_cycle()
    assert len(mastodon.requests) == asked, "held by the server: nothing asked at all"


def test_a_backoff_starts_afresh_whenever_the_server_answers(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    """A server failing one request in ten must not be left alone for a quarter of an hour:
    the timelines' backoff doubles only while nothing is answered."""
    clock = FakeClock()
    settings = make_settings(BOT_RETRY_BASE_SECONDS="20", BOT_RETRY_MAX_SECONDS="900")
    down = Response.json({"error": "oops"}, 500)
    with engine_with_clock(settings, clock) as engine:
        engine.run_cycle()
        for _ in range(6):  # each poll: the timeline answers, then the mentions fail
            mastodon.fail("GET", "/api/v1/notifications", down)
            engine.run_cycle()
            clock.advance(60)
    waits = [e["retry_in"] for e in captured_logs if e["event"] == "poll_failed"]
    assert len(waits) == 6, "polled again each minute"
    assert max(waits) <= 20, "never doubled: the server answered in between"
