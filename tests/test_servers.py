"""Every server that speaks the Mastodon client API: the whole cycle against each flavour of
the fake (version string, instance endpoints, counting and its refusal, ``any[]``,
notification types, idempotency, Link headers), and the pure identification table."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_mastodon, build_stream_openers, built
from bot.config import Settings
from bot.errors import RejectedError
from bot.limits.server_kinds import identify
from bot.ops.check import check
from bot.replying.posting import too_long
from tests.conftest import (
    FakeClock,
    SettingsFactory,
    hashtag,
    link,
    mention,
    post_html,
    posts_by_many,
)
from tests.fakes.http import Response
from tests.fakes.mastodon import FLAVOURS, FakeMastodon
from tests.fakes.mastodon.counting import count

TAGS = "arxiv,ml,physics,math,astro"


@pytest.fixture(params=sorted(FLAVOURS))
def server(request: pytest.FixtureRequest) -> Iterator[FakeMastodon]:
    fake = FakeMastodon(flavour=request.param)
    yield fake
    fake.close()


def settings_for(make_settings: SettingsFactory, server: FakeMastodon, **extra: str) -> Settings:
    return make_settings(**{"MASTODON_BASE_URL": server.url, "BOT_HASHTAGS": TAGS, **extra})


def cycle(settings: Settings) -> None:
    with built(settings, sweep_on_start=False) as bot:
        bot.cycle.run_cycle()


@pytest.mark.parametrize(
    ("version", "nodeinfo", "software", "number"),
    [
        ("4.3.2", None, "mastodon", "4.3.2"),
        ("4.5.0-alpha.1+glitch", "mastodon", "mastodon", "4.5.0-alpha.1+glitch"),
        ("3.5.3 (compatible; GoToSocial 0.17.3)", None, "gotosocial", "0.17.3"),
        ("2.7.2 (compatible; Akkoma 3.13.2)", None, "akkoma", "3.13.2"),
        ("2.7.2 (compatible; Pleroma 2.6.0)", None, "pleroma", "2.6.0"),
        ("4.0.0 (compatible; Iceshrimp.NET/2024.1-beta5)", None, "iceshrimp", "2024.1-beta5"),
        ("3.0.0 (compatible; Sharkey 2024.11.1)", None, "sharkey", "2024.11.1"),
        ("2.8.0 (compatible; Friendica 2024.12)", None, "friendica", "2024.12"),
        ("4.0.0", "snac", "snac", "4.0.0"),
        ("takahe/0.11.0", None, "takahe", "0.11.0"),
        ("takahe/0.11.0", "takahe", "takahe", "0.11.0"),
        ("0.0.0-eval+git-57cb4fe", "gotosocial", "gotosocial", "0.0.0-eval+git-57cb4fe"),
        ("", None, "unknown", ""),
        ("banana", None, "unknown", "banana"),
    ],
)
def test_the_software_is_told_from_the_version_and_nodeinfo(
    version: str, nodeinfo: str | None, software: str, number: str
) -> None:
    server = identify(version, nodeinfo)
    assert (server.software, server.version) == (software, number)
    assert server.tags_per_request == (4 if software == "mastodon" else 1)
    assert server.counting == ("mastodon" if software == "mastodon" else "strict")


def test_every_watched_tag_is_read_and_each_post_answered_once(
    server: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = settings_for(make_settings, server)
    cycle(settings)
    author = server.add_account("alice", domain="uni.example")
    by_tag = {
        tag: server.add_status(
            author,
            post_html(link(f"https://arxiv.org/abs/{arxiv_id}"), hashtag(tag)),
            tags=(tag,),
        )
        for tag, arxiv_id in zip(
            TAGS.split(","),
            ("1706.03762", "hep-th/9711200", "2504.18412", "2101.00042", "1903.01234"),
            strict=True,
        )
    }
    both = server.add_status(  # under two watched tags: answered once
        author,
        post_html(link("https://arxiv.org/abs/2104.12255"), hashtag("arxiv"), hashtag("astro")),
        tags=("arxiv", "astro"),
    )
    cycle(settings)
    cycle(settings)
    answered = sorted(r.in_reply_to_id or 0 for r in server.posted())
    assert answered == sorted([*by_tag.values(), both]), server.flavour_name
    requests = [r for r in server.requests if r.path.startswith("/api/v1/timelines/tag/")]
    any_sent = any("any[]" in r.query for r in requests)
    assert any_sent == (server.flavour_name == "mastodon"), "any[] only where it works"


def test_replies_fit_as_each_server_counts(
    server: FakeMastodon, make_settings: SettingsFactory
) -> None:
    server.max_characters = 300
    settings = settings_for(make_settings, server)
    cycle(settings)
    author = server.add_account("averyveryverylongusername", domain="a-long-domain.example")
    status = server.add_status(
        author,
        post_html(link("https://arxiv.org/abs/2101.00042"), hashtag("arxiv")),
        tags=("arxiv",),
        spoiler_text="long paper ✨",
    )
    cycle(settings)
    [reply] = server.replies_to(status)
    counting = server.flavour.counting
    if counting == "none":  # no check there: hold the reply to the strictest count instead
        counting = FLAVOURS["gotosocial"].counting
    length, warning = count(counting, reply.text, reply.spoiler_text, server.url_length)
    assert length + warning <= 300


def test_a_post_refused_as_too_long_is_composed_again_strictly(
    mastodon: FakeMastodon,
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    """A Mastodon look-alike that counts URLs and handles in full: the bot learns from the
    refusal, composes again under the strictest count, and remembers."""
    mastodon.max_characters = 300
    mastodon.counting_override = "codepoints"
    settings = make_settings()
    cycle(settings)
    author = mastodon.add_account(
        "averyveryverylongusername", domain="a-rather-long-domain-name-for-a-server.example"
    )
    first = mastodon.add_status(
        author, post_html(link("https://arxiv.org/abs/1706.03762"), hashtag("arxiv")),
        tags=("arxiv",),
    )  # fmt: skip
    cycle(settings)
    [reply] = mastodon.replies_to(first)
    assert len(reply.text) <= 300
    refused = [r for r in mastodon.requests if r.method == "POST"]
    assert len(refused) == 2, "refused once, then posted"
    second = mastodon.add_status(
        author, post_html(link("https://arxiv.org/abs/hep-th/9711200"), hashtag("arxiv")),
        tags=("arxiv",),
    )  # fmt: skip
    cycle(settings)  # a restart: still strict
    assert len(mastodon.replies_to(second)) == 1
    assert len([r for r in mastodon.requests if r.method == "POST"]) == 3
    [strict] = [e for e in captured_logs if e["event"] == "counting_strictly"]
    assert "Text character limit of 300 exceeded" in str(strict["error"]), "the server's words"


def test_only_mentions_of_the_bot_are_requests(
    server: FakeMastodon, make_settings: SettingsFactory
) -> None:
    settings = settings_for(make_settings, server, BOT_HASHTAGS="arxiv")
    cycle(settings)
    alice = server.add_account("alice")
    asked = server.add_mention(alice, link("https://arxiv.org/abs/1706.03762"))
    cycle(settings)
    [answer] = server.replies_to(asked)
    # A reply to the bot's answer that does not mention it, typed "mention" (Sharkey,
    # Iceshrimp), and a favourite: neither is a request.
    bob = server.add_account("bob")
    reply = server.add_status(
        bob,
        post_html("great", link("https://arxiv.org/abs/hep-th/9711200"), mention("alice")),
        in_reply_to_id=answer.id,
    )
    server.add_notification("mention", reply)
    server.add_notification("favourite", answer.id)
    cycle(settings)
    assert server.replies_to(reply) == []
    assert len(server.posted()) == 1


@pytest.mark.parametrize(
    "flavour", sorted(name for name, f in FLAVOURS.items() if not f.idempotency)
)
def test_a_retried_post_never_doubles_where_keys_are_ignored(
    flavour: str, make_settings: SettingsFactory
) -> None:
    """Mastodon's own case (keys honoured, then forgotten) is in test_cycle and test_crash."""
    server = FakeMastodon(flavour=flavour)
    try:
        lost_answer_is_found(server, make_settings)
    finally:
        server.close()


def lost_answer_is_found(server: FakeMastodon, make_settings: SettingsFactory) -> None:
    settings = settings_for(make_settings, server, BOT_HASHTAGS="arxiv", MASTODON_TIMEOUT="0.3")
    cycle(settings)
    status = server.add_status(
        server.add_account("carol"),
        post_html(link("https://arxiv.org/abs/1706.03762"), hashtag("arxiv")),
        tags=("arxiv",),
    )
    server.fail("POST", "/api/v1/statuses", None, delay_after=0.8)  # stored, answer lost
    cycle(settings)
    cycle(settings)
    assert len(server.replies_to(status)) == 1


def test_paging_ends_without_link_headers_and_reads_everything(
    make_settings: SettingsFactory,
) -> None:
    snac = FakeMastodon(flavour="snac")
    try:
        settings = make_settings(MASTODON_BASE_URL=snac.url, BOT_HASHTAGS="arxiv")
        cycle(settings)
        posts = posts_by_many(snac, 45)
        cycle(settings)
        assert sorted(r.in_reply_to_id or 0 for r in snac.posted()) == posts
    finally:
        snac.close()


def checked(settings: Settings) -> int:
    """``arxiv-bot check`` as the CLI runs it, on these settings."""
    return check(settings, build_mastodon(settings), build_stream_openers(settings))


def test_check_names_the_server_and_what_it_adapts(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    akkoma = FakeMastodon(flavour="akkoma")
    try:
        assert checked(make_settings(MASTODON_BASE_URL=akkoma.url)) == 0
    finally:
        akkoma.close()
    out = capsys.readouterr().out
    assert "akkoma 3.13.2, posts up to 5000 characters, URLs and handles count in full" in out
    assert "adapted: one timeline request per hashtag" in out


def test_writes_are_paced_where_no_rate_limits_are_announced(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    waits: list[float] = []
    for flavour, headers in (("akkoma", None), ("mastodon", (300, 299, 300.0))):
        server = FakeMastodon(flavour=flavour)
        server.rate_limit = headers
        try:
            settings = make_settings(
                MASTODON_BASE_URL=server.url,
                BOT_HASHTAGS="arxiv",
                BOT_POST_GAP_SECONDS="5",
                BOT_DATA_DIR=str(tmp_path / flavour),
            )
            cycle(settings)
            server.add_status(
                server.add_account("erin"),
                post_html(
                    link("https://arxiv.org/abs/1706.03762"),
                    link("https://arxiv.org/abs/hep-th/9711200"),
                    hashtag("arxiv"),
                ),
                tags=("arxiv",),
            )
            with built(settings, sweep_on_start=False, wait=waits.append) as bot:
                bot.cycle.run_cycle()
            assert len(server.posted()) == 2
        finally:
            server.close()
        if flavour == "akkoma":
            [waited] = waits
            assert 4 < waited <= 5
    assert len(waits) == 1, "none where the server announces its limits"


def test_a_busy_servers_retry_after_is_honoured(make_settings: SettingsFactory) -> None:
    clock = FakeClock()
    gts = FakeMastodon(flavour="gotosocial")
    try:
        settings = make_settings(MASTODON_BASE_URL=gts.url, BOT_HASHTAGS="arxiv")
        with built(settings, clock=clock) as bot:
            bot.cycle.run_cycle()
            busy = Response.json({"error": "busy"}, 503, {"Retry-After": "120"})
            gts.fail("GET", "/api/v1/timelines/tag/", busy)
            bot.cycle.run_cycle()
            before = gts.count("GET", "/api/v1/timelines/tag/")
            for _ in range(11):  # 110 s of 10-second cycles: still told to wait
                clock.advance(10)
                bot.cycle.run_cycle()
            assert gts.count("GET", "/api/v1/timelines/tag/") == before
            clock.advance(15)
            bot.cycle.run_cycle()
            assert gts.count("GET", "/api/v1/timelines/tag/") > before
    finally:
        gts.close()


def test_paging_ends_when_a_server_ignores_the_cursor(make_settings: SettingsFactory) -> None:
    """Akkoma before 3.18.1 ignored paging on tag timelines: the same newest page, always."""
    akkoma = FakeMastodon(flavour="akkoma")
    try:
        settings = make_settings(MASTODON_BASE_URL=akkoma.url, BOT_HASHTAGS="arxiv")
        cycle(settings)
        akkoma.ignores_min_id = True
        posts = posts_by_many(akkoma, 45)
        before = akkoma.count("GET", "/api/v1/timelines/tag/")
        cycle(settings)
        cycle(settings)
        reads = akkoma.count("GET", "/api/v1/timelines/tag/") - before
    finally:
        akkoma.close()
    assert reads <= 4, "a repeated page ends the walk instead of looping to the page cap"
    answered = {r.in_reply_to_id for r in akkoma.posted()}
    assert answered == set(posts[-40:]), "the newest page is answered, once"


@pytest.mark.parametrize(
    "flavour", sorted(name for name, f in FLAVOURS.items() if f.counting != "none")
)
def test_each_servers_too_long_refusal_is_recognised(flavour: str) -> None:
    status, message = FLAVOURS[flavour].too_long
    refusal = RejectedError(
        f"HTTP {status} when trying to post a reply: {message.format(n=500)}", status
    )
    assert too_long(refusal)
    assert not too_long(
        RejectedError("HTTP 422 when trying to post a reply: Visibility is invalid", 422)
    )


def test_a_dry_run_without_a_token_is_told_when_the_server_hides_hashtags(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    gts = FakeMastodon(flavour="gotosocial")
    try:
        settings = make_settings(
            MASTODON_BASE_URL=gts.url, MASTODON_ACCESS_TOKEN="", BOT_DRY_RUN="true"
        )
        assert checked(settings) == 1
    finally:
        gts.close()
    assert "timeline #arxiv: FAILED" in capsys.readouterr().out


def test_the_first_post_under_a_tag_nobody_used_yet_is_answered(
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GoToSocial answers 404 ``tag was not found`` until a post uses the tag: that is an
    empty timeline, whose cursor starts at the beginning."""
    gts = FakeMastodon(flavour="gotosocial")
    try:
        settings = make_settings(MASTODON_BASE_URL=gts.url, BOT_HASHTAGS="brandnewtag")
        assert checked(settings) == 0
        assert "timeline #brandnewtag: readable, no posts under #brandnewtag yet" in (
            capsys.readouterr().out
        )
        with built(settings) as bot:
            for _ in range(3):
                bot.cycle.run_cycle()  # three polls, three 404s
            first = gts.add_status(
                gts.add_account("pioneer"),
                post_html(link("https://arxiv.org/abs/1706.03762"), hashtag("brandnewtag")),
                tags=("brandnewtag",),
            )
            bot.cycle.run_cycle()
    finally:
        gts.close()
    assert len(gts.replies_to(first)) == 1
    unused = [e for e in captured_logs if e["event"] == "tag_unused"]
    assert len(unused) == 2, "said once by check, once by the running bot: not every poll"
    assert "tag was not found" in unused[0]["server_says"]
    assert not [e for e in captured_logs if e["event"] in ("poll_refused", "poll_failed")]


def test_takahe_wants_broad_scopes_and_check_says_which_to_grant(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str], cli: Any
) -> None:
    """Takahē 0.11 refuses a token of granular scopes (403 out_of_scope_for_token) and answers
    500 on /api/v2/instance without an admin account; it is told apart by ``takahe/0.11.0``."""
    takahe = FakeMastodon(flavour="takahe")
    try:
        takahe.scopes = ("read:accounts", "read:statuses", "read:notifications", "write:statuses")
        settings = make_settings(MASTODON_BASE_URL=takahe.url)
        assert checked(settings) == 1
        out = capsys.readouterr().out
        assert "out_of_scope_for_token" in out
        assert "the token needs read:accounts" in out
        assert "grant read instead: read write covers the bot" in out
        assert "server: " + takahe.url + ": takahe 0.11.0, posts up to 500 characters" in out
        takahe.scopes = ("read", "write")
        assert checked(settings) == 0, capsys.readouterr().out
        out = capsys.readouterr().out
        assert "streaming: off, polling only (takahe has no streaming API)" in out
        assert "URLs and handles count in full" in out
    finally:
        takahe.close()


def test_instance_information_falls_back_to_v1_when_v2_fails(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    mastodon.max_characters = 321
    mastodon.fail("GET", "/api/v2/instance", Response.json({"error": "oops"}, 502), times=100)
    settings = make_settings()
    with built(settings, sweep_on_start=False) as bot:
        bot.cycle.run_cycle()
        server, limits = bot.mastodon.server()
    assert (server.software, limits.max_characters) == ("mastodon", 321)
    assert mastodon.count("GET", "/api/v1/instance") >= 1


@pytest.mark.parametrize(
    ("flavour", "says"),
    [
        ("mastodon", "over 80% of Mastodon's 300 paged requests per 15 min"),
        ("gotosocial", "over 80% of GoToSocial's 300 requests per IP address per 5 min"),
        ("takahe", "of Mastodon's 300 paged requests per 15 min (takahe publishes no limit"),
    ],
)
def test_the_budget_warning_names_the_servers_own_limit(
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
    flavour: str,
    says: str,
) -> None:
    server = FakeMastodon(flavour=flavour)
    try:
        cycle(make_settings(MASTODON_BASE_URL=server.url, BOT_POLL_INTERVAL="1"))
    finally:
        server.close()
    [warning] = [e for e in captured_logs if e["event"] == "request_budget"]
    assert says in warning["message"]
