"""Exactly once across crashes: the real bot process is SIGKILLed at chosen points of a cycle;
the bot started again on its state file must leave every eligible post with exactly one reply
thread."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import built
from bot.config import Settings
from tests.conftest import hashtag, link, post_html, run_cycle, start_bot
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.http import Response
from tests.fakes.mastodon import FakeMastodon, StatusRecord
from tests.waiting import wait_for


def kill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def two_paper_post(mastodon: FakeMastodon) -> int:
    author = mastodon.add_account("alice")
    body = post_html(
        link("https://arxiv.org/abs/1706.03762"),
        link("https://arxiv.org/abs/hep-th/9711200"),
        hashtag("arxiv"),
    )
    return mastodon.add_status(author, body, tags=("arxiv",))


def assert_one_thread(mastodon: FakeMastodon, status: int) -> None:
    posts: list[StatusRecord] = mastodon.posted()
    assert [p.in_reply_to_id for p in posts] == [status, posts[0].id], [p.text[:40] for p in posts]
    assert "Attention Is All You Need" in posts[0].text
    assert "Large N Limit" in posts[1].text


def posts_seen(mastodon: FakeMastodon) -> int:
    return mastodon.count("POST", "/api/v1/statuses")


@pytest.mark.parametrize(
    "point",
    [
        "reading-the-timeline",
        "asking-arxiv",
        "first-post-stored-answer-lost",
        "second-post-in-flight",
    ],
)
def test_killed_mid_cycle_then_restarted_answers_exactly_once(
    mastodon: FakeMastodon,
    arxiv_server: FakeArxiv,
    bot_env: dict[str, str],
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    point: str,
) -> None:
    settings = make_settings()
    run_cycle(settings)
    status = two_paper_post(mastodon)
    if point == "reading-the-timeline":
        mastodon.fail("GET", "/api/v1/timelines/tag/", None, delay=30)
        arrived = lambda: mastodon.count("GET", "/api/v1/timelines/tag/") >= 2  # noqa: E731
    elif point == "asking-arxiv":
        arxiv_server.fail("GET", "/api/query", None, delay=30)
        arrived = lambda: len(arxiv_server.requests) >= 1  # noqa: E731
    elif point == "first-post-stored-answer-lost":
        mastodon.fail("POST", "/api/v1/statuses", None, delay_after=30)
        arrived = lambda: len(mastodon.posted()) == 1  # noqa: E731
    else:
        mastodon.fail("POST", "/api/v1/statuses", None)  # the first goes through
        mastodon.fail("POST", "/api/v1/statuses", Response.json({"error": "x"}, 503), delay=30)
        arrived = lambda: posts_seen(mastodon) == 2  # noqa: E731

    process = start_bot(bot_env, tmp_path)
    try:
        wait_for(arrived)
    finally:
        kill(process)
    # Past Mastodon's idempotency window: only the bot's own records can prevent a duplicate.
    mastodon.forget_idempotency_keys()
    mastodon.faults.clear()

    # Started again (in process: the state file is what carries over), twice.
    assert not run_cycle(settings).errors
    assert not run_cycle(settings).errors
    assert_one_thread(mastodon, status)


def test_a_reply_whose_answer_was_lost_is_found_in_the_thread_after_the_key_expired(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(MASTODON_TIMEOUT="0.3")
    with built(settings) as bot:
        bot.cycle.start()
        bot.cycle.run_cycle()
        status = two_paper_post(mastodon)
        mastodon.fail("POST", "/api/v1/statuses", None, delay_after=0.8)
        first = bot.cycle.run_cycle()
        assert first.posts == 0
        assert len(mastodon.posted()) == 1, "the server did store it"
        mastodon.forget_idempotency_keys()
        bot.cycle.run_cycle()
    assert_one_thread(mastodon, status)
    assert posts_seen(mastodon) == 2, "the lost reply was found, not posted again"
