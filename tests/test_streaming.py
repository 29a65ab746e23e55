"""Live streams beside the polls: answered within moments, nothing lost when a stream is not.

The bot runs in process (scheduler, doorbell and stream threads included) against the fake
Mastodon's server-sent events, which behave as ``FACTS-streaming.md`` says the real ones do:
heartbeats, lossy drops, refusals, silence.
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
from bot.clients.mastodon_sse import MastodonStreams
from bot.clock import SystemClock
from bot.config import Settings
from bot.cycle import Cycle
from bot.errors import StreamRefused
from bot.limits.server_kinds import Server, StreamPlan, plan_streams
from bot.models import CycleReport, Identity, Status, StreamSpec
from bot.ops.metrics import Metrics
from bot.reading.inbox import INBOX_LIMIT, StreamInbox
from bot.reading.streams import Streams, StreamTimes
from bot.scheduler import serve
from tests.conftest import link, paper_post, post_html, start_bot, wait_for
from tests.fakes.http import Response
from tests.fakes.mastodon import TOKEN, FakeMastodon

PAPER = "https://arxiv.org/abs/1706.03762"
STREAMS = {"user", "hashtag:arxiv"}


@pytest.fixture(autouse=True)
def _quick_heartbeats(mastodon: FakeMastodon) -> None:
    mastodon.streaming.heartbeat = 0.1


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
    return [r.path for r in mastodon.requests if r.path.startswith("/api/v1/streaming/")]


def tag_polls(mastodon: FakeMastodon) -> int:
    return sum(
        1
        for r in mastodon.requests
        if r.path.startswith("/api/v1/timelines/tag/") and "min_id" in r.query
    )


def mention_of(mastodon: FakeMastodon, text: str) -> int:
    return mastodon.add_mention(mastodon.add_account("carol"), text)


def settled(mastodon: FakeMastodon) -> Callable[[], bool]:
    """True once the streams are open and the catch-up poll after connecting is done."""

    def check() -> bool:
        return set(mastodon.streaming.open_streams) >= STREAMS and tag_polls(mastodon) >= 1

    return check


def caught_up(run: Running, mastodon: FakeMastodon) -> None:
    """Wait until the streams are healthy and the catch-up polls of their connects are over."""
    wait_for(settled(mastodon))
    wait_for(lambda: run.streams.healthy() and run.idle())


def streamed(logs: list[MutableMapping[str, Any]]) -> int:
    return sum(1 for e in logs if e["event"] == "status_streamed")


def test_a_post_and_a_mention_are_answered_through_the_streams_within_moments(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings]
) -> None:
    settings = streaming_settings(make_settings)
    with running(settings) as run:
        caught_up(run, mastodon)
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
) -> None:
    settings = streaming_settings(make_settings)
    with running(settings) as run:
        caught_up(run, mastodon)
        connects = len(mastodon.streaming.connects)
        cycles = run.cycles.ended
        tried = len(streaming_requests(mastodon))
        mastodon.streaming.refusal = (503, "Service Unavailable")
        mastodon.streaming.drop()
        wait_for(lambda: not mastodon.streaming.open_streams)
        missed = paper_post(mastodon, PAPER)  # published to nobody: lost from the stream
        mention = mention_of(mastodon, post_html(link("https://arxiv.org/abs/2104.12255")))
        # Both streams were tried again and refused: the bot was at work.
        wait_for(lambda: len(streaming_requests(mastodon)) >= tried + 2)
        assert run.cycles.ended == cycles, "no cycle: the next poll is an hour away"
        assert not mastodon.posted(), "nothing answered while the streams were down"
        mastodon.streaming.refusal = None
        wait_for(lambda: bool(mastodon.replies_to(missed) and mastodon.replies_to(mention)))
        assert len(mastodon.streaming.connects) > connects
    events = [e["event"] for e in captured_logs]
    assert events.count("stream_dropped") >= 2
    assert "catch_up_poll" in events


def test_a_connection_that_goes_quiet_is_noticed_from_its_heartbeat_age(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    settings = streaming_settings(make_settings, BOT_STREAM_DEAD_SECONDS="1")
    with running(settings):
        wait_for(settled(mastodon))
        connects = len(mastodon.streaming.connects)
        mastodon.streaming.heartbeats = False  # open, but nothing comes any more
        started = time.monotonic()
        wait_for(lambda: len(mastodon.streaming.connects) >= connects + 2, timeout=10)
        noticed = time.monotonic() - started
        mastodon.streaming.heartbeats = True
    dropped = [e for e in captured_logs if e["event"] == "stream_dropped"]
    assert {e["stream"] for e in dropped} == STREAMS
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
        mastodon.streaming.silent = True
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


class Unreliable:
    """A doorbell wired to a bug: it raises the first time it rings."""

    def __init__(self) -> None:
        self.rings = 0

    def __call__(self) -> None:
        self.rings += 1
        if self.rings == 2:
            raise RuntimeError("a bug in a handler")


def hashtag_streams(
    mastodon: FakeMastodon, *, retry: float = 60, ring: Callable[[], None] = lambda: None
) -> tuple[Streams, StreamInbox]:
    """The stream supervisor alone, following #arxiv on the fake."""
    inbox = StreamInbox()
    streams = Streams(
        MastodonStreams(mastodon.url, TOKEN, timeout=5),
        inbox,
        StreamTimes(dead_after=5, retry_after_refusal=retry),
        SystemClock(),
        ring=ring,
    )
    streams.start(StreamPlan((StreamSpec("hashtag", "arxiv"),)), Identity("1"), ["arxiv"])
    return streams, inbox


def test_a_bug_in_a_handler_does_not_end_the_stream(
    mastodon: FakeMastodon, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    bell = Unreliable()
    streams, inbox = hashtag_streams(mastodon, retry=1, ring=bell)
    try:
        mastodon.streaming.wait_for_streams({"hashtag:arxiv"})
        first = paper_post(mastodon, PAPER)  # its ring (the second: after the connect) raises
        second = paper_post(mastodon, PAPER)
        wait_for(lambda: bell.rings >= 3)
        taken, _ = inbox.take(mentions=False)
        assert [s.id for s in taken] == [str(first), str(second)], "both delivered"
        assert mastodon.streaming.connects == ["hashtag:arxiv"], "the same connection goes on"
    finally:
        streams.stop()
    failed = [e for e in captured_logs if e["event"] == "stream_event_failed"]
    assert len(failed) == 1
    assert first != second


def test_events_cut_anywhere_arrive_whole_and_a_garbled_one_is_skipped(
    mastodon: FakeMastodon, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    mastodon.streaming.chunk_size = 7  # every event split mid-line, mid-character even
    streams, inbox = hashtag_streams(mastodon)
    taken: list[Status] = []

    def arrived(count: int) -> bool:
        taken.extend(inbox.take(mentions=False)[0])
        return len(taken) >= count

    try:
        mastodon.streaming.wait_for_streams({"hashtag:arxiv"})
        first = mastodon.add_status(
            mastodon.add_account("zoe"), post_html("Zoë’s ✨ pick:", link(PAPER)), tags=("arxiv",)
        )
        wait_for(lambda: arrived(1))
        mastodon.streaming.publish_raw("hashtag:arxiv", b"event: update\ndata: {not json\n\n")
        second = paper_post(mastodon, PAPER)
        wait_for(lambda: arrived(2))
        assert mastodon.streaming.connects == ["hashtag:arxiv"], "the connection went on"
    finally:
        streams.stop()
    assert [s.id for s in taken] == [str(first), str(second)]
    assert "Zoë’s ✨ pick:" in taken[0].content
    failed = [e for e in captured_logs if e["event"] == "stream_event_failed"]
    assert len(failed) == 1
    assert "not JSON" in failed[0]["error"]


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


def test_a_burst_past_the_inbox_keeps_the_newest_and_asks_for_a_catch_up_poll(
    mastodon: FakeMastodon, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    streams, inbox = hashtag_streams(mastodon)
    try:
        mastodon.streaming.wait_for_streams({"hashtag:arxiv"})
        wait_for(lambda: inbox.waiting()[2])  # the connect asks for a catch-up poll
        assert inbox.take_catch_up()
        author = mastodon.add_account("eve")
        burst = [paper_post(mastodon, PAPER, account=author) for _ in range(INBOX_LIMIT + 5)]
        wait_for(
            lambda: (
                bool(mastodon.streaming.open_streams) and _delivered(captured_logs) >= len(burst)
            )
        )
        taken, _ = inbox.take(mentions=False)
        catch_up = inbox.take_catch_up()
    finally:
        streams.stop()
    assert [s.id for s in taken] == [str(i) for i in burst[5:]], "the newest are kept"
    assert catch_up, "the oldest five are left to a catch-up poll"
    assert [e["event"] for e in captured_logs].count("stream_inbox_full") == 1


def _delivered(logs: list[MutableMapping[str, Any]]) -> int:
    return sum(1 for e in logs if e["event"] == "status_streamed")


def test_a_server_without_streaming_is_polled_with_one_line_that_says_so(
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    server = FakeMastodon(flavour="gotosocial")
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
    assert "WebSocket" in unavailable[0]["reason"]


@pytest.mark.parametrize(("status", "error"), [(404, "Not Found"), (401, "Missing access token")])
def test_a_refused_stream_means_polling_at_the_usual_pace_and_asking_again_later(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
    status: int,
    error: str,
) -> None:
    mastodon.streaming.refusal = (status, error)
    settings = streaming_settings(
        make_settings, BOT_POLL_INTERVAL="0.2", BOT_STREAM_RETRY_SECONDS="0.5"
    )
    with running(settings) as run:
        wait_for(lambda: tag_polls(mastodon) >= 1)  # started: what comes now is new
        post = paper_post(mastodon, PAPER)
        wait_for(lambda: bool(mastodon.replies_to(post)))
        wait_for(
            lambda: sum(r.path.startswith("/api/v1/streaming/user") for r in mastodon.requests) >= 3
        )
        assert not run.streams.healthy()
        mastodon.streaming.refusal = None  # the server changed its mind: streams come back
        mastodon.streaming.wait_for_streams(STREAMS)
    events = [e for e in captured_logs if e["event"] in ("stream_refused", "streaming_unavailable")]
    assert [e["event"] for e in events].count("stream_refused") == 2, "once per stream"
    assert [e["event"] for e in events].count("streaming_unavailable") == 1
    assert {e.get("status") for e in events if e["event"] == "stream_refused"} == {status}


def test_hashtag_feeds_switched_off_leave_only_the_user_stream(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    mastodon.hashtag_feeds = "disabled"
    with running(streaming_settings(make_settings)):
        mastodon.streaming.wait_for_streams({"user"})
        wait_for(lambda: tag_polls(mastodon) >= 1)
        asked = mention_of(mastodon, post_html(link(PAPER)))
        wait_for(lambda: bool(mastodon.replies_to(asked)))
        assert mastodon.streaming.connects == ["user"]
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
    assert any(r.path == "/api/v1/streaming/user" for r in mastodon.streaming_host.requests)


def test_streams_need_a_token_and_a_refusal_says_which_status(mastodon: FakeMastodon) -> None:
    connection = MastodonStreams(mastodon.url, None, timeout=5).open(StreamSpec("user"))
    with pytest.raises(StreamRefused) as refused:
        connection.run(_Ignore(), 5)
    assert refused.value.status == 401


class _Ignore:
    def connected(self) -> None: ...
    def alive(self) -> None: ...
    def status(self, status: Status) -> None: ...
    def mention(self, status: Status) -> None: ...


@pytest.mark.parametrize(
    ("server", "token", "mode", "feeds", "expected", "why"),
    [
        (Server("mastodon", "4.4.0"), True, "auto", "public", ["user", "hashtag:arxiv", "hashtag:ml"], None),
        (Server("mastodon", "4.5.0"), True, "auto", "disabled", ["user"], None),
        (Server("mastodon", "4.4.0"), True, "off", "public", [], "BOT_STREAMING=off"),
        (Server("mastodon", "4.4.0"), False, "auto", "public", [], "token"),
        (Server("gotosocial", "0.17.3"), True, "auto", "public", [], "WebSocket"),
        (Server("akkoma", "3.13.2"), True, "auto", "public", [], "WebSocket"),
        (Server("unknown", ""), True, "auto", "public", ["user", "hashtag:arxiv", "hashtag:ml"], None),
    ],
)  # fmt: skip
def test_which_streams_are_planned(
    server: Server, token: bool, mode: str, feeds: str, expected: list[str], why: str | None
) -> None:
    server = replace(server, hashtag_feeds=feeds)
    plan = plan_streams(server, ["arxiv", "ml"], has_token=token, mode=mode)
    assert [s.name for s in plan.specs] == expected
    assert (plan.unavailable is None) == (why is None)
    if why is not None:
        assert plan.unavailable is not None
        assert why in plan.unavailable


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
    assert "user connected" in health.stdout
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
    assert value("arxiv_bot_stream_connected", {"stream": "user"}) == 1
    assert value("arxiv_bot_stream_connected", {"stream": "hashtag:arxiv"}) == 1
    age = value("arxiv_bot_stream_last_event_age_seconds", {"stream": "user"})
    assert age is not None
    assert 0 <= age < 1
    assert value("arxiv_bot_statuses_seen_total", {"read": "stream"}) == 1


def test_check_says_whether_streaming_works_and_warns_about_scopes(
    mastodon: FakeMastodon, cli: Any, bot_env: dict[str, str]
) -> None:
    result = cli("check", env=bot_env)
    assert result.returncode == 0, result.stdout
    assert "streaming: works (server-sent events from ws://127.0.0.1" in result.stdout
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
    assert events.count("stream_connected") == 2
    assert "stopped" in events


def test_a_stream_that_answers_an_error_mid_connect_is_retried(mastodon: FakeMastodon) -> None:
    mastodon.fail("GET", "/api/v1/streaming/user", Response.json({"error": "oops"}, 502), times=2)
    streams = Streams(
        MastodonStreams(mastodon.url, TOKEN, timeout=5),
        StreamInbox(),
        StreamTimes(dead_after=5, retry_after_refusal=60),
        SystemClock(),
    )
    streams.start(StreamPlan((StreamSpec("user"),)), Identity("1"), [])
    try:
        mastodon.streaming.wait_for_streams({"user"}, timeout=15)
    finally:
        streams.stop()
