"""The real ``arxiv-bot run`` process against a real GoToSocial on 127.0.0.1.

What a fake can only claim, the real server shows: its ULID ids and cursors, its 404 for a tag
no post has used yet, its length counting and refusal, its mentions and threads, its missing
idempotency keys (a restart after SIGKILL must find its own reply in the thread), its real
429. Needs the GoToSocial binary in ``GOTOSOCIAL_BIN`` (``.ci/run`` sets it); skipped with
the reason without it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import COMMAND, CliResult, clean_env
from tests.fakes.arxiv import FakeArxiv
from tests.fixtures.papers import ALL
from tests.real.gotosocial import BINARY, GoToSocial, User, binary
from tests.waiting import wait_for

EXECUTABLE = binary()
pytestmark = [
    pytest.mark.skipif(
        EXECUTABLE is None, reason=f"no GoToSocial binary: set {BINARY} to run these"
    ),
    pytest.mark.xdist_group("gotosocial"),  # one server for the module, on one worker
]
ATTENTION = "https://arxiv.org/abs/1706.03762"
LARGE_N = "https://arxiv.org/abs/hep-th/9711200"


@dataclass
class Server:
    gts: GoToSocial
    users: dict[str, User]

    @property
    def bot(self) -> User:
        return self.users["bot"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    assert EXECUTABLE is not None
    gts = GoToSocial(EXECUTABLE, tmp_path_factory.mktemp("gotosocial"))
    gts.start()
    try:
        users = gts.accounts("bot", "alice", "bob", "carol")
        users["bot"].call("PATCH", "/api/v1/accounts/update_credentials", bot="true")
        yield Server(gts, users)
    finally:
        gts.stop()


@pytest.fixture(scope="module")
def arxiv() -> Iterator[FakeArxiv]:
    fake = FakeArxiv(ALL)
    yield fake
    fake.close()


class Bot:
    """``arxiv-bot run`` as its own process, its JSON log kept in a file."""

    def __init__(self, env: dict[str, str], home: Path) -> None:
        self.env, self.home = env, home
        self.log = home / "bot.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [COMMAND, "run"], env=clean_env(self.env), cwd=self.home, stdout=out, stderr=out
            )

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        found = [json.loads(line) for line in lines if line.startswith("{")]
        return [e for e in found if name is None or e["event"] == name]

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        assert self.process is not None
        os.kill(self.process.pid, sig)
        return self.process.wait(timeout=30)


@contextmanager
def running(server: Server, arxiv: FakeArxiv, tmp_path: Path, **settings: str) -> Iterator[Bot]:
    env = {
        "MASTODON_BASE_URL": server.gts.url,
        "MASTODON_ACCESS_TOKEN": server.bot.token,
        "BOT_HASHTAGS": "arxiv",
        "BOT_POLL_INTERVAL": "1",
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "ARXIV_API_URL": arxiv.api_url,
        "ARXIV_DELAY_SECONDS": "0",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
        **settings,
    }
    bot = Bot(env, tmp_path)
    bot.start()
    try:
        yield bot
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.stop(signal.SIGKILL)


def started(bot: Bot, sources: int = 2) -> Callable[[], bool]:
    """True once every source noted where it begins: what comes now is new."""
    return lambda: len(bot.events("source_started")) >= sources


def answered(server: Server, status: str, by: User) -> Callable[[], bool]:
    return lambda: bool(by.replies(status, server.bot))


def test_hashtag_posts_and_the_first_post_under_a_new_tag_are_answered(
    server: Server, arxiv: FakeArxiv, tmp_path: Path
) -> None:
    alice = server.users["alice"]
    before = alice.post(f"Old news {ATTENTION} #arxiv")
    with running(server, arxiv, tmp_path, BOT_HASHTAGS="arxiv,neverusedbefore") as bot:
        wait_for(started(bot, 3), timeout=30)
        tagged = alice.post(f"New paper {ATTENTION} #arxiv")
        first = alice.post(f"The first post ever under this tag: {LARGE_N} #neverusedbefore")
        wait_for(answered(server, tagged, alice), timeout=30)
        wait_for(answered(server, first, alice), timeout=30)
        assert bot.stop() == 0
    [reply] = alice.replies(tagged, server.bot)
    assert reply["content"].startswith("<p>@<span>alice</span>") or "@alice" in reply["content"]
    assert "Attention Is All You Need" in reply["content"]
    assert reply["visibility"] == "unlisted"
    [reply] = alice.replies(first, server.bot)
    assert "Large N Limit" in reply["content"]
    assert alice.replies(before, server.bot) == [], "from before the start: left alone"
    assert len(bot.events("tag_unused")) == 1, "said once, not every poll"
    assert not bot.events("poll_refused")
    [identified] = bot.events("server_identified")
    assert identified["software"] == "gotosocial"


def test_a_mention_and_a_mention_under_a_friends_post_are_answered_under_the_mention(
    server: Server, arxiv: FakeArxiv, tmp_path: Path
) -> None:
    alice, bob, carol = (server.users[n] for n in ("alice", "bob", "carol"))
    with running(server, arxiv, tmp_path, BOT_HASHTAGS="") as bot:
        wait_for(started(bot, 1), timeout=30)
        asked = alice.post(f"@bot what is {ATTENTION} about?")
        shared = bob.post(f"Reading {LARGE_N} tonight")
        under = carol.post("@bot summary please", in_reply_to=shared)
        wait_for(answered(server, asked, alice), timeout=30)
        wait_for(answered(server, under, carol), timeout=30)
        assert bot.stop() == 0
    [reply] = alice.replies(asked, server.bot)
    assert "Attention Is All You Need" in reply["content"]
    [reply] = carol.replies(under, server.bot)
    assert "Large N Limit" in reply["content"]
    assert [m["username"] for m in reply["mentions"]] == ["carol"], "bob is not notified"
    assert bob.replies(shared, server.bot) == [], "the answer goes under the mention"


def test_a_reply_near_the_length_limit_is_taken_as_composed(
    server: Server, arxiv: FakeArxiv, tmp_path: Path
) -> None:
    """GoToSocial counts every code point of the text and the content warning (500 here):
    the bot's strict count fills the room without a refusal."""
    alice = server.users["alice"]
    warning = "a long content warning, with ✨ and ü"
    with running(server, arxiv, tmp_path) as bot:
        wait_for(started(bot), timeout=30)
        status = alice.post(f"{ATTENTION} #arxiv", spoiler_text=warning)
        wait_for(answered(server, status, alice), timeout=30)
        assert bot.stop() == 0
    [reply] = alice.replies(status, server.bot)
    text = server.bot.call("GET", f"/api/v1/statuses/{reply['id']}/source")["text"]
    assert reply["spoiler_text"] == warning
    assert 400 <= len(text) + len(warning) <= 500, "near the limit, within it"
    assert not bot.events("counting_strictly")
    assert not bot.events("status_dropped")


def test_restarts_after_sigterm_and_sigkill_answer_each_post_exactly_once(
    server: Server, arxiv: FakeArxiv, tmp_path: Path
) -> None:
    """GoToSocial ignores idempotency keys: after a SIGKILL the bot must find its own reply
    in the thread before posting again."""
    alice = server.users["alice"]
    posts: list[str] = []
    with running(server, arxiv, tmp_path) as bot:
        wait_for(started(bot), timeout=30)
        posts += [alice.post(f"Batch one {ATTENTION} and {LARGE_N} #arxiv") for _ in range(3)]
        wait_for(lambda: bool(bot.events("replied")), timeout=30)
        bot.stop(signal.SIGKILL)  # in the middle of the batch, perhaps of a thread
        posts += [alice.post(f"Batch two {ATTENTION} #arxiv") for _ in range(3)]
        bot.start()
        wait_for(lambda: all(alice.replies(p, server.bot) for p in posts[:3]), timeout=60)
        assert bot.stop(signal.SIGTERM) == 0
        posts += [alice.post(f"Batch three {LARGE_N} #arxiv") for _ in range(2)]
        bot.start()
        wait_for(lambda: all(alice.replies(p, server.bot) for p in posts), timeout=60)
        assert bot.stop(signal.SIGTERM) == 0
    assert [len(alice.replies(p, server.bot)) for p in posts] == [1] * len(posts)
    for first in posts[:3]:  # a thread of two: the second paper under the first reply
        [reply] = alice.replies(first, server.bot)
        assert len(alice.replies(reply["id"], server.bot)) == 1


def test_its_real_429_is_waited_out_and_the_loop_stays_healthy(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    """GoToSocial's default limit: 300 requests per 5 minutes per IP address, with
    X-RateLimit-* headers and no Retry-After."""
    assert EXECUTABLE is not None
    gts = GoToSocial(EXECUTABLE, tmp_path / "gts", rate_limit=None)
    gts.start()
    try:
        users = gts.accounts("bot")
        spend = requests.Session()
        while spend.get(f"{gts.url}/api/v1/instance", timeout=5).status_code != 429:
            pass  # the whole budget of 127.0.0.1, spent
        reset = spend.get(f"{gts.url}/api/v1/instance", timeout=5).headers["X-Ratelimit-Reset"]
        with running(Server(gts, users), arxiv, tmp_path, BOT_POLL_INTERVAL="0.5") as bot:
            wait_for(lambda: bool(bot.events("backoff_started")), timeout=30)
            wait_for(lambda: len(bot.events("cycle")) >= 6, timeout=30)  # it had its chances
            health = subprocess.run(
                [COMMAND, "healthcheck"],
                env=clean_env({"BOT_DATA_DIR": str(tmp_path / "data")}),
                cwd=tmp_path,
                capture_output=True,
                text=True,
                check=False,
            )
            assert bot.stop() == 0
    finally:
        gts.stop()
    [backoff] = bot.events("backoff_started")
    assert "rate limited" in backoff["error"]
    assert 1 < backoff["retry_in"] <= 300, f"held until the server's reset ({reset})"
    assert len(bot.events("start_failed")) == 1, "asked once, then left alone"
    assert health.returncode == 0, health.stdout


def test_live_streams_answer_a_mention_and_a_tagged_post_within_moments(
    server: Server, arxiv: FakeArxiv, tmp_path: Path
) -> None:
    """One WebSocket to the real server: ``user:notification`` for the mention, ``public``
    for the hashtag (GoToSocial sends no hashtag stream), the token as its subprotocol,
    which GoToSocial does not echo. The next poll is an hour away: the answers came by the
    stream."""
    alice, bob = server.users["alice"], server.users["bob"]
    with running(server, arxiv, tmp_path, BOT_POLL_INTERVAL="3600") as bot:
        wait_for(lambda: caught_up(bot), timeout=30)
        cycles = len(bot.events("cycle"))
        untagged = bob.post(f"Not for the bot: {LARGE_N}")  # streamed first, on the same line
        tagged = alice.post(f"Streamed {ATTENTION} #arxiv")
        asked = bob.post(f"@bot and this? {LARGE_N}")
        wait_for(answered(server, tagged, alice), timeout=15)
        wait_for(answered(server, asked, bob), timeout=15)
        check = subprocess.run(
            [COMMAND, "check"], env=clean_env(bot.env), cwd=tmp_path,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert bot.stop() == 0
    streamed = {e["status_id"] for e in bot.events("status_streamed")}
    assert {tagged, asked} <= streamed, "both came by the stream"
    assert untagged not in streamed, "public posts without a watched tag are passed over"
    assert not bob.replies(untagged, server.bot)
    assert len(bot.events("cycle")) - cycles <= 4, "woken by the stream, not polling"
    [streaming] = bot.events("streaming")
    assert streaming["transport"] == "websocket"
    assert streaming["streams"] == ["user:notification", "public"]
    assert streaming["connections"] == 1
    assert any("no hashtag stream" in e["reason"] for e in bot.events("streaming_limited"))
    assert not bot.events("stream_dropped")
    # at the host it names (its configured ``localhost``), over plain ws as the server is http
    assert "streaming: works (WebSocket, one connection to ws://" in check.stdout, check.stdout
    assert "/api/v1/streaming: user:notification, public)" in check.stdout


def caught_up(bot: Bot) -> bool:
    """The stream is connected and a cycle ended after its catch-up poll."""
    names = [e["event"] for e in bot.events()]
    if "catch_up_poll" not in names or "stream_connected" not in names:
        return False
    last = len(names) - 1 - names[::-1].index("catch_up_poll")
    return "cycle" in names[last:]


def test_its_tag_timeline_refuses_anonymous_readers_and_its_search_needs_read_search(
    server: Server, arxiv: FakeArxiv, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    """As a remote source GoToSocial answers 401 to the bot's anonymous read; as the bot's own
    server it resolves for a token with ``read:search`` and refuses one without (403)."""
    server.users["alice"].post(f"Reading {ATTENTION} #arxiv")
    env = {
        "MASTODON_BASE_URL": server.gts.url,
        "MASTODON_ACCESS_TOKEN": server.bot.token,
        "BOT_HASHTAGS": f"arxiv,arxiv@{server.gts.url}",
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "ARXIV_API_URL": arxiv.api_url,
    }
    result = cli("check", env=env)
    where = server.gts.url.split("://")[1]
    assert f"remote #arxiv@{where}: REFUSED: it needs a login" in result.stdout
    assert "resolving posts from other servers: ok" in result.stdout, "read covers read:search"
    narrow = server.gts.token(
        "bot", "read:accounts read:statuses read:notifications write:statuses"
    )
    lacking = cli("check", env={**env, "MASTODON_ACCESS_TOKEN": narrow.token})
    assert "resolving posts from other servers: FAILED" in lacking.stdout
    assert "read:search" in lacking.stdout
    assert narrow.token not in lacking.stdout
