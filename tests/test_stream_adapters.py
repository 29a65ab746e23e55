"""The stream adapters and their supervisor alone, against the fake's streaming API.

Over one WebSocket (Mastodon, GoToSocial: ``subscribe`` messages; Akkoma: one stream a
connection) and over server-sent events (Mastodon behind a proxy that refuses the
upgrade), with the faults ``FACTS-streaming.md`` describes: events cut anywhere, garbled
messages, a server that only answers pings, policy closes, refusals and errors mid-connect.
The whole bot over streams is tried in ``test_streaming``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import pytest

from bot.app import build_stream_openers
from bot.clients.mastodon_rest import MastodonGateway
from bot.clients.mastodon_sse import MastodonStreams
from bot.clients.mastodon_ws import WebSocketStreams
from bot.clock import SystemClock
from bot.config import Settings
from bot.errors import StreamRefused
from bot.limits.server_kinds import Server, StreamPlan, plan_streams, websocket_url
from bot.models import Identity, Status, StreamChannel, StreamSpec
from bot.reading.inbox import INBOX_LIMIT, StreamInbox
from bot.reading.streams import Streams, StreamTimes
from tests.conftest import link, paper_post, post_html
from tests.fakes.http import Response
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.waiting import wait_for

PAPER = "https://arxiv.org/abs/1706.03762"
HASHTAG = StreamSpec("hashtag", "arxiv")


def channel_of(mastodon: FakeMastodon, transport: str, *specs: StreamSpec) -> StreamChannel:
    if transport == "sse":
        return StreamChannel("sse", specs)
    return StreamChannel("websocket", specs, websocket_url(None, mastodon.url))


@contextmanager
def supervised(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    plan: StreamPlan,
    *,
    hashtags: tuple[str, ...] = ("arxiv",),
    retry: float = 60,
    dead_after: float = 5,
    ring: Callable[[], None] = lambda: None,
) -> Iterator[tuple[Streams, StreamInbox]]:
    """The stream supervisor alone, with the openers the bot builds from its settings."""
    inbox = StreamInbox()
    settings = make_settings(MASTODON_BASE_URL=mastodon.url)
    streams = Streams(
        build_stream_openers(settings),
        inbox,
        StreamTimes(dead_after=dead_after, retry_after_refusal=retry),
        SystemClock(),
        ring=ring,
    )
    streams.start(plan, Identity("1"), list(hashtags))
    try:
        yield streams, inbox
    finally:
        streams.stop()


def one(mastodon: FakeMastodon, transport: str, *specs: StreamSpec) -> StreamPlan:
    return StreamPlan((channel_of(mastodon, transport, *specs),))


@pytest.fixture(params=["websocket", "sse"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Unreliable:
    """A doorbell wired to a bug: it raises the second time it rings."""

    def __init__(self) -> None:
        self.rings = 0

    def __call__(self) -> None:
        self.rings += 1
        if self.rings == 2:
            raise RuntimeError("a bug in a handler")


def test_a_bug_in_a_handler_does_not_end_the_stream(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
    transport: str,
) -> None:
    bell = Unreliable()
    plan = one(mastodon, transport, HASHTAG)
    with supervised(mastodon, make_settings, plan, retry=1, ring=bell) as (_, inbox):
        mastodon.streaming.wait_for_streams({"hashtag:arxiv"})
        wait_for(lambda: bell.rings >= 1)  # the connect's ring
        first = paper_post(mastodon, PAPER)  # its ring (the second) raises
        second = paper_post(mastodon, PAPER)
        wait_for(lambda: bell.rings >= 3)
        taken, _ = inbox.take(mentions=False)
        assert [s.id for s in taken] == [str(first), str(second)], "both delivered"
        assert mastodon.streaming.connects == ["hashtag:arxiv"], "the same connection goes on"
    failed = [e for e in captured_logs if e["event"] == "stream_event_failed"]
    assert len(failed) == 1
    assert "a bug in a handler" in str(failed[0]["error"])


GARBLED = {"sse": b"event: update\ndata: {not json\n\n", "websocket": b"{not json"}


def test_events_cut_anywhere_arrive_whole_and_a_garbled_one_is_skipped(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
    transport: str,
) -> None:
    mastodon.streaming.chunk_size = 7  # every event split mid-line, mid-character even
    taken: list[Status] = []
    with supervised(mastodon, make_settings, one(mastodon, transport, HASHTAG)) as (_, inbox):

        def arrived(count: int) -> bool:
            taken.extend(inbox.take(mentions=False)[0])
            return len(taken) >= count

        mastodon.streaming.wait_for_streams({"hashtag:arxiv"})
        first = mastodon.add_status(
            mastodon.add_account("zoe"), post_html("Zoë’s ✨ pick:", link(PAPER)), tags=("arxiv",)
        )
        wait_for(lambda: arrived(1))
        mastodon.streaming.publish_raw("hashtag:arxiv", GARBLED[transport])
        second = paper_post(mastodon, PAPER)
        wait_for(lambda: arrived(2))
        assert mastodon.streaming.connects == ["hashtag:arxiv"], "the connection went on"
    assert [s.id for s in taken] == [str(first), str(second)]
    assert "Zoë’s ✨ pick:" in taken[0].content
    failed = [e for e in captured_logs if e["event"] == "stream_event_failed"]
    assert len(failed) == 1
    assert "not JSON" in failed[0]["error"]


def test_a_burst_past_the_inbox_keeps_the_newest_and_asks_for_a_catch_up_poll(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    plan = one(mastodon, "websocket", HASHTAG)
    with supervised(mastodon, make_settings, plan) as (_, inbox):
        mastodon.streaming.wait_for_streams({"hashtag:arxiv"})
        wait_for(lambda: inbox.waiting()[2])  # the connect asks for a catch-up poll
        assert inbox.take_catch_up()
        author = mastodon.add_account("eve")
        burst = [paper_post(mastodon, PAPER, account=author) for _ in range(INBOX_LIMIT + 5)]
        wait_for(lambda: _delivered(captured_logs) >= len(burst))
        taken, _ = inbox.take(mentions=False)
        catch_up = inbox.take_catch_up()
        assert mastodon.streaming.connects == ["hashtag:arxiv"], "no reconnect on the way"
    assert [s.id for s in taken] == [str(i) for i in burst[5:]], "the newest are kept"
    assert catch_up, "the oldest five are left to a catch-up poll"
    assert [e["event"] for e in captured_logs].count("stream_inbox_full") == 1


def _delivered(logs: list[MutableMapping[str, Any]]) -> int:
    return sum(1 for e in logs if e["event"] == "status_streamed")


class _Ignore:
    def connected(self) -> None: ...
    def alive(self) -> None: ...
    def status(self, status: Status) -> None: ...
    def mention(self, status: Status) -> None: ...


def test_streams_need_a_token_and_a_refusal_says_which_status(
    mastodon: FakeMastodon, transport: str
) -> None:
    channel = channel_of(mastodon, transport, StreamSpec("user"))
    opener = (
        MastodonStreams(mastodon.url, None, timeout=5)
        if transport == "sse"
        else WebSocketStreams(None, timeout=5)
    )
    with pytest.raises(StreamRefused) as refused:
        opener.open(channel).run(_Ignore(), 5)
    assert refused.value.status == 401
    assert "Missing access token" in str(refused.value)


def test_a_stream_that_answers_an_error_mid_connect_is_retried(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
    transport: str,
) -> None:
    mastodon.fail("GET", "/api/v1/streaming", Response.json({"error": "oops"}, 502))
    plan = one(mastodon, transport, StreamSpec("user"))
    with supervised(mastodon, make_settings, plan) as (streams, _):
        mastodon.streaming.wait_for_streams({"user"}, timeout=15)
        wait_for(streams.healthy)
    failed = [e for e in captured_logs if e["event"] == "stream_connect_failed"]
    assert len(failed) == 1
    assert all("502" in e["reason"] or "Bad Gateway" in e["reason"] for e in failed), failed
    assert not [e for e in captured_logs if e["event"] == "stream_refused"], "passing, not no"


def test_a_websocket_that_carries_pings_only_stays_connected(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    """Nothing is posted for four dead-connection times; the server pings (as Mastodon and
    GoToSocial do every 30 s) and answers the bot's pings, which is what keeps the
    connection from being taken for dead: pings are not messages a read returns."""
    mastodon.streaming.ping_every = 0.1
    plan = one(mastodon, "websocket", HASHTAG)
    with supervised(mastodon, make_settings, plan, dead_after=0.5) as (streams, _):
        mastodon.streaming.wait_for_streams({"hashtag:arxiv"})
        pings = mastodon.streaming.pings_heard
        wait_for(lambda: mastodon.streaming.pings_heard >= pings + 4)  # four dead times
        assert streams.healthy()
        assert mastodon.streaming.connects == ["hashtag:arxiv"], "never reconnected"
    assert not [e for e in captured_logs if e["event"] == "stream_dropped"]


def test_a_policy_close_is_a_refusal_asked_again_later(
    mastodon: FakeMastodon,
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    """A close with 1008 or a 4xxx code right after the upgrade says "not for you": not a
    dropped connection to reconnect at once, a refusal to ask about again later."""
    mastodon.streaming.close_with = (4001, "Unauthorized")
    plan = one(mastodon, "websocket", StreamSpec("user"))
    with supervised(mastodon, make_settings, plan, retry=0.3) as (streams, _):
        wait_for(lambda: len(_upgrades(mastodon)) >= 2)  # asked again after the retry time
        assert not streams.healthy()
        mastodon.streaming.close_with = None
        wait_for(streams.healthy)
    refused = [e for e in captured_logs if e["event"] == "stream_refused"]
    assert len(refused) == 1, "said once"
    assert refused[0]["status"] == 4001
    assert "Unauthorized" in refused[0]["error"]
    assert not [e for e in captured_logs if e["event"] == "stream_dropped"]


def _upgrades(mastodon: FakeMastodon) -> list[str]:
    return [r.path for r in mastodon.requests if r.path == "/api/v1/streaming"]


def test_stop_ends_a_read_blocked_on_a_quiet_connection_at_once(
    mastodon: FakeMastodon, make_settings: Callable[..., Settings], transport: str
) -> None:
    mastodon.streaming.heartbeat = mastodon.streaming.ping_every = 3600  # reads block
    inbox = StreamInbox()
    streams = Streams(
        build_stream_openers(make_settings(MASTODON_BASE_URL=mastodon.url)),
        inbox,
        StreamTimes(dead_after=3600, retry_after_refusal=60),
        SystemClock(),
    )
    streams.start(one(mastodon, transport, HASHTAG), Identity("1"), ["arxiv"])
    mastodon.streaming.wait_for_streams({"hashtag:arxiv"})
    wait_for(streams.healthy)
    started = time.monotonic()
    streams.stop(join_seconds=5)
    took = time.monotonic() - started
    assert took < 2, f"took {took:.1f} s"
    assert not [t for t in threading.enumerate() if t.name.startswith("stream-")]


def test_gotosocial_streams_its_public_feed_and_only_watched_tags_are_kept(
    make_settings: Callable[..., Settings],
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    """GoToSocial sends no hashtag stream and does not echo the token's subprotocol: one
    WebSocket carries the notifications and ``public``, filtered here by tag."""
    server = FakeMastodon(flavour="gotosocial")
    try:
        found, _ = MastodonGateway(server.url, TOKEN).server()  # names wss:// over plain http
        assert found.streaming_url is not None
        assert found.streaming_url.startswith("wss://")
        plan = plan_streams(found, ["arxiv"], has_token=True, mode="auto", base_url=server.url)
        with supervised(server, make_settings, plan) as (streams, inbox):
            server.streaming.wait_for_streams({"user:notification", "public"})
            wait_for(streams.healthy)
            author = server.add_account("dan")
            elsewhere = server.add_status(author, post_html("Off topic", link(PAPER)), tags=("ml",))
            kept = paper_post(server, PAPER)
            asked = server.add_mention(server.add_account("carol"), post_html(link(PAPER)))
            wait_for(lambda: inbox.waiting()[0] >= 2)
            posts, _ = inbox.take(mentions=False)
            mentions, _ = inbox.take(mentions=True)
        upgrades = [r for r in server.requests if r.path == "/api/v1/streaming"]
    finally:
        server.close()
    assert [s.id for s in posts] == [str(kept)]
    assert [s.id for s in mentions] == [str(asked)]
    assert elsewhere not in {int(s.id) for s in posts}
    assert len(upgrades) == 1, "one connection for both streams"
    assert all("access_token" not in r.query for r in upgrades), "the token stays out of URLs"


def test_akkoma_takes_one_stream_a_connection_named_in_its_query(
    make_settings: Callable[..., Settings],
) -> None:
    server = FakeMastodon(flavour="akkoma")
    try:
        plan = plan_streams(Server("akkoma", "3.13.2"), ["arxiv"], has_token=True, mode="auto",
                            base_url=server.url)  # fmt: skip
        with supervised(server, make_settings, plan) as (streams, inbox):
            server.streaming.wait_for_streams({"user", "hashtag:arxiv"})
            wait_for(streams.healthy)
            post = paper_post(server, PAPER)
            asked = server.add_mention(server.add_account("carol"), post_html(link(PAPER)))
            wait_for(lambda: inbox.waiting()[0] >= 2)
            posts, _ = inbox.take(mentions=False)
            mentions, _ = inbox.take(mentions=True)
        queries = sorted(
            (r.query.get("stream", [""])[0], r.query.get("tag", [""])[0])
            for r in server.requests
            if r.path == "/api/v1/streaming"
        )
    finally:
        server.close()
    assert queries == [("hashtag", "arxiv"), ("user", "")]
    assert [s.id for s in posts] == [str(post)]
    assert [s.id for s in mentions] == [str(asked)]
