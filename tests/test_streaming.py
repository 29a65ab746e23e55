"""Live streams beside the polls: answered within moments, nothing lost when a stream is not.

The bot runs in process (scheduler, doorbell and stream threads included) against the fake
Mastodon's streaming API, over one WebSocket or (where the upgrade is refused) server-sent
events, which behave as ``FACTS-streaming.md`` says the real ones do: heartbeats and pings,
lossy drops, refusals, silence. The adapters alone are tried in ``test_stream_adapters``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import Bot, built
from bot.config import Settings
from bot.cycle import Cycle
from bot.limits.server_kinds import Server, plan_streams, websocket_url
from bot.models import CycleReport
from bot.ops.metrics import Metrics
from bot.reading.inbox import StreamInbox
from bot.reading.streams import Streams
from bot.scheduler import serve
from tests.conftest import link, paper_post, post_html, start_bot
from tests.fakes.mastodon import FakeMastodon
from tests.waiting import wait_for

PAPER = "https://arxiv.org/abs/1706.03762"
STREAMS = {"user:notification", "hashtag:arxiv"}
"""What the bot follows on Mastodon: one WebSocket for the notifications and the hashtag."""
SSE = {"user", "hashtag:arxiv"}
"""The same over server-sent events, one connection each, when the upgrade is refused."""
CONNECTIONS = {"websocket": {"user:notification, hashtag:arxiv"}, "sse": SSE}


@pytest.fixture(autouse=True)
def _quick_heartbeats(mastodon: FakeMastodon) -> None:
    mastodon.streaming.heartbeat = 0.1
    mastodon.streaming.ping_every = 0.1


@pytest.fixture(params=["websocket", "sse"])
def transport(request: pytest.FixtureRequest, mastodon: FakeMastodon) -> str:
    """Mastodon over its one WebSocket, and behind a proxy that refuses the upgrade (then over
    server-sent events)."""
    if request.param == "sse":
        mastodon.websocket_refused = (404, "Not Found")
    return str(request.param)


def streams_of(transport: str) -> set[str]:
    return STREAMS if transport == "websocket" else SSE


def streaming_settings(make_settings: Callable[..., Settings], **overrides: str) -> Settings:
    """A poll interval far longer than any test: what is answered came by the stream, or
    by the catch-up poll after a connect."""
    values = {
        "BOT_POLL_INTERVAL": "3600",
        "BOT_STREAM_DEAD_SECONDS": "1",
        "BOT_STREAM_RETRY_SECONDS": "0.3",
        **overrides,
    }
    return make_settings(**values)


class Counted:
    """The bot's cycle, counting the cycles that began and ended: a test can tell the loop
    is idle, and that a cycle had its chance."""

    def __init__(self, cycle: Cycle) -> None:
        self._cycle = cycle
        self.began = 0
        self.ended = 0

    def run_cycle(self) -> CycleReport:
        self.began += 1
        try:
            return self._cycle.run_cycle()
        finally:
            self.ended += 1


@dataclass
class Running:
    bot: Bot
    cycles: Counted

    @property
    def inbox(self) -> StreamInbox:
        assert self.bot.inbox is not None
        return self.bot.inbox

    @property
    def streams(self) -> Streams:
        assert self.bot.streams is not None
        return self.bot.streams

    def idle(self) -> bool:
        """No cycle running, none rung for, no catch-up poll pending."""
        _, _, catching_up = self.inbox.waiting()
        return (
            not catching_up
            and not self.bot.doorbell.rung()
            and self.cycles.began == self.cycles.ended
        )

    def one_more_cycle(self) -> None:
        """Ring, and wait until a cycle ran after the ring."""
        ended = self.cycles.ended
        self.bot.doorbell.ring()
        wait_for(lambda: self.cycles.ended > ended)


@contextmanager
def running(settings: Settings) -> Iterator[Running]:
    stop = threading.Event()
    with built(settings, stop, streaming=True) as bot:
        cycles = Counted(bot.cycle)
        loop = threading.Thread(
            target=serve, args=(cycles, settings.bot_poll_interval, stop, bot.doorbell)
        )
        loop.start()
        try:
            yield Running(bot, cycles)
        finally:
            stop.set()
            loop.join(timeout=30)
            assert not loop.is_alive()


def streaming_requests(mastodon: FakeMastodon) -> list[str]:
    return [r.path for r in mastodon.requests if r.path.startswith("/api/v1/streaming")]


def tag_polls(mastodon: FakeMastodon) -> int:
    return sum(
        1
        for r in mastodon.requests
        if r.path.startswith("/api/v1/timelines/tag/") and "min_id" in r.query
    )


def mention_of(mastodon: FakeMastodon, text: str) -> int:
    return mastodon.add_mention(mastodon.add_account("carol"), text)


def settled(mastodon: FakeMastodon, streams: set[str] = STREAMS) -> Callable[[], bool]:
    """True once the streams are open and the catch-up poll after connecting is done."""

    def check() -> bool:
        return set(mastodon.streaming.open_streams) >= streams and tag_polls(mastodon) >= 1

    return check


def caught_up(run: Running, mastodon: FakeMastodon, streams: set[str] = STREAMS) -> None:
    """Wait until the streams are healthy and the catch-up polls of their connects are over."""
    wait_for(settled(mastodon, streams))
    wait_for(lambda: run.streams.healthy() and run.idle())


def streamed(logs: list[MutableMapping[str, Any]]) -> int:
    return sum(1 for e in logs if e["event"] == "status_streamed")


def test_a_post_and_a_mention_are_answered_through_the_streams_within_moments(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings], transport: str
) -> None:
    settings = streaming_settings(make_settings)
    with running(settings) as run:
        caught_up(run, mastodon, streams_of(transport))
        polls = tag_polls(mastodon)
        started = time.monotonic()
        post = paper_post(mastodon, PAPER)
        wait_for(lambda: bool(mastodon.replies_to(post)), timeout=10)
        post_latency = time.monotonic() - started
        started = time.monotonic()
        asked = mention_of(mastodon, post_html(link("https://arxiv.org/abs/2104.12255")))
        wait_for(lambda: bool(mastodon.replies_to(asked)), timeout=10)
        mention_latency = time.monotonic() - started
        assert tag_polls(mastodon) == polls, "answered by a poll, not by the stream"
    assert post_latency < 5
    assert mention_latency < 5
    assert len(mastodon.replies_to(post)) == 1
    assert len(mastodon.replies_to(asked)) == 1
    if transport == "websocket":
        assert mastodon.streaming.websockets() == 0, "closed with the bot"
        assert sum(1 for r in mastodon.requests if r.path == "/api/v1/streaming") == 1, "one"


def test_a_backdated_post_is_answered_from_the_stream(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    older = paper_post(mastodon, "https://arxiv.org/abs/2104.12255")
    newer = mastodon.add_status(mastodon.add_account("dan"), post_html("chatter"), tags=("arxiv",))
    settings = streaming_settings(make_settings)
    with running(settings):
        wait_for(settled(mastodon))
        late = mastodon.add_status(
            mastodon.add_account("bob", domain="far.example"),
            post_html("Late:", link(PAPER)),
            tags=("arxiv",),
            published_after=older,
        )
        assert older < late < newer, "its id sorts behind a post the cursor passed"
        wait_for(lambda: bool(mastodon.replies_to(late)), timeout=10)
    assert not mastodon.replies_to(older), "from before the start: not answered"


def test_what_was_posted_while_the_stream_was_down_is_answered_by_the_catch_up_poll(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
    transport: str,
) -> None:
    settings = streaming_settings(make_settings)
    with running(settings) as run:
        caught_up(run, mastodon, streams_of(transport))
        connects = len(mastodon.streaming.connects)
        cycles = run.cycles.ended
        tried = len(streaming_requests(mastodon))
        mastodon.streaming.refusal = (503, "Service Unavailable")
        mastodon.streaming.drop()
        wait_for(lambda: not mastodon.streaming.open_streams)
        missed = paper_post(mastodon, PAPER)  # published to nobody: lost from the stream
        mention = mention_of(mastodon, post_html(link("https://arxiv.org/abs/2104.12255")))
        # Every connection was tried again and refused: the bot was at work.
        wait_for(lambda: len(streaming_requests(mastodon)) >= tried + len(CONNECTIONS[transport]))
        assert run.cycles.ended == cycles, "no cycle: the next poll is an hour away"
        assert not mastodon.posted(), "nothing answered while the streams were down"
        mastodon.streaming.refusal = None
        wait_for(lambda: bool(mastodon.replies_to(missed) and mastodon.replies_to(mention)))
        assert len(mastodon.streaming.connects) > connects
    events = [e["event"] for e in captured_logs]
    assert events.count("stream_dropped") >= len(CONNECTIONS[transport])
    assert "catch_up_poll" in events


def test_a_connection_that_goes_quiet_is_noticed_from_its_heartbeat_age(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
    transport: str,
) -> None:
    """No heartbeat, no ping, no pong: the connection is open but nothing comes."""
    settings = streaming_settings(make_settings, BOT_STREAM_DEAD_SECONDS="1")
    with running(settings):
        wait_for(settled(mastodon, streams_of(transport)))
        connects = len(mastodon.streaming.connects)
        mastodon.streaming.heartbeats = False  # open, but nothing comes any more
        started = time.monotonic()
        wait_for(lambda: len(mastodon.streaming.connects) >= connects + 2, timeout=10)
        noticed = time.monotonic() - started
        mastodon.streaming.heartbeats = True
    dropped = [e for e in captured_logs if e["event"] == "stream_dropped"]
    assert {e["stream"] for e in dropped} == CONNECTIONS[transport]
    assert all("no heartbeat or event for 1 s" in e["reason"] for e in dropped), dropped
    assert noticed < 5, "noticed from the heartbeat age, not after a five-minute timeout"


def test_a_silent_stream_costs_at_most_one_slow_poll_interval(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    # Heartbeats flow, events do not (the server's Redis link is broken): only polling
    # finds the post, at the slower pace polling keeps while streams look healthy.
    settings = streaming_settings(
        make_settings, BOT_POLL_INTERVAL="0.5", BOT_STREAM_POLL_FACTOR="4"
    )
    with running(settings):
        wait_for(settled(mastodon))
        mastodon.streaming.silent = True  # pings and pongs go on: the connection looks fine
        started = time.monotonic()
        post = paper_post(mastodon, PAPER)
        wait_for(lambda: bool(mastodon.replies_to(post)), timeout=10)
        waited = time.monotonic() - started
    assert waited <= 0.5 * 4 + 1.5


def test_a_post_seen_by_the_stream_and_a_poll_is_decided_and_answered_once(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    settings = streaming_settings(make_settings)
    stop = threading.Event()
    with built(settings, stop, streaming=True) as bot:
        bot.cycle.run_cycle()  # starts the streams; the catch-up poll comes with the connect
        mastodon.streaming.wait_for_streams(STREAMS)
        wait_for(lambda: bot.streams is not None and bot.streams.healthy())
        post = paper_post(mastodon, PAPER)
        asked = mention_of(mastodon, post_html(link("https://arxiv.org/abs/2104.12255")))
        wait_for(lambda: streamed(captured_logs) == 2)  # both in the inbox
        report = bot.cycle.run_cycle()  # takes the streamed ones, then the catch-up poll
        assert report.streamed == 2
        assert report.seen > report.streamed, "the poll read them too"
        again = bot.cycle.run_cycle()
    assert [e["status_id"] for e in captured_logs if e["event"] == "status_streamed"]
    assert len(mastodon.replies_to(post)) == 1
    assert len(mastodon.replies_to(asked)) == 1
    assert report.replied == 2
    assert again.replied == 0
    decided = [e for e in captured_logs if e["event"] in ("status_skipped", "mention_skipped")]
    assert not decided, "nothing decided twice"


def test_a_streamed_post_without_a_paper_does_not_wake_the_cycle(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    with built(settings, threading.Event(), streaming=True) as bot:
        bot.cycle.run_cycle()
        mastodon.streaming.wait_for_streams(STREAMS)
        wait_for(lambda: bot.streams is not None and bot.streams.healthy())
        bot.doorbell.answer()
        assert bot.inbox is not None
        inbox = bot.inbox
        author = mastodon.add_account("dan")
        for i in range(5):
            mastodon.add_status(author, post_html(f"chatter {i}"), tags=("arxiv",))
        wait_for(lambda: inbox.waiting()[1] == 5)  # all five came, and were passed over
        assert not bot.doorbell.rung(), "chatter does not wake the cycle"
        post = paper_post(mastodon, PAPER)
        wait_for(bot.doorbell.rung)
        report = bot.cycle.run_cycle()
    assert report.streamed == 6
    assert report.skipped >= 5
    assert len(mastodon.replies_to(post)) == 1


def test_a_server_without_streaming_is_polled_with_one_line_that_says_so(
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    server = FakeMastodon(flavour="takahe")
    try:
        settings = streaming_settings(
            make_settings, MASTODON_BASE_URL=server.url, BOT_POLL_INTERVAL="0.2"
        )
        with running(settings):
            wait_for(lambda: tag_polls(server) >= 1)  # started: what comes now is new
            post = paper_post(server, PAPER)
            wait_for(lambda: bool(server.replies_to(post)))
        assert not any(r.path.startswith("/api/v1/streaming") for r in server.requests)
    finally:
        server.close()
    unavailable = [e for e in captured_logs if e["event"] == "streaming_unavailable"]
    assert len(unavailable) == 1
    assert unavailable[0]["reason"] == "takahe has no streaming API"


@pytest.mark.parametrize(
    ("status", "error", "refused"),
    [(404, "Not Found", SSE), (401, "Missing access token", {"user:notification, hashtag:arxiv"})],
)
def test_a_refused_stream_means_polling_at_the_usual_pace_and_asking_again_later(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
    status: int,
    error: str,
    refused: set[str],
) -> None:
    """A 404 to the upgrade may be a proxy: server-sent events are tried, refused too, once
    each; a 401 is the token's, for every transport: the WebSocket is refused, once."""
    mastodon.streaming.refusal = (status, error)
    settings = streaming_settings(
        make_settings, BOT_POLL_INTERVAL="0.2", BOT_STREAM_RETRY_SECONDS="0.5"
    )
    with running(settings) as run:
        wait_for(lambda: tag_polls(mastodon) >= 1)  # started: what comes now is new
        post = paper_post(mastodon, PAPER)
        wait_for(lambda: bool(mastodon.replies_to(post)))
        wait_for(lambda: len(streaming_requests(mastodon)) >= 4)  # asked again, and again
        assert not run.streams.healthy()
        mastodon.streaming.refusal = None  # the server changed its mind: streams come back
        mastodon.streaming.wait_for_streams(SSE if status == 404 else STREAMS)
    events = [e for e in captured_logs if e["event"] in ("stream_refused", "streaming_unavailable")]
    assert {e["stream"] for e in events if e["event"] == "stream_refused"} == refused
    assert [e["event"] for e in events].count("stream_refused") == len(refused), "once each"
    assert [e["event"] for e in events].count("streaming_unavailable") == 1
    assert {e.get("status") for e in events if e["event"] == "stream_refused"} == {status}


def test_hashtag_feeds_switched_off_leave_only_the_user_stream(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    mastodon.hashtag_feeds = "disabled"
    with running(streaming_settings(make_settings)):
        mastodon.streaming.wait_for_streams({"user:notification"})
        wait_for(lambda: tag_polls(mastodon) >= 1)
        asked = mention_of(mastodon, post_html(link(PAPER)))
        wait_for(lambda: bool(mastodon.replies_to(asked)))
        assert mastodon.streaming.connects == ["user:notification"]
    assert "streaming_limited" in [e["event"] for e in captured_logs]


def test_the_streaming_host_comes_from_the_instance_information(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    mastodon.stream_elsewhere()
    with running(streaming_settings(make_settings)):
        wait_for(settled(mastodon))
        asked = mention_of(mastodon, post_html(link(PAPER)))
        wait_for(lambda: bool(mastodon.replies_to(asked)))
    assert mastodon.streaming_host is not None
    assert any(r.path == "/api/v1/streaming" for r in mastodon.streaming_host.requests)
    assert not [r for r in mastodon.requests if r.path.startswith("/api/v1/streaming")]


MASTODON_WS = [("websocket", "user:notification, hashtag:arxiv, hashtag:ml")]
MASTODON_SSE = [("sse", "user"), ("sse", "hashtag:arxiv"), ("sse", "hashtag:ml")]


@pytest.mark.parametrize(
    ("server", "token", "mode", "feeds", "channels", "fallback", "why"),
    [
        (Server("mastodon", "4.4.0"), True, "auto", "public", MASTODON_WS, MASTODON_SSE, None),
        (Server("mastodon", "4.5.0"), True, "auto", "disabled", [("websocket", "user:notification")], [("sse", "user")], "switched off"),
        (Server("mastodon", "4.4.0"), True, "off", "public", [], [], "BOT_STREAMING=off"),
        (Server("mastodon", "4.4.0"), False, "auto", "public", [], [], "token"),
        (Server("gotosocial", "0.17.3"), True, "auto", "public", [("websocket", "user:notification, public")], [], "no hashtag stream"),
        (Server("akkoma", "3.13.2"), True, "auto", "public", [("websocket", "user"), ("websocket", "hashtag:arxiv"), ("websocket", "hashtag:ml")], [], None),
        (Server("takahe", "0.11.0"), True, "auto", "public", [], [], "no streaming API"),
        (Server("sharkey", "2024.11.0"), True, "auto", "public", [], [], "no streaming API"),
        (Server("unknown", ""), True, "auto", "public", MASTODON_WS, MASTODON_SSE, None),
    ],
)  # fmt: skip
def test_which_streams_are_planned(
    server: Server,
    token: bool,
    mode: str,
    feeds: str,
    channels: list[tuple[str, str]],
    fallback: list[tuple[str, str]],
    why: str | None,
) -> None:
    """``why``: the reason there are none, or the note about what is left out."""
    server = replace(server, hashtag_feeds=feeds)
    plan = plan_streams(
        server, ["arxiv", "ml"], has_token=token, mode=mode, base_url="https://example.social"
    )
    assert [(c.transport, c.name) for c in plan.channels] == channels
    assert [(c.transport, c.name) for c in plan.fallback] == fallback
    said = " ".join(filter(None, (plan.unavailable, *plan.notes)))
    assert (why in said) if why else not said
    assert (plan.unavailable is None) == bool(channels)
    assert all(c.url == "wss://example.social/api/v1/streaming" for c in plan.channels)


@pytest.mark.parametrize(
    ("streaming_url", "base_url", "expected"),
    [
        (None, "https://example.social", "wss://example.social/api/v1/streaming"),
        ("wss://streaming.example.social", "https://example.social", "wss://streaming.example.social/api/v1/streaming"),
        ("wss://127.0.0.1:8080", "http://127.0.0.1:8080", "ws://127.0.0.1:8080/api/v1/streaming"),
        ("wss://example.social/sub/", "https://example.social", "wss://example.social/sub/api/v1/streaming"),
    ],
)  # fmt: skip
def test_where_a_websocket_connects(
    streaming_url: str | None, base_url: str, expected: str
) -> None:
    """GoToSocial names ``wss`` even when served over plain HTTP (seen on the real one)."""
    assert websocket_url(streaming_url, base_url) == expected


def test_health_and_metrics_show_each_stream(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    cli: Any,
    bot_env: dict[str, str],
) -> None:
    settings = streaming_settings(make_settings)
    with running(settings) as run:
        caught_up(run, mastodon)
        run.one_more_cycle()  # a cycle after the streams were healthy wrote their state
        health = cli("healthcheck", env=bot_env)
    assert health.returncode == 0
    assert "user:notification connected" in health.stdout
    assert "hashtag:arxiv connected" in health.stdout


def test_metrics_show_each_stream_and_count_what_came_by_stream(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    metrics = Metrics()
    settings = streaming_settings(make_settings)
    with built(settings, threading.Event(), streaming=True, metrics=metrics) as bot:
        bot.cycle.run_cycle()
        wait_for(lambda: bot.streams is not None and bot.streams.healthy())
        bot.cycle.run_cycle()  # the catch-up poll
        paper_post(mastodon, PAPER)
        wait_for(lambda: streamed(captured_logs) == 1)
        bot.cycle.run_cycle()
    value = metrics.registry.get_sample_value
    assert value("arxiv_bot_stream_connected", {"stream": "user:notification"}) == 1
    assert value("arxiv_bot_stream_connected", {"stream": "hashtag:arxiv"}) == 1
    age = value("arxiv_bot_stream_last_event_age_seconds", {"stream": "user:notification"})
    assert age is not None
    assert 0 <= age < 1
    assert value("arxiv_bot_statuses_seen_total", {"read": "stream"}) == 1


def test_check_says_whether_streaming_works_and_warns_about_scopes(
    mastodon: FakeMastodon, cli: Any, bot_env: dict[str, str]
) -> None:
    result = cli("check", env=bot_env)
    assert result.returncode == 0, result.stdout
    assert "streaming: works (WebSocket, one connection to ws://127.0.0.1:" in result.stdout
    assert "user:notification, hashtag:arxiv)" in result.stdout
    mastodon.streaming.close_with = (1008, "Forbidden")  # upgraded, then closed at once
    result = cli("check", env=bot_env)
    assert "streaming: unavailable, polling only: refused (1008: Forbidden)" in result.stdout
    mastodon.streaming.close_with = None
    mastodon.websocket_refused = (404, "Not Found")  # a proxy that does not upgrade
    result = cli("check", env=bot_env)
    assert "streaming: works (server-sent events" in result.stdout, result.stdout
    mastodon.scopes = ("read:accounts", "read:statuses", "write")
    mastodon.streaming.refusal = (404, "Not Found")
    result = cli("check", env=bot_env)
    assert "lacks read:notifications" in result.stdout
    assert "streaming: unavailable, polling only: refused (404" in result.stdout
    off = cli("check", env={**bot_env, "BOT_STREAMING": "off"})
    assert "streaming: off, polling only (BOT_STREAMING=off)" in off.stdout


def test_sigterm_stops_the_bot_in_time_with_its_streams_open(
    mastodon: FakeMastodon, bot_env: dict[str, str], tmp_path: Path
) -> None:
    mastodon.streaming.heartbeat = 15.0  # as Mastodon: reads block for long stretches
    process = start_bot({**bot_env, "BOT_POLL_INTERVAL": "3600"}, tmp_path, stderr=subprocess.PIPE)
    try:
        mastodon.streaming.wait_for_streams(STREAMS, timeout=20)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        took = time.monotonic() - started
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert took < 8, f"took {took:.1f} s"
    events = [json.loads(x)["event"] for x in stderr.splitlines() if x.startswith("{")]
    assert events.count("stream_connected") == 1, "one WebSocket for both streams"
    assert "stopped" in events
