"""Fixtures and helpers shared by the tests: the loopback fakes, settings, clocks, the CLI
run in process, the real process for what only a process shows, and post builders."""

from __future__ import annotations

import html
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from bot.__main__ import main
from bot.app import built
from bot.clock import Clock
from bot.config import Settings, load_settings
from bot.models import CycleReport
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.mastodon import TOKEN, FakeMastodon

SettingsFactory = Callable[..., Settings]
COMMAND = str(Path(sys.executable).with_name("arxiv-bot"))
OUR_PREFIXES = ("MASTODON_", "BOT_", "ARXIV_", "LOG_", "LLM_")


@pytest.fixture(autouse=True)
def _logging_as_found() -> Iterator[None]:
    """A test that runs the CLI in process configures logging for its captured stderr; the
    next test starts from structlog's defaults again."""
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    server = FakeMastodon()
    yield server
    server.close()


@pytest.fixture
def arxiv_server() -> Iterator[FakeArxiv]:
    server = FakeArxiv()
    yield server
    server.close()


@pytest.fixture
def bot_env(tmp_path: Path, mastodon: FakeMastodon, arxiv_server: FakeArxiv) -> dict[str, str]:
    """The environment of a bot wired to both loopback fakes, with no waiting anywhere."""
    return {
        "MASTODON_BASE_URL": mastodon.url,
        "MASTODON_ACCESS_TOKEN": TOKEN,
        "BOT_HASHTAGS": "arxiv",
        "BOT_POLL_INTERVAL": "0.2",
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "ARXIV_API_URL": arxiv_server.api_url,
        "ARXIV_DELAY_SECONDS": "0",
        "BOT_RETRY_BASE_SECONDS": "0",
        "BOT_POST_GAP_SECONDS": "0",
        "ARXIV_TIMEOUT": "5",
        "MASTODON_TIMEOUT": "5",
        "LOG_FORMAT": "json",
    }


@pytest.fixture
def make_settings(
    bot_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Settings]:
    def make(**overrides: str) -> Settings:
        for name, value in {**bot_env, **overrides}.items():
            monkeypatch.setenv(name, value)
        return load_settings(Settings, env_file=None)

    return make


@pytest.fixture
def captured_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    with structlog.testing.capture_logs() as logs:
        yield logs


def link(url: str) -> str:
    """An anchor as Mastodon renders a link: the visible text cut into invisible/ellipsis spans."""
    scheme, _, rest = url.partition("://")
    shown, hidden = rest[:30], rest[30:]
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
        f'<span class="invisible">{scheme}://</span><span class="ellipsis">{html.escape(shown)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )


def hashtag(tag: str) -> str:
    return (
        f'<a href="https://fake.example/tags/{tag}" class="mention hashtag" rel="tag">'
        f"#<span>{tag}</span></a>"
    )


def mention(username: str, domain: str = "fake.example") -> str:
    return (
        f'<span class="h-card" translate="no"><a href="https://{domain}/@{username}" '
        f'class="u-url mention">@<span>{username}</span></a></span>'
    )


def post_html(*parts: str) -> str:
    return "<p>" + " ".join(parts) + "</p>"


# --- time ---------------------------------------------------------------------------------


class FakeClock:
    """The bot's one clock, moved by the test: both its readings move together, so the state
    file's times pass as the deadlines do."""

    def __init__(self, epoch: datetime | None = None) -> None:
        self._seconds = 1000.0
        self.epoch = epoch or datetime.now(UTC)

    def monotonic(self) -> float:
        return self._seconds

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self._seconds - 1000.0)

    def advance(self, seconds: float) -> None:
        self._seconds += seconds


# --- the bot in process ----------------------------------------------------------------------


def run_cycle(settings: Settings, clock: Clock | None = None) -> CycleReport:
    """One real cycle with everything built from settings, as ``run --once`` builds it (so
    it sweeps recent history only when the last sweep is ``BOT_SWEEP_SECONDS`` old)."""
    with built(settings, sweep_on_start=False, clock=clock) as bot:
        return bot.cycle.run_cycle()


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., CliResult]:
    """``arxiv-bot ARGS`` in this process: the same ``main``, environment and working
    directory as the console script, without a second of interpreter start-up."""

    def call(*args: str, env: dict[str, str]) -> CliResult:
        for name in os.environ:
            if name.startswith(OUR_PREFIXES):
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return call


# --- the real process, for signals, kills and the console script ----------------------------


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(OUR_PREFIXES)}
    return {**keep, **extra}


def start_bot(env: dict[str, str], cwd: Path, stderr: int | None = None) -> subprocess.Popen[str]:
    """``arxiv-bot run`` as its own process."""
    return subprocess.Popen(
        [COMMAND, "run"],
        env=clean_env(env),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if stderr is None else stderr,
        text=True,
    )


# --- posts ------------------------------------------------------------------------------------


def paper_post(
    mastodon: FakeMastodon, url: str, *tags: str, account: dict[str, object] | None = None
) -> int:
    """A post under the hashtags (``#arxiv`` by default) linking ``url``, as Mastodon renders it."""
    author = account or mastodon.add_account("alice", domain="science.example")
    body = post_html("New paper:", link(url), *(hashtag(t) for t in tags or ("arxiv",)))
    return mastodon.add_status(author, body, tags=tags or ("arxiv",))


def posts_by_many(mastodon: FakeMastodon, count: int) -> list[int]:
    """``count`` posts under #arxiv linking a paper, each by another account (so no hourly
    cap holds any back), oldest first."""
    return [
        mastodon.add_status(
            mastodon.add_account(f"reader{i}"),
            post_html(f"Post {i}", link("https://arxiv.org/abs/1706.03762"), hashtag("arxiv")),
            tags=("arxiv",),
        )
        for i in range(count)
    ]
