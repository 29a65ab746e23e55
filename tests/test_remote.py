"""Hashtags read from other servers: a post found on another server's public tag timeline is
resolved on the bot's own server and answered there, once, under the same rules.

Three loopback fakes: the bot's own server (``home.example``) and two others whose ids,
cursors and domains differ. The home fake resolves a URI as Mastodon does
(``/api/v2/search?resolve=true``: logged-in users only, a copy under its own id made from
the publish time, an empty result for what it cannot fetch); remote tag timelines are read
without a token (Mastodon serves them so unless its admin made them login-only, 4.5;
GoToSocial answers 401).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import generate_latest

from bot.app import built
from bot.config import Settings, SettingsError
from bot.ops.metrics import Metrics
from tests.conftest import (
    CliResult,
    FakeClock,
    SettingsFactory,
    hashtag,
    link,
    paper_post,
    post_html,
    run_cycle,
)
from tests.fakes.http import Response
from tests.fakes.mastodon import FakeMastodon
from tests.waiting import wait_for

PAPER = "https://arxiv.org/abs/1706.03762"


@dataclass
class Fediverse:
    home: FakeMastodon
    sigmoid: FakeMastodon
    science: FakeMastodon

    def tag(self, remote: FakeMastodon, tag: str = "arxiv") -> str:
        return f"{tag}@{remote.url}"


@pytest.fixture
def fedi(mastodon: FakeMastodon) -> Iterator[Fediverse]:
    sigmoid = FakeMastodon(domain="sigmoid.example", first_id=109_000_000_000_000_000)
    science = FakeMastodon(domain="science.example", first_id=110_500_000_000_000_000)
    for remote in (sigmoid, science):
        mastodon.peers[remote.domain] = remote  # home can fetch their posts
    yield Fediverse(mastodon, sigmoid, science)
    sigmoid.close()
    science.close()


def remote_post(
    remote: FakeMastodon, url: str = PAPER, *, username: str = "carol", note: str = ""
) -> int:
    author = next(
        (a for a in remote.accounts.values() if a["username"] == username), None
    ) or remote.add_account(username, note=note)
    body = post_html("New paper:", link(url), hashtag("arxiv"))
    return remote.add_status(author, body, tags=("arxiv",))


def searches(home: FakeMastodon) -> int:
    return home.count("GET", "/api/v2/search")


def events(logs: list[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == name]


def started(settings: Settings, clock: FakeClock | None = None) -> None:
    """A first cycle: every cursor is set to now (nothing before it is answered)."""
    report = run_cycle(settings, clock)
    assert report.replied == 0


def test_a_post_seen_only_on_another_server_is_answered_once_in_the_home_thread(
    fedi: Fediverse, make_settings: SettingsFactory
) -> None:
    settings = make_settings(BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)}")
    started(settings)
    remote_id = remote_post(fedi.sigmoid)
    assert fedi.home.copy_of(fedi.sigmoid, remote_id) is None, "home does not know it yet"

    report = run_cycle(settings)

    home_id = fedi.home.copy_of(fedi.sigmoid, remote_id)
    assert home_id is not None
    assert home_id != remote_id
    [reply] = fedi.home.posted()
    assert reply.in_reply_to_id == home_id, "answered in the home server's thread"
    assert reply.mentions == ("carol@sigmoid.example",)
    assert (report.found_remote, report.resolved, report.replied) == (1, 1, 1)
    assert searches(fedi.home) == 1
    assert fedi.sigmoid.count("POST", "/") == 0, "nothing is written to the other server"
    assert all("authorization" not in r.headers for r in fedi.sigmoid.requests), "no token"

    again = run_cycle(settings)  # the copy is on home's tag timeline now too
    assert again.replied == 0
    assert len(fedi.home.posted()) == 1
    assert searches(fedi.home) == 1, "a post decided once is never resolved again"


def test_the_remote_cursor_is_the_remote_servers_own_and_survives_a_restart(
    fedi: Fediverse, make_settings: SettingsFactory
) -> None:
    settings = make_settings(BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)}")
    started(settings)
    first = remote_post(fedi.sigmoid)
    run_cycle(settings)
    with built(settings) as bot:
        cursor = bot.store.cursors.get(f"remote:arxiv@{fedi.sigmoid.url.split('://')[1]}")
    assert cursor == str(first), "paged by the remote server's own ids"
    second = remote_post(fedi.sigmoid, "https://arxiv.org/abs/2504.18412", username="dave")
    run_cycle(settings)
    answered = {r.in_reply_to_id for r in fedi.home.posted()}
    assert answered == {
        fedi.home.copy_of(fedi.sigmoid, first),
        fedi.home.copy_of(fedi.sigmoid, second),
    }
    assert searches(fedi.home) == 2


def test_a_post_on_the_home_tag_and_on_a_remote_tag_is_decided_once_and_never_resolved(
    fedi: Fediverse, make_settings: SettingsFactory
) -> None:
    settings = make_settings(
        BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)},{fedi.tag(fedi.science)}"
    )
    started(settings)
    remote_id = remote_post(fedi.sigmoid)
    fedi.home.federate(fedi.sigmoid, remote_id)  # someone on home follows carol
    remote_reads = fedi.sigmoid.count("GET", "/api/v1/timelines/tag/")

    report = run_cycle(settings)

    assert fedi.sigmoid.count("GET", "/api/v1/timelines/tag/") > remote_reads, "it was read"
    assert report.replied == 1
    [reply] = fedi.home.posted()
    assert reply.in_reply_to_id == fedi.home.copy_of(fedi.sigmoid, remote_id)
    assert report.found_remote == 0, "known by its URI from the home tag"
    assert searches(fedi.home) == 0, "no request for a post already decided"


def test_two_remote_servers_and_a_home_that_federates_part_of_them(
    fedi: Fediverse, make_settings: SettingsFactory
) -> None:
    settings = make_settings(
        BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)},{fedi.tag(fedi.science)}"
    )
    started(settings)
    everywhere = [remote_post(fedi.sigmoid, username=f"s{i}") for i in range(3)]
    only_there = [remote_post(fedi.science, username=f"t{i}") for i in range(3)]
    fedi.home.federate(fedi.sigmoid, everywhere[0])
    home_own = paper_post(fedi.home, "https://arxiv.org/abs/2504.18412")

    run_cycle(settings)
    run_cycle(settings)

    posted = fedi.home.posted()
    answered = [r.in_reply_to_id for r in posted]
    expected = {home_own} | {
        fedi.home.copy_of(remote, sid)
        for remote, ids in ((fedi.sigmoid, everywhere), (fedi.science, only_there))
        for sid in ids
    }
    assert None not in expected
    assert len(answered) == len(set(answered)) == 7, "each answered once, none twice"
    assert set(answered) == expected
    assert searches(fedi.home) == 5, "one resolve for each post home did not have"


def test_an_author_who_opted_out_is_not_answered_and_not_looked_up_again(
    fedi: Fediverse, make_settings: SettingsFactory, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    settings = make_settings(BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)}")
    started(settings)
    remote_post(fedi.sigmoid, note="<p>Researcher. #nobot</p>")

    run_cycle(settings)
    run_cycle(settings)

    assert fedi.home.posted() == []
    [skipped] = [
        e for e in events(captured_logs, "status_skipped") if e["reason"] == "profile_opt_out"
    ]
    assert skipped["status_id"] != ""
    assert searches(fedi.home) == 1


def test_a_resolve_that_fails_waits_and_is_retried_across_a_restart(
    fedi: Fediverse, make_settings: SettingsFactory, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_HASHTAGS=f"{fedi.tag(fedi.sigmoid)}")
    started(settings, clock)
    remote_id = remote_post(fedi.sigmoid)
    fedi.home.fail("GET", "/api/v2/search", Response.json({"error": "busy"}, 503))

    failed = run_cycle(settings, clock)

    assert failed.found_remote == 1
    assert failed.replied == 0
    assert events(captured_logs, "resolve_failed")
    clock.advance(61)  # a new process, after the first retry's wait
    report = run_cycle(settings, clock)
    home_id = fedi.home.copy_of(fedi.sigmoid, remote_id)
    assert report.resolved == 1
    assert [r.in_reply_to_id for r in fedi.home.posted()] == [home_id]
    assert searches(fedi.home) == 2


def test_a_post_the_home_server_cannot_show_is_dropped_with_its_reason(
    fedi: Fediverse, make_settings: SettingsFactory, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)}")
    started(settings, clock)
    fedi.home.blocked_domains.add(fedi.sigmoid.domain)  # home's admin blocked that server
    remote_post(fedi.sigmoid)

    for _ in range(6):
        run_cycle(settings, clock)
        clock.advance(600)

    assert fedi.home.posted() == []
    [dropped] = events(captured_logs, "remote_post_dropped")
    assert dropped["reason"] == "not_found_on_home"
    assert searches(fedi.home) == 4, "looked up 4 times, minutes apart, then left alone"


def test_a_server_that_wants_a_login_is_said_once_and_asked_again_hours_later(
    mastodon: FakeMastodon,
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    gts = FakeMastodon(flavour="gotosocial", domain="gts.example")
    try:
        clock = FakeClock()
        settings = make_settings(BOT_HASHTAGS=f"arxiv,arxiv@{gts.url}", BOT_POLL_INTERVAL="60")
        with built(settings, clock=clock) as bot:
            bot.cycle.run_cycle()
            asked = gts.count("GET", "/api/v1/timelines/tag/")
            home_post = paper_post(mastodon, PAPER)
            for _ in range(5):
                clock.advance(600)
                bot.cycle.run_cycle()
            assert gts.count("GET", "/api/v1/timelines/tag/") == asked, "left alone for hours"
            assert [r.in_reply_to_id for r in mastodon.posted()] == [home_post]
            clock.advance(6 * 3600)
            bot.cycle.run_cycle()
            assert gts.count("GET", "/api/v1/timelines/tag/") == asked + 1
        assert asked == 1
        [refused] = events(captured_logs, "remote_source_refused")
        assert refused["status"] == 401
        assert all("authorization" not in r.headers for r in gts.requests)
    finally:
        gts.close()


def test_a_remote_server_that_fails_or_throttles_pauses_alone(
    fedi: Fediverse, make_settings: SettingsFactory, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)}", BOT_POLL_INTERVAL="60")
    with built(settings, clock=clock) as bot:
        bot.cycle.run_cycle()
        remote_id = remote_post(fedi.sigmoid)
        fedi.sigmoid.fail(
            "GET", "/api/v1/timelines/tag/", Response.json({"error": "down"}, 502), times=1
        )
        home_post = paper_post(fedi.home, PAPER)
        clock.advance(61)
        report = bot.cycle.run_cycle()
        assert report.replied == 1, "the home tag is answered while the other server is down"
        assert [e["source"] for e in events(captured_logs, "remote_poll_failed")]
        fedi.sigmoid.rate_limit = (300, 3, 900.0)  # nearly spent: wait for its reset
        clock.advance(3600)
        bot.cycle.run_cycle()
        reads = fedi.sigmoid.count("GET", "/api/v1/timelines/tag/")
        clock.advance(120)
        bot.cycle.run_cycle()
        assert fedi.sigmoid.count("GET", "/api/v1/timelines/tag/") == reads, "waits for the reset"
        clock.advance(900)
        fedi.sigmoid.rate_limit = (300, 299, 300.0)
        bot.cycle.run_cycle()
        assert fedi.sigmoid.count("GET", "/api/v1/timelines/tag/") > reads, "read after it"
    answered = sorted(r.in_reply_to_id or 0 for r in fedi.home.posted())
    assert answered == sorted([home_post, fedi.home.copy_of(fedi.sigmoid, remote_id) or -1])
    assert fedi.home.count("GET", "/api/v1/timelines/tag/") >= 4, "home read all along"


def test_a_remote_budget_running_low_spreads_its_reads_as_home_polls_do(
    fedi: Fediverse, make_settings: SettingsFactory
) -> None:
    """Below a fifth of its limit, the requests left (less a reserve) are spread until the
    reset: 20 of 300 left, 15 kept back, 900 s to go, so one read every 180 s, not every 60."""
    clock = FakeClock()
    settings = make_settings(BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)}", BOT_POLL_INTERVAL="60")
    fedi.sigmoid.rate_limit = (300, 20, 900.0)
    with built(settings, clock=clock) as bot:
        bot.cycle.run_cycle()
        reads = fedi.sigmoid.count("GET", "/api/v1/timelines/tag/")
        assert reads >= 1, "the first cycle read the remote tag"
        clock.advance(61)
        bot.cycle.run_cycle()
        clock.advance(61)
        bot.cycle.run_cycle()
        assert fedi.home.count("GET", "/api/v1/timelines/tag/") >= 3, "the cycles ran and polled"
        assert fedi.sigmoid.count("GET", "/api/v1/timelines/tag/") == reads, (
            "spread until the reset, not read every minute"
        )
        clock.advance(61)
        bot.cycle.run_cycle()
        assert fedi.sigmoid.count("GET", "/api/v1/timelines/tag/") > reads, "read after 180 s"


def test_a_post_streamed_at_home_polled_at_home_and_read_remotely_is_answered_once(
    fedi: Fediverse, make_settings: SettingsFactory, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    fedi.home.streaming.heartbeat = 0.1
    clock = FakeClock()
    settings = make_settings(
        BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)}",
        BOT_POLL_INTERVAL="60",
        BOT_STREAM_DEAD_SECONDS="3600",  # the test's clock jumps a minute, not the stream
    )
    with built(settings, threading.Event(), streaming=True, clock=clock) as bot:
        bot.cycle.run_cycle()  # every cursor set; the streams start
        fedi.home.streaming.wait_for_streams({"user:notification", "hashtag:arxiv"})
        wait_for(lambda: bot.streams is not None and bot.streams.healthy())
        remote_id = remote_post(fedi.sigmoid)
        home_id = fedi.home.federate(fedi.sigmoid, remote_id)  # delivered: on home's stream
        wait_for(lambda: bool(events(captured_logs, "status_streamed")))
        remote_reads = fedi.sigmoid.count("GET", "/api/v1/timelines/tag/")
        clock.advance(60)  # the remote tag's next read is due
        report = bot.cycle.run_cycle()  # the stream's, the catch-up poll, the remote tag
        assert fedi.sigmoid.count("GET", "/api/v1/timelines/tag/") > remote_reads
        again = bot.cycle.run_cycle()
    assert report.streamed == 1
    assert report.seen > report.streamed, "the home tag and the remote tag read it too"
    assert [r.in_reply_to_id for r in fedi.home.posted()] == [home_id]
    assert again.replied == 0
    assert searches(fedi.home) == 0, "known by its URI: never resolved"


def test_check_says_for_each_remote_source_whether_it_can_be_read_and_resolved(
    fedi: Fediverse, bot_env: dict[str, str], cli: Callable[..., CliResult]
) -> None:
    gts = FakeMastodon(flavour="gotosocial", domain="gts.example")
    try:
        remote_post(fedi.sigmoid)
        fedi.science.hashtag_feeds = "authenticated"
        remote_post(fedi.science)
        tags = f"arxiv,{fedi.tag(fedi.sigmoid)},{fedi.tag(fedi.science)},arxiv@{gts.url}"
        result = cli("check", env={**bot_env, "BOT_HASHTAGS": tags})
        out = result.stdout
        sigmoid, science, login = (
            u.split("://")[1] for u in (fedi.sigmoid.url, fedi.science.url, gts.url)
        )
        assert f"remote #arxiv@{sigmoid}: readable without a login, has posts" in out
        assert f"remote #arxiv@{science}: readable without a login, no posts" in out
        assert f"remote #arxiv@{login}: REFUSED: it needs a login" in out
        assert "resolving posts from other servers: ok" in out
        assert result.returncode == 1, "a source that cannot be read is a problem"
        assert all("authorization" not in r.headers for r in gts.requests + fedi.sigmoid.requests)

        fedi.home.scopes = ("read:accounts", "read:statuses", "read:notifications", "write")
        lacking = cli("check", env={**bot_env, "BOT_HASHTAGS": f"arxiv,{fedi.tag(fedi.sigmoid)}"})
        assert "resolving posts from other servers: FAILED" in lacking.stdout
        assert "read:search" in lacking.stdout
    finally:
        gts.close()


@pytest.mark.parametrize(
    ("value", "home", "remote"),
    [
        (
            "arxiv,arxiv@sigmoid.social",
            ("arxiv",),
            [("arxiv", "sigmoid.social", "https://sigmoid.social")],
        ),
        ("#Papers@FediScience.org", (), [("papers", "fediscience.org", "https://fediscience.org")]),
        ("ml@http://127.0.0.1:8080/", (), [("ml", "127.0.0.1:8080", "http://127.0.0.1:8080")]),
    ],
)
def test_a_hashtag_may_name_the_server_to_read_it_from(
    make_settings: SettingsFactory,
    value: str,
    home: tuple[str, ...],
    remote: list[tuple[str, str, str]],
) -> None:
    settings = make_settings(BOT_HASHTAGS=value)
    assert settings.home_hashtags == home
    assert [(t.tag, t.server, t.base_url) for t in settings.remote_hashtags] == remote


@pytest.mark.parametrize(
    "value", ["arxiv@", "arxiv@sigmoid.social/tags", "arxiv@ftp://x.org", "@sigmoid.social"]
)
def test_a_bad_server_after_the_at_stops_the_start_naming_it(
    make_settings: SettingsFactory, value: str
) -> None:
    with pytest.raises(SettingsError, match="BOT_HASHTAGS") as error:
        make_settings(BOT_HASHTAGS=value)
    assert value.split(",")[0] in str(error.value)


def test_a_remote_tag_needs_the_token_to_resolve_what_it_finds(
    make_settings: SettingsFactory,
) -> None:
    with pytest.raises(SettingsError, match="needs MASTODON_ACCESS_TOKEN"):
        make_settings(
            BOT_HASHTAGS="arxiv,arxiv@sigmoid.social", MASTODON_ACCESS_TOKEN="", BOT_DRY_RUN="true"
        )


def test_a_post_that_reaches_the_remote_server_late_is_found_by_its_sweep(
    fedi: Fediverse, make_settings: SettingsFactory
) -> None:
    clock = FakeClock()
    settings = make_settings(
        BOT_HASHTAGS=fedi.tag(fedi.sigmoid), BOT_POLL_INTERVAL="60", BOT_SWEEP_SECONDS="300"
    )
    with built(settings, clock=clock) as bot:
        bot.cycle.run_cycle()
        first = remote_post(fedi.sigmoid)
        later = remote_post(fedi.sigmoid, "https://arxiv.org/abs/2504.18412", username="dave")
        clock.advance(60)
        bot.cycle.run_cycle()  # the remote cursor passes both
        far = fedi.sigmoid.add_account("frank", domain="far.example")
        body = post_html(link("https://arxiv.org/abs/hep-th/9711200"), hashtag("arxiv"))
        late = fedi.sigmoid.add_status(far, body, tags=("arxiv",), published_after=first)
        assert first < late < later, "backdated behind the cursor"
        clock.advance(60)
        live_only = bot.cycle.run_cycle()
        assert live_only.found_remote == 0, "the live read does not see it"
        clock.advance(300)
        swept = bot.cycle.run_cycle()
    assert swept.swept > 0
    assert swept.found_remote == 1
    answered = {r.in_reply_to_id for r in fedi.home.posted()}
    copies = {fedi.home.copy_of(fedi.sigmoid, i) for i in (first, later, late)}
    assert answered == copies
    assert len(fedi.home.posted()) == 3


def test_metrics_count_the_posts_found_elsewhere_and_resolved(
    fedi: Fediverse, make_settings: SettingsFactory
) -> None:
    metrics, clock = Metrics(), FakeClock()
    settings = make_settings(BOT_HASHTAGS=f"{fedi.tag(fedi.sigmoid)},{fedi.tag(fedi.science)}")
    with built(settings, metrics=metrics, clock=clock) as bot:
        bot.cycle.run_cycle()
        remote_post(fedi.sigmoid)
        remote_post(fedi.science, note="#nobot")
        clock.advance(60)  # each remote tag is read at most once a minute
        bot.cycle.run_cycle()
    text = generate_latest(metrics.registry).decode()
    assert 'arxiv_bot_remote_posts_total{outcome="found"} 2.0' in text
    assert 'arxiv_bot_remote_posts_total{outcome="resolved"} 2.0' in text
    assert "arxiv_bot_requests_answered_total 1.0" in text, "the one who opted out is not"


def test_a_server_without_the_tag_timeline_is_a_refusal_not_a_quiet_tag(
    fedi: Fediverse, make_settings: SettingsFactory, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    settings = make_settings(BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)}")
    no_api = Response.json({"error": "Not Found"}, 404)  # a server without the Mastodon API
    fedi.sigmoid.fail("GET", "/api/v1/timelines/tag/", no_api, times=5)
    run_cycle(settings)
    [refused] = events(captured_logs, "remote_source_refused")
    assert refused["status"] == 404
    assert not events(captured_logs, "tag_unused"), "not read as a tag nobody used yet"


@pytest.mark.parametrize(("count", "warned"), [(2, False), (14, True)])
def test_many_tags_on_one_server_are_measured_against_its_anonymous_limit(
    fedi: Fediverse,
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
    count: int,
    warned: bool,
) -> None:
    tags = ",".join(fedi.tag(fedi.sigmoid, f"t{i}") for i in range(count))
    with built(make_settings(BOT_HASHTAGS=tags, BOT_POLL_INTERVAL="60")):
        pass
    warnings = [e for e in events(captured_logs, "request_budget") if "server" in e]
    assert bool(warnings) is warned
    if warned:
        assert warnings[0]["server"] == fedi.sigmoid.url
        assert "anonymous paged requests per IP address" in warnings[0]["message"]


def test_a_token_without_read_search_keeps_what_was_found_and_asks_hourly(
    fedi: Fediverse, make_settings: SettingsFactory, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_HASHTAGS=fedi.tag(fedi.sigmoid), BOT_POLL_INTERVAL="60")
    fedi.home.scopes = ("read:accounts", "read:statuses", "read:notifications", "write")
    with built(settings, clock=clock) as bot:
        bot.cycle.run_cycle()
        found = [remote_post(fedi.sigmoid, username=f"u{i}") for i in range(3)]
        for _ in range(10):
            clock.advance(60)
            bot.cycle.run_cycle()
        assert searches(fedi.home) == 1, "one refusal holds them all for the hour"
        fedi.home.scopes = ("read", "write")  # the operator grants read:search
        clock.advance(3600)
        bot.cycle.run_cycle()
    assert len(events(captured_logs, "resolve_refused")) == 1
    assert {r.in_reply_to_id for r in fedi.home.posted()} == {
        fedi.home.copy_of(fedi.sigmoid, i) for i in found
    }


def test_remote_tags_keep_their_own_pace_while_home_polls_are_held_back(
    fedi: Fediverse, make_settings: SettingsFactory
) -> None:
    clock = FakeClock()
    settings = make_settings(BOT_HASHTAGS=f"arxiv,{fedi.tag(fedi.sigmoid)}", BOT_POLL_INTERVAL="60")
    with built(settings, clock=clock) as bot:
        bot.cycle.run_cycle()
        fedi.home.rate_limit = (300, 10, 900.0)  # home's budget nearly spent: polls stretch
        clock.advance(60)
        bot.cycle.run_cycle()
        home_reads = fedi.home.count("GET", "/api/v1/timelines/tag/")
        remote_id = remote_post(fedi.sigmoid)
        clock.advance(60)
        report = bot.cycle.run_cycle()
    assert fedi.home.count("GET", "/api/v1/timelines/tag/") == home_reads, "home waits"
    assert report.resolved == 1
    assert [r.in_reply_to_id for r in fedi.home.posted()] == [
        fedi.home.copy_of(fedi.sigmoid, remote_id)
    ]
