"""The ``arxiv-bot`` commands. In process (``cli``) for what the commands print and return; as a
real process only for what only a process shows: the console script, SIGTERM and exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.ops.health import check, state_file_from
from tests.conftest import (
    COMMAND,
    OUR_PREFIXES,
    CliResult,
    clean_env,
    paper_post,
    start_bot,
)
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.http import Response
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.waiting import wait_for

Cli = Callable[..., CliResult]


def test_run_once_answers_each_new_post_once_and_never_logs_the_token(
    mastodon: FakeMastodon, bot_env: dict[str, str], cli: Cli
) -> None:
    first = cli("run", "--once", env=bot_env)
    assert first.returncode == 0, first.stderr
    status = paper_post(mastodon, "https://arxiv.org/abs/1706.03762v7")

    second = cli("run", "--once", env=bot_env)
    third = cli("run", "--once", env=bot_env)

    assert (second.returncode, third.returncode) == (0, 0), second.stderr + third.stderr
    [reply] = mastodon.posted()
    assert reply.in_reply_to_id == status
    assert "Attention Is All You Need" in reply.text
    events = [json.loads(line) for line in second.stderr.splitlines()]
    assert [e["reply_ids"] for e in events if e["event"] == "replied"] == [[str(reply.id)]]
    for run in (first, second, third):
        assert TOKEN not in run.stdout + run.stderr
        assert run.stderr.strip(), "it logged"
        for line in run.stderr.splitlines():
            json.loads(line)  # one JSON event per line


def test_run_once_exits_1_when_its_cycle_failed(
    mastodon: FakeMastodon, bot_env: dict[str, str], cli: Cli
) -> None:
    assert cli("run", "--once", env=bot_env).returncode == 0
    mastodon.fail("GET", "/api/v1/timelines/tag/", Response.json({"error": "down"}, 503))
    assert cli("run", "--once", env=bot_env).returncode == 1


def test_bad_settings_name_the_variable_in_one_line(bot_env: dict[str, str], cli: Cli) -> None:
    cases = {
        "BOT_POLL_INTERVAL": "soon",
        "MASTODON_BASE_URL": "mastodon.example",
        "BOT_HASHTAGS": "arxiv, not a tag",
        "BOT_REPLY_VISIBILITY": "everyone",
        "MASTODON_ACCESS_TOKEN": "",
    }
    for name, value in cases.items():
        result = cli("run", "--once", env={**bot_env, name: value})
        assert result.returncode == 2, (name, result.stderr)
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"arxiv-bot: bad setting: {name}: "), line
    missing = {k: v for k, v in bot_env.items() if k != "MASTODON_BASE_URL"}
    result = cli("check", env=missing)
    assert result.returncode == 2
    assert result.stderr.strip() == "arxiv-bot: bad setting: MASTODON_BASE_URL: required, not set"


def test_the_process_exits_2_on_a_bad_setting(bot_env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [COMMAND, "run"],
        env=clean_env({**bot_env, "BOT_POLL_INTERVAL": "soon"}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("arxiv-bot: bad setting: BOT_POLL_INTERVAL: ")
    assert "Traceback" not in result.stderr


def test_an_unusable_state_file_stops_the_start_with_one_line(
    bot_env: dict[str, str], cli: Cli
) -> None:
    data = Path(bot_env["BOT_DATA_DIR"])
    data.mkdir(parents=True)
    (data / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    result = cli("run", "--once", env=bot_env)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("arxiv-bot: cannot use the state database")


def test_settings_are_read_from_a_dotenv_file(
    mastodon: FakeMastodon, bot_env: dict[str, str], cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "\n".join(f"{k}={v}" for k, v in bot_env.items() if k != "LOG_FORMAT") + "\n"
    )
    result = cli("check", env={})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "posting as @arxivbot" in result.stdout


def test_check_reports_what_it_found_and_fails_on_a_bad_token(
    mastodon: FakeMastodon, bot_env: dict[str, str], cli: Cli
) -> None:
    good = cli("check", env=bot_env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "token: ok, posting as @arxivbot" in good.stdout
    assert "posts up to 500 characters, a URL counts as 23" in good.stdout
    assert "timeline #arxiv: readable" in good.stdout
    assert "mentions: readable" in good.stdout

    bad = cli("check", env={**bot_env, "MASTODON_ACCESS_TOKEN": "wrong"})
    assert bad.returncode == 1
    assert "token: FAILED" in bad.stdout
    assert "wrong" not in bad.stdout.replace("token: FAILED", "")


def test_run_with_a_refused_token_exits_3_with_a_clear_message(
    bot_env: dict[str, str], cli: Cli
) -> None:
    result = cli("run", env={**bot_env, "MASTODON_ACCESS_TOKEN": "revoked"})
    assert result.returncode == 3
    [event] = [json.loads(x) for x in result.stderr.splitlines() if "auth_failed" in x]
    assert "access token" in event["error"]
    assert "revoked" not in result.stderr


def test_a_token_without_the_read_scope_exits_3(
    mastodon: FakeMastodon, bot_env: dict[str, str], cli: Cli
) -> None:
    mastodon.scopes = ("write",)
    result = cli("run", "--once", env=bot_env)
    assert result.returncode == 3
    assert "auth_failed" in result.stderr


def test_the_start_warns_when_polling_would_exceed_the_budget(
    bot_env: dict[str, str], cli: Cli
) -> None:
    env = {**bot_env, "BOT_POLL_INTERVAL": "2", "BOT_HASHTAGS": "a,b,c,d,e,f"}
    result = cli("run", "--once", env=env)
    assert result.returncode == 0, result.stderr
    [line] = [x for x in result.stderr.splitlines() if "request_budget" in x]
    # 6 hashtags (2 requests) and mentions (1): 3 paged requests a cycle.
    assert "the smallest interval that fits is 12 s" in line


# --- preview ------------------------------------------------------------------------------


def preview_env(arxiv_server: FakeArxiv, **extra: str) -> dict[str, str]:
    return {
        "ARXIV_API_URL": arxiv_server.api_url,
        "ARXIV_DELAY_SECONDS": "0",
        "LOG_FORMAT": "json",
        **extra,
    }


def test_preview_prints_the_posts_and_json(arxiv_server: FakeArxiv, cli: Cli) -> None:
    env = preview_env(arxiv_server)
    text = cli("preview", "https://arxiv.org/pdf/1706.03762v7.pdf", env=env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("--- post 1/1 (")
    assert "https://arxiv.org/abs/1706.03762v7" in text.stdout

    result = cli(
        "preview",
        "--json",
        "hep-th/9711200",
        "a post citing arXiv:1706.03762 and https://arxiv.org/abs/hep-th/9711200v2",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    papers = json.loads(result.stdout)
    assert [p["id"] for p in papers] == ["hep-th/9711200", "1706.03762"]
    first = papers[0]
    assert first["version"] is None
    assert first["title"].startswith("The Large N Limit")
    assert first["authors"] == ["Juan M. Maldacena"]
    assert first["url"] == "https://arxiv.org/abs/hep-th/9711200"
    assert first["summary"]
    assert first["summary"] in first["posts"][0]
    assert len(arxiv_server.id_lists()) == 2, "one batched request per preview"


def test_preview_says_when_nothing_is_an_arxiv_paper(cli: Cli) -> None:
    result = cli("preview", "https://biorxiv.org/content/10.1101/2024.01.01", env={})
    assert result.returncode == 1
    assert "no arXiv paper" in result.stderr


def test_preview_says_when_arxiv_fails_or_does_not_know_a_paper(
    arxiv_server: FakeArxiv, cli: Cli
) -> None:
    env = preview_env(arxiv_server)
    unknown = cli("preview", "2312.09999", "1706.03762", env=env)
    assert unknown.returncode == 1
    assert "arXiv does not know 2312.09999" in unknown.stderr
    assert "Attention Is All You Need" in unknown.stdout, "the known paper is still shown"

    arxiv_server.fail("GET", "/api/query", Response(503, b"", "text/plain"))
    failed = cli("preview", "hep-th/9711200", env=env)
    assert failed.returncode == 1
    assert "arxiv-bot: arXiv: arXiv throttled us (HTTP 503)" in failed.stderr


def test_preview_shows_abstract_mode_threads(arxiv_server: FakeArxiv, cli: Cli) -> None:
    env = preview_env(arxiv_server, BOT_REPLY_MODE="abstract")
    result = cli("preview", "--json", "--max-characters", "300", "1706.03762", env=env)
    assert result.returncode == 0, result.stderr
    [paper] = json.loads(result.stdout)
    first, *numbered = paper["posts"]
    assert "Attention Is All You Need" in first
    assert [p.split(" ", 1)[0] for p in numbered] == ["(1/4)", "(2/4)", "(3/4)", "(4/4)"]
    assert paper["machine_written"] is False


# --- healthcheck --------------------------------------------------------------------------


def test_healthcheck_follows_the_last_good_cycle(bot_env: dict[str, str], cli: Cli) -> None:
    before = cli("healthcheck", env=bot_env)
    assert (before.returncode, before.stdout.split(":")[0]) == (1, "unhealthy")
    assert cli("run", "--once", env=bot_env).returncode == 0
    after = cli("healthcheck", env=bot_env)
    assert after.returncode == 0, after.stdout
    assert after.stdout.startswith("healthy: last cycle 0 s ago")


def test_run_once_from_cron_honours_a_429_and_stays_healthy_while_waiting(
    mastodon: FakeMastodon, bot_env: dict[str, str], cli: Cli
) -> None:
    assert cli("run", "--once", env=bot_env).returncode == 0
    mastodon.rate_limit = (300, 0, 3600)
    mastodon.fail(
        "GET",
        "/api/v1/timelines/tag/",
        Response.json({"error": "Too many requests"}, 429, mastodon.rate_limit_headers()),
    )
    assert cli("run", "--once", env=bot_env).returncode == 1, "that cycle did fail"
    before = mastodon.count("GET", "/api/v1/timelines/tag/")
    waited = cli("run", "--once", env=bot_env)
    assert waited.returncode == 0, "waiting out the reset is no failure"
    assert mastodon.count("GET", "/api/v1/timelines/tag/") == before, "the next run waited too"
    assert cli("healthcheck", env=bot_env).stdout.startswith("healthy: ")


def test_healthcheck_stays_green_while_mastodon_is_down_at_start(
    mastodon: FakeMastodon, bot_env: dict[str, str], cli: Cli
) -> None:
    mastodon.fail(
        "GET", "/api/v1/accounts/verify_credentials", Response.json({"error": "down"}, 503), times=5
    )
    assert cli("run", "--once", env=bot_env).returncode == 1, "the cycle failed"
    healthy = cli("healthcheck", env=bot_env)
    assert healthy.returncode == 0, "the loop itself is fine: " + healthy.stdout


def test_healthcheck_turns_red_when_the_loop_is_late_by_its_own_settings(
    bot_env: dict[str, str], cli: Cli, make_settings: Callable[..., Settings]
) -> None:
    assert cli("run", "--once", env={**bot_env, "BOT_POLL_INTERVAL": "100"}).returncode == 0
    path = make_settings().state_path
    soon = datetime.now(UTC) + timedelta(seconds=290)
    late = datetime.now(UTC) + timedelta(seconds=310)
    assert check(path, soon)[0], "three intervals of 100 s are allowed"
    ok, why = check(path, late)
    assert not ok
    assert "allowed 300 s" in why


def test_healthcheck_never_writes_to_the_state_file(
    bot_env: dict[str, str], cli: Cli, make_settings: Callable[..., Settings]
) -> None:
    assert cli("run", "--once", env=bot_env).returncode == 0
    path = make_settings().state_path
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a writer would wait here; a reader of WAL does not
    try:
        path.chmod(0o444)
        result = cli("healthcheck", env=bot_env)
    finally:
        path.chmod(0o644)
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("env", "dotenv"),
    [
        ({}, ""),
        ({"BOT_DATA_DIR": "/srv/bot"}, ""),
        ({"bot_data_dir": "here", "BOT_DRY_RUN": "TRUE"}, ""),
        ({"BOT_DRY_RUN": "Yes"}, "BOT_DATA_DIR=from-dotenv\n"),
        ({"BOT_DATA_DIR": "env-wins"}, "BOT_DATA_DIR=from-dotenv\nBOT_DRY_RUN=on\n"),
        ({}, "bot_dry_run=1\n"),
        ({"BOT_DRY_RUN": "0"}, "BOT_DRY_RUN=true\n"),
    ],
)
def test_healthcheck_finds_the_state_file_where_the_settings_put_it(
    env: dict[str, str], dotenv: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(dotenv)
    for name in os.environ:
        if name.startswith(OUR_PREFIXES):
            monkeypatch.delenv(name)
    required = {"MASTODON_BASE_URL": "https://m.example", "MASTODON_ACCESS_TOKEN": "t"}
    for name, value in {**required, **env}.items():
        monkeypatch.setenv(name, value)
    expected = load_settings(Settings).state_path
    assert state_file_from(os.environ, Path(".env")) == expected


# --- the real process ---------------------------------------------------------------------


@pytest.mark.parametrize("entry", [[COMMAND], [sys.executable, "-m", "bot"]])
def test_the_console_script_and_the_module_run_the_same_cli(
    entry: list[str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [*entry, "--help"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: arxiv-bot ")
    for command in ("run", "preview", "check", "healthcheck"):
        assert re.search(rf"^ +{command}\b", result.stdout, re.MULTILINE), command
    shown = subprocess.run(
        [*entry, "--version"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert shown.stdout.strip() == f"arxiv-bot {project['project']['version']}", "one version"


def test_the_starting_line_names_the_version(
    mastodon: FakeMastodon, bot_env: dict[str, str], cli: Cli
) -> None:
    result = cli("run", "--once", env=bot_env)
    [starting] = [json.loads(x) for x in result.stderr.splitlines() if '"starting"' in x]
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert starting["version"] == project["project"]["version"]


def test_sigterm_ends_a_long_cycle_at_the_next_step_and_nothing_is_lost(
    mastodon: FakeMastodon, bot_env: dict[str, str], cli: Cli, tmp_path: Path
) -> None:
    assert cli("run", "--once", env=bot_env).returncode == 0
    statuses = [paper_post(mastodon, "https://arxiv.org/abs/1706.03762") for _ in range(20)]
    mastodon.fail("POST", "/api/v1/statuses", None, times=20, delay=0.5)  # 10 s of posting
    process = start_bot(bot_env, tmp_path, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: bool(mastodon.posted()) or process.poll() is not None)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    [stopped] = [json.loads(x) for x in stderr.splitlines() if '"stopped"' in x]
    assert stopped["step_finished"] is True
    stopping = [x for x in stderr.splitlines() if '"event": "stopping"' in x]
    assert len(stopping) == 1, "one SIGTERM, one line"
    posted = len(mastodon.posted())
    assert 0 < posted < 20, "it stopped in the middle"
    mastodon.faults.clear()
    assert cli("run", "--once", env=bot_env).returncode == 0
    assert sorted(r.in_reply_to_id or 0 for r in mastodon.posted()) == statuses
