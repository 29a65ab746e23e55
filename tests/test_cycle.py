"""The whole bot, in process, against the loopback Mastodon and arXiv fakes."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

import pytest
import requests

from bot.app import built
from bot.limits.budget import PAGE_LIMIT
from bot.ops.metrics import Metrics
from tests.conftest import (
    SettingsFactory,
    hashtag,
    link,
    paper_post,
    post_html,
    posts_by_many,
    run_cycle,
)
from tests.fakes.arxiv import RATE_EXCEEDED, FakeArxiv
from tests.fakes.http import Response
from tests.fakes.mastodon import FakeMastodon, mastodon_count
from tests.fixtures.papers import ATTENTION


def test_first_start_begins_at_now_and_later_posts_get_one_threaded_reply(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    old = paper_post(mastodon, "https://arxiv.org/abs/1706.03762")

    first = run_cycle(settings)
    assert first.replied == 0
    assert mastodon.posted() == [], "the backlog is not answered"

    new = paper_post(mastodon, "https://arxiv.org/pdf/1706.03762v5")
    report = run_cycle(settings)

    assert report.replied == 1
    [reply] = mastodon.posted()
    assert reply.in_reply_to_id == new
    assert mastodon.replies_to(old) == []
    assert reply.visibility == "unlisted"
    assert reply.text.startswith("@alice@science.example 📄 Attention Is All You Need\n")
    assert "Ashish Vaswani, Noam Shazeer, Niki Parmar et al." in reply.text
    assert "https://arxiv.org/abs/1706.03762v5" in reply.text
    assert "cs.CL · 2017-06-12 · v5 (latest v7)" in reply.text
    assert "We propose a new simple network architecture, the Transformer" in reply.text
    assert reply.mentions == ("alice@science.example",)
    assert mastodon_count(reply.text) <= 500
    assert reply.idempotency_key


def test_a_second_run_posts_nothing(mastodon: FakeMastodon, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    run_cycle(settings)
    paper_post(mastodon, "https://arxiv.org/abs/hep-th/9711200")
    run_cycle(settings)
    again = run_cycle(settings)
    assert len(mastodon.posted()) == 1
    assert again.seen == 0
    assert again.posts == 0


def test_skips_own_posts_bots_and_posts_without_papers(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    run_cycle(settings)
    bot_account = mastodon.add_account("otherbot", bot=True)
    paper_post(mastodon, "https://arxiv.org/abs/1706.03762", account=mastodon.bot)
    paper_post(mastodon, "https://arxiv.org/abs/1706.03762", account=bot_account)
    person = mastodon.add_account("bob")
    mastodon.add_status(person, post_html("No paper here", hashtag("arxiv")), tags=("arxiv",))
    mastodon.add_status(
        person,
        post_html(
            "A lookalike", link("https://arxiv.org.evil.example/abs/1706.03762"), hashtag("arxiv")
        ),
        tags=("arxiv",),
    )
    report = run_cycle(settings)
    assert report.seen == 4
    assert report.skipped == 4
    assert mastodon.posted() == []


def test_one_batched_arxiv_request_per_cycle_and_none_for_cached_papers(
    mastodon: FakeMastodon, arxiv_server: FakeArxiv, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    run_cycle(settings)
    paper_post(mastodon, "https://arxiv.org/abs/1706.03762")
    paper_post(mastodon, "https://arxiv.org/abs/hep-th/9711200v2")
    paper_post(mastodon, "https://arxiv.org/abs/2504.18412")
    run_cycle(settings)
    assert [sorted(ids) for ids in arxiv_server.id_lists()] == [
        ["1706.03762", "2504.18412", "hep-th/9711200"]
    ]
    paper_post(mastodon, "https://arxiv.org/abs/1706.03762v2")
    report = run_cycle(settings)
    assert report.replied == 1
    assert len(arxiv_server.id_lists()) == 1, "served from the cache"
    assert len(mastodon.posted()) == 4


def test_several_papers_give_a_thread_one_post_each(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    run_cycle(settings)
    author = mastodon.add_account("carol")
    body = post_html(
        "Two classics:",
        link("https://arxiv.org/abs/1706.03762"),
        "and arXiv:hep-th/9711200, and again",
        link("https://arxiv.org/abs/1706.03762v7"),
        hashtag("arxiv"),
    )
    status = mastodon.add_status(author, body, tags=("arxiv",))
    run_cycle(settings)
    first, second = mastodon.posted()
    assert first.in_reply_to_id == status
    assert second.in_reply_to_id == first.id
    assert "Attention Is All You Need" in first.text
    assert "@carol" in first.text
    assert "Large N Limit" in second.text
    assert "@" not in second.text.split("\n")[0]
    assert first.idempotency_key != second.idempotency_key


def test_watches_several_hashtags_four_per_request_on_mastodon(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = make_settings(BOT_HASHTAGS="#arXiv, papers,ml,physics,math,Astro")
    run_cycle(settings)
    paper_post(mastodon, "https://arxiv.org/abs/1706.03762", "ml")
    paper_post(mastodon, "https://arxiv.org/abs/hep-th/9711200", "astro")
    before = mastodon.count("GET", "/api/v1/timelines/tag/")
    run_cycle(settings)
    assert mastodon.count("GET", "/api/v1/timelines/tag/") - before == 2
    assert len(mastodon.posted()) == 2
    tags_asked = [
        (r.path.rsplit("/", 1)[1], r.query.get("any[]"))
        for r in mastodon.requests
        if r.path.startswith("/api/v1/timelines/tag/")
    ][-2:]
    # Mastodon keeps the first 4 names of the path tag and any[]: a 5th would be dropped.
    assert tags_asked == [("arxiv", ["papers", "ml", "physics"]), ("math", ["astro"])]


def test_pages_forward_without_gaps_when_many_arrive(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    run_cycle(settings)
    first = len(mastodon.requests)
    statuses = posts_by_many(mastodon, 45)
    report = run_cycle(settings)
    assert report.seen == 45
    assert report.replied == 45
    assert [r.in_reply_to_id for r in mastodon.posted()] == statuses, "oldest first, none missing"
    min_ids = [
        r.query["min_id"][0]
        for r in mastodon.requests[first:]
        if "min_id" in r.query and r.path.startswith("/api/v1/timelines/tag/")
    ]
    assert len(min_ids) == 2
    assert min_ids[1] == str(statuses[39])


@pytest.mark.parametrize(
    "fault",
    [
        Response(503, b"<html>busy</html>", "text/html"),
        RATE_EXCEEDED,
        Response(429, b"", "text/plain"),
    ],
    ids=["http-503", "rate-exceeded-200", "http-429"],
)
def test_statuses_wait_while_arxiv_fails_and_are_answered_when_it_recovers(
    mastodon: FakeMastodon, arxiv_server: FakeArxiv, make_settings: SettingsFactory, fault: Response
) -> None:
    settings = make_settings()
    run_cycle(settings)
    status = paper_post(mastodon, "https://arxiv.org/abs/1706.03762")
    arxiv_server.fail("GET", "/api/query", fault)
    failed = run_cycle(settings)
    assert failed.waiting == 1
    assert failed.dropped == 0
    assert mastodon.posted() == []
    recovered = run_cycle(settings)
    assert recovered.replied == 1
    assert [r.in_reply_to_id for r in mastodon.posted()] == [status]


def test_a_failed_post_is_retried_next_cycle_without_a_duplicate(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    run_cycle(settings)
    status = paper_post(mastodon, "https://arxiv.org/abs/1706.03762")
    mastodon.fail("POST", "/api/v1/statuses", Response.json({"error": "boom"}, 502))
    assert run_cycle(settings).posts == 0
    assert run_cycle(settings).posts == 1
    assert run_cycle(settings).posts == 0
    assert [r.in_reply_to_id for r in mastodon.posted()] == [status]


def test_a_post_whose_answer_was_lost_is_not_duplicated(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    """The server stored the reply but the bot never heard back: the retry carries the same
    idempotency key, so the server answers with the first reply instead of a second one."""
    settings = make_settings(MASTODON_TIMEOUT="0.3")
    run_cycle(settings)
    status = paper_post(mastodon, "https://arxiv.org/abs/1706.03762")
    mastodon.fail("POST", "/api/v1/statuses", None, delay=1.5)
    assert run_cycle(settings).posts == 0
    assert run_cycle(settings).posts == 1
    assert [r.in_reply_to_id for r in mastodon.posted()] == [status]
    keys = [r.headers.get("idempotency-key") for r in mastodon.requests if r.method == "POST"]
    assert len(keys) == 2
    assert keys[0] == keys[1]


def test_replies_fit_a_small_server_copy_the_content_warning_and_are_tagged_english(
    make_settings: SettingsFactory, arxiv_server: FakeArxiv
) -> None:
    small = FakeMastodon(max_characters=300)
    try:
        settings = make_settings(MASTODON_BASE_URL=small.url)
        run_cycle(settings)
        author = small.add_account("erin")
        body = post_html(link("https://arxiv.org/abs/2101.00042"), hashtag("arxiv"))
        small.add_status(author, body, tags=("arxiv",), spoiler_text="long paper", language="de")
        run_cycle(settings)
        [reply] = small.posted()
        assert mastodon_count(reply.text, spoiler_text=reply.spoiler_text) <= 300
        assert reply.spoiler_text == "long paper"
        assert reply.language == "en", "an English abstract, whatever the asker's language"
        assert "Author Number1, Author Number2, Author Number3 et al." in reply.text
    finally:
        small.close()


def test_paper_text_mentions_nobody_and_tags_nothing(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = make_settings(BOT_REPLY_VISIBILITY="public")
    run_cycle(settings)
    paper_post(mastodon, "https://arxiv.org/abs/2504.18412")
    run_cycle(settings)
    [reply] = mastodon.posted()
    assert reply.mentions == ("alice@science.example",)
    assert reply.tags == ()
    assert "example.org/probes" in reply.text
    assert "http://example.org" not in reply.text


def test_dry_run_posts_nothing_and_says_what_it_would_post(
    mastodon: FakeMastodon,
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    settings = make_settings(BOT_DRY_RUN="true", MASTODON_ACCESS_TOKEN="")
    with built(settings) as bot:
        bot.cycle.run_cycle()
        status = paper_post(mastodon, "https://arxiv.org/abs/1706.03762")
        report = bot.cycle.run_cycle()
    assert report.replied == 1
    assert mastodon.posted() == []
    would = [e for e in captured_logs if e["event"] == "would_post"]
    assert len(would) == 1
    assert would[0]["status_id"] == str(status)
    assert "Attention Is All You Need" in str(would[0]["text"])
    assert not settings.state_path.name.startswith("state.sqlite"), "a dry run keeps its own state"


def test_each_reply_is_logged_with_its_facts(
    mastodon: FakeMastodon,
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    settings = make_settings()
    run_cycle(settings)
    status = paper_post(mastodon, "https://arxiv.org/abs/1706.03762")
    started = time.perf_counter()
    run_cycle(settings)
    took_ms = (time.perf_counter() - started) * 1000
    [replied] = [e for e in captured_logs if e["event"] == "replied"]
    [reply] = mastodon.posted()
    assert replied["status_id"] == str(status)
    assert replied["paper_ids"] == ["1706.03762"]
    assert replied["reply_ids"] == [str(reply.id)]
    cycles = [e for e in captured_logs if e["event"] == "cycle"]
    assert cycles[-1]["replied"] == 1
    assert 0 < cycles[-1]["elapsed_ms"] <= took_ms, "the cycle's own time, within the call's"


def test_a_mirror_link_is_answered_like_an_arxiv_link(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    run_cycle(settings)
    status = paper_post(mastodon, "https://www.alphaxiv.org/abs/1706.03762")
    run_cycle(settings)
    [reply] = mastodon.replies_to(status)
    assert "Attention Is All You Need" in reply.text
    assert "https://arxiv.org/abs/1706.03762" in reply.text


def test_a_post_whose_thread_is_forbidden_is_dropped_and_the_rest_answered(
    mastodon: FakeMastodon,
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    settings = make_settings()
    run_cycle(settings)
    hidden = paper_post(mastodon, "https://arxiv.org/abs/1706.03762")
    mastodon.forbidden.add(hidden)
    shown = paper_post(mastodon, "https://arxiv.org/abs/hep-th/9711200")
    report = run_cycle(settings)
    assert (report.replied, report.dropped, report.errors) == (1, 1, [])
    assert [r.in_reply_to_id for r in mastodon.posted()] == [shown]
    [dropped] = [e for e in captured_logs if e["event"] == "status_dropped"]
    assert (dropped["status_id"], dropped["reason"]) == (str(hidden), "rejected_403")
    assert "This action is not allowed" in str(dropped["error"]), "the server's own words"


def test_an_unreadable_item_is_skipped_and_paging_goes_on_past_it(
    mastodon: FakeMastodon,
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    settings = make_settings()
    run_cycle(settings)
    posts = [
        paper_post(mastodon, "https://arxiv.org/abs/1706.03762") for _ in range(PAGE_LIMIT + 5)
    ]
    mastodon.malformed.add(posts[PAGE_LIMIT - 1])  # the newest item of the first full page
    report = run_cycle(settings)
    answered = sorted(r.in_reply_to_id or 0 for r in mastodon.posted())
    assert answered == [p for p in posts if p != posts[PAGE_LIMIT - 1]]
    assert report.seen == PAGE_LIMIT + 5
    assert [e["status_id"] for e in captured_logs if e["event"] == "status_malformed"] == [
        str(posts[PAGE_LIMIT - 1])
    ]
    assert run_cycle(settings).seen == 0, "the cursor is past the unreadable item"


def test_metrics_count_what_the_cycles_did(
    mastodon: FakeMastodon, arxiv_server: FakeArxiv, make_settings: SettingsFactory
) -> None:
    settings = make_settings(BOT_RETRY_BASE_SECONDS="30")
    metrics = Metrics()
    port = metrics.serve("127.0.0.1", 0)
    try:
        with built(settings, metrics=metrics) as bot:
            bot.cycle.run_cycle()
            paper_post(mastodon, "https://arxiv.org/abs/1706.03762")
            hidden = paper_post(mastodon, "https://arxiv.org/abs/hep-th/9711200")
            mastodon.forbidden.add(hidden)
            bot.cycle.run_cycle()
            arxiv_server.fail("GET", "/api/query", Response(502, b"", "text/plain"))
            paper_post(mastodon, "https://arxiv.org/abs/2504.18412")
            bot.cycle.run_cycle()
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        metrics.close()
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("arxiv_bot_") and not line.startswith("arxiv_bot_last_cycle")
    }
    assert values['arxiv_bot_statuses_seen_total{read="live"}'] == 3
    assert values["arxiv_bot_posts_total"] == 1
    assert values['arxiv_bot_requests_dropped_total{reason="rejected_403"}'] == 1
    assert values['arxiv_bot_api_errors_total{service="mastodon",status="403"}'] == 1
    assert values['arxiv_bot_api_errors_total{service="arxiv",status="502"}'] == 1
    assert values["arxiv_bot_queue_depth"] == 1, "the third post waits for arXiv"
    assert values['arxiv_bot_backoff_seconds{service="arxiv"}'] > 0
    assert "arxiv_bot_last_cycle_timestamp_seconds " in text


@pytest.mark.parametrize("cap", ["600", "0"])
def test_on_a_roomy_server_the_summary_keeps_a_readers_size_unless_told_otherwise(
    mastodon: FakeMastodon, make_settings: SettingsFactory, cap: str
) -> None:
    mastodon.max_characters = 5000
    settings = make_settings(BOT_SUMMARY_MAX_CHARACTERS=cap)
    run_cycle(settings)
    status = paper_post(mastodon, "https://arxiv.org/abs/1706.03762")
    run_cycle(settings)
    [reply] = mastodon.replies_to(status)
    summary = reply.text.split("\n\n", 1)[1]
    whole = " ".join(ATTENTION.summary.split())
    if cap == "0":
        assert summary == whole, "as much as fits: on 5,000 characters, all of it"
    else:
        assert len(summary) <= 600
        assert summary != whole
        assert summary.startswith("We propose a new simple network architecture")
