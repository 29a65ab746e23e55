from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import ReplySettings, Settings, SettingsError, load_settings

ROOT = Path(__file__).parent.parent


@pytest.fixture
def bot_env(tmp_path: Path) -> dict[str, str]:
    """Settings alone need no servers: addresses that are never called."""
    return {
        "MASTODON_BASE_URL": "http://127.0.0.1:9",
        "MASTODON_ACCESS_TOKEN": "token",
        "BOT_HASHTAGS": "arxiv",
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "ARXIV_API_URL": "http://127.0.0.1:9/api/query",
        "LOG_FORMAT": "json",
    }


SCOPES = re.compile(r"\b(?:read|write):[a-z]+\b")


def test_defaults(make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    make_settings()
    for name in ("ARXIV_API_URL", "BOT_DATA_DIR", "LOG_FORMAT"):
        monkeypatch.delenv(name)
    settings = load_settings(Settings, env_file=None)
    assert settings.bot_poll_interval == 60
    assert settings.arxiv_api_url == "https://export.arxiv.org/api/query"
    assert settings.arxiv_delay_seconds == 3
    assert settings.bot_data_dir == Path("data")
    assert settings.bot_reply_visibility == "unlisted"
    assert settings.bot_max_papers_per_post == 3
    assert settings.log_format is None
    assert settings.log_level == "INFO"


def test_hashtags_are_normalised(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(BOT_HASHTAGS=" #arXiv, Papers ,,#arxiv, ümlaut_1 ")
    assert settings.bot_hashtags == ("arxiv", "papers", "ümlaut_1")


def test_fractions_and_case(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        BOT_POLL_INTERVAL="2.5",
        LOG_LEVEL="debug",
        LOG_FORMAT="JSON",
        BOT_REPLY_VISIBILITY="Private",
    )
    assert settings.bot_poll_interval == 2.5
    assert settings.log_level == "DEBUG"
    assert settings.log_format == "json"
    assert settings.bot_reply_visibility == "private"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BOT_POLL_INTERVAL", "0", "BOT_POLL_INTERVAL: Input should be greater than 0"),
        ("BOT_POLL_INTERVAL", "often", "BOT_POLL_INTERVAL: Input should be a valid number"),
        ("BOT_HASHTAGS", "ok,no-dash", "BOT_HASHTAGS: 'no-dash' is not a hashtag"),
        ("MASTODON_BASE_URL", "ftp://x", "MASTODON_BASE_URL: must be an http(s) URL"),
        (
            "ARXIV_DELAY_SECONDS",
            "-1",
            "ARXIV_DELAY_SECONDS: Input should be greater than or equal to 0",
        ),
        ("BOT_DRY_RUN", "perhaps", "BOT_DRY_RUN: Input should be a valid boolean"),
        (
            "BOT_SUMMARY_MAX_CHARACTERS",
            "40",
            "BOT_SUMMARY_MAX_CHARACTERS: 0 (as much as fits) or at least 100 characters, got 40",
        ),
        (
            "BOT_SUMMARY_MAX_CHARACTERS",
            "-1",
            "BOT_SUMMARY_MAX_CHARACTERS: Input should be greater than or equal to 0",
        ),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: Input should be"),
        ("MASTODON_ACCESS_TOKEN", " ", "MASTODON_ACCESS_TOKEN: required unless BOT_DRY_RUN=true"),
    ],
)
def test_bad_values_name_the_variable(
    make_settings: Callable[..., Settings], name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        make_settings(**{name: value})
    lines = str(caught.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(message)


def test_the_token_is_secret_and_never_echoed(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(MASTODON_ACCESS_TOKEN="s3cret-value")
    assert "s3cret-value" not in repr(settings)
    assert settings.mastodon_access_token is not None
    assert settings.mastodon_access_token.get_secret_value() == "s3cret-value"


def test_dry_run_needs_no_token_and_keeps_separate_state(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(BOT_DRY_RUN="1", MASTODON_ACCESS_TOKEN="")
    assert settings.mastodon_access_token is None
    assert settings.state_path.name == "state-dry-run.sqlite3"


def test_preview_settings_need_no_mastodon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASTODON_BASE_URL", raising=False)
    monkeypatch.setenv("ARXIV_DELAY_SECONDS", "1.5")
    assert load_settings(ReplySettings, env_file=None).arxiv_delay_seconds == 1.5
    with pytest.raises(SettingsError, match="MASTODON_BASE_URL: required"):
        load_settings(Settings, env_file=None)


def test_the_example_env_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = ROOT / "config" / "example.env"
    for name in list(os.environ):
        if name.startswith(("MASTODON_", "BOT_", "ARXIV_", "LOG_")):
            monkeypatch.delenv(name)
    with pytest.raises(SettingsError, match="MASTODON_ACCESS_TOKEN"):
        load_settings(Settings, env_file=example)
    monkeypatch.setenv("BOT_DRY_RUN", "true")
    settings = load_settings(Settings, env_file=example)
    assert settings.bot_hashtags == ("arxiv",)
    documented = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert documented == {name.upper() for name in Settings.model_fields}


def test_hashtags_are_optional_when_mentions_can_be_read(
    make_settings: Callable[..., Settings],
) -> None:
    assert make_settings(BOT_HASHTAGS="").bot_hashtags == ()
    with pytest.raises(SettingsError, match="BOT_HASHTAGS: a dry run without a token"):
        make_settings(BOT_HASHTAGS="", BOT_DRY_RUN="true", MASTODON_ACCESS_TOKEN="")


def test_readme_and_example_env_document_the_same_settings_and_scopes() -> None:
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / "config" / "example.env").read_text()
    in_table = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, re.MULTILINE))
    assert in_table == {name.upper() for name in Settings.model_fields}
    token_section = readme.split("## The bot account and its token", 1)[1].split("\n## ", 1)[0]
    assert set(SCOPES.findall(token_section)) == set(SCOPES.findall(example))
    assert "read:notifications" in SCOPES.findall(example)


def test_the_token_and_the_llm_key_may_come_from_files(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    token, key = tmp_path / "token", tmp_path / "key"
    token.write_text("t0ken-from-a-secret\n")
    key.write_text("k3y\r\n")
    settings = make_settings(
        MASTODON_ACCESS_TOKEN="",
        MASTODON_ACCESS_TOKEN_FILE=str(token),
        BOT_SUMMARIZER="llm",
        LLM_BASE_URL="http://127.0.0.1:9/v1",
        LLM_MODEL="m",
        LLM_API_KEY_FILE=str(key),
    )
    assert settings.mastodon_access_token is not None
    assert settings.mastodon_access_token.get_secret_value() == "t0ken-from-a-secret"
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == "k3y"
    assert {"t0ken-from-a-secret", "k3y"} <= set(settings.secrets), "both kept out of the logs"
    token.write_text("two-lines\n\n")
    kept = make_settings(MASTODON_ACCESS_TOKEN="", MASTODON_ACCESS_TOKEN_FILE=str(token))
    assert kept.mastodon_access_token is not None
    assert kept.mastodon_access_token.get_secret_value() == "two-lines\n", "one newline only"


@pytest.mark.parametrize(
    ("content", "both", "message"),
    [
        ("s3cret", True, "MASTODON_ACCESS_TOKEN and MASTODON_ACCESS_TOKEN_FILE: set one"),
        (None, False, "MASTODON_ACCESS_TOKEN_FILE: cannot read '{path}': No such file"),
        ("\n", False, "MASTODON_ACCESS_TOKEN_FILE: '{path}' is empty"),
    ],
)
def test_a_bad_secret_file_names_the_variable_and_the_path_never_the_content(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    content: str | None,
    both: bool,
    message: str,
) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SettingsError) as caught:
        make_settings(
            MASTODON_ACCESS_TOKEN="from-env" if both else "",
            MASTODON_ACCESS_TOKEN_FILE=str(path),
        )
    [line] = str(caught.value).splitlines()
    assert line.startswith(message.format(path=path))
    assert "s3cret" not in line
    assert "from-env" not in line
