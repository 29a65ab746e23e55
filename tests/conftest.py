from __future__ import annotations

import html
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from bot.config import Settings, load_settings
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.mastodon import TOKEN, FakeMastodon


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
