"""The real ``arxiv-bot`` command, run as a subprocess against the loopback fakes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import hashtag, link, post_html
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.mastodon import TOKEN, FakeMastodon

COMMAND = str(Path(sys.executable).with_name("arxiv-bot"))


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MASTODON_", "BOT_", "ARXIV_", "LOG_", "LLM_"))
    }
    return {**keep, **extra}


def arxiv_bot(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args],
        env=clean_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def add_paper_post(mastodon: FakeMastodon, url: str) -> int:
    author = mastodon.add_account("alice", domain="science.example")
    return mastodon.add_status(
        author, post_html("Look:", link(url), hashtag("arxiv")), tags=("arxiv",)
    )


def test_run_once_answers_each_new_post_once_and_never_logs_the_token(
    mastodon: FakeMastodon, bot_env: dict[str, str], tmp_path: Path
) -> None:
    first = arxiv_bot("run", "--once", env=bot_env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    status = add_paper_post(mastodon, "https://arxiv.org/abs/1706.03762v7")

    second = arxiv_bot("run", "--once", env=bot_env, cwd=tmp_path)
    third = arxiv_bot("run", "--once", env=bot_env, cwd=tmp_path)

    assert second.returncode == 0, second.stderr
    assert third.returncode == 0, third.stderr
    [reply] = mastodon.posted()
    assert reply.in_reply_to_id == status
    assert "Attention Is All You Need" in reply.text
    events = [json.loads(line) for line in second.stderr.splitlines()]
    assert [e["reply_ids"] for e in events if e["event"] == "replied"] == [[str(reply.id)]]
    for run in (first, second, third):
        assert TOKEN not in run.stdout + run.stderr
        for line in run.stderr.splitlines():
            json.loads(line)  # one JSON event per line


def test_run_stops_cleanly_on_sigterm(
    mastodon: FakeMastodon, bot_env: dict[str, str], tmp_path: Path
) -> None:
    assert arxiv_bot("run", "--once", env=bot_env, cwd=tmp_path).returncode == 0
    status = add_paper_post(mastodon, "https://arxiv.org/abs/hep-th/9711200")
    process = subprocess.Popen(
        [COMMAND, "run"],
        env=clean_env(bot_env),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not mastodon.posted() and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert [r.in_reply_to_id for r in mastodon.posted()] == [status]
    assert '"event": "stopped"' in stderr


def test_bad_setting_stops_the_start_with_one_line_naming_it(
    bot_env: dict[str, str], tmp_path: Path
) -> None:
    cases = {
        "BOT_POLL_INTERVAL": ("soon", "BOT_POLL_INTERVAL"),
        "MASTODON_BASE_URL": ("mastodon.example", "MASTODON_BASE_URL"),
        "BOT_HASHTAGS": ("arxiv, not a tag", "BOT_HASHTAGS"),
        "BOT_REPLY_VISIBILITY": ("everyone", "BOT_REPLY_VISIBILITY"),
        "MASTODON_ACCESS_TOKEN": ("", "MASTODON_ACCESS_TOKEN"),
    }
    for name, (value, named) in cases.items():
        result = arxiv_bot("run", "--once", env={**bot_env, name: value}, cwd=tmp_path)
        assert result.returncode == 2, (name, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (name, lines)
        assert named in lines[0]
        assert "Traceback" not in result.stderr
    missing = {k: v for k, v in bot_env.items() if k != "MASTODON_BASE_URL"}
    result = arxiv_bot("check", env=missing, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "arxiv-bot: bad setting: MASTODON_BASE_URL: required, not set"


def test_settings_are_read_from_a_dotenv_file(
    mastodon: FakeMastodon, bot_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "\n".join(f"{k}={v}" for k, v in bot_env.items() if k != "LOG_FORMAT") + "\n"
    )
    result = arxiv_bot("check", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "posting as @arxivbot" in result.stdout


def test_check_reports_what_it_found_and_fails_on_a_bad_token(
    mastodon: FakeMastodon, bot_env: dict[str, str], tmp_path: Path
) -> None:
    good = arxiv_bot("check", env=bot_env, cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "token: ok, posting as @arxivbot" in good.stdout
    assert "posts up to 500 characters, a URL counts as 23" in good.stdout
    assert "timeline #arxiv: readable" in good.stdout
    assert "mentions: readable" in good.stdout

    bad = arxiv_bot("check", env={**bot_env, "MASTODON_ACCESS_TOKEN": "wrong"}, cwd=tmp_path)
    assert bad.returncode == 1
    assert "token: FAILED" in bad.stdout
    assert "wrong" not in bad.stdout.replace("token: FAILED", "")


def test_run_with_a_refused_token_exits_with_a_clear_message(
    bot_env: dict[str, str], tmp_path: Path
) -> None:
    result = arxiv_bot("run", env={**bot_env, "MASTODON_ACCESS_TOKEN": "revoked"}, cwd=tmp_path)
    assert result.returncode == 3
    [event] = [json.loads(x) for x in result.stderr.splitlines() if "auth_failed" in x]
    assert "access token" in event["error"]
    assert "revoked" not in result.stderr


def test_preview_prints_the_posts_and_json(
    arxiv_server: FakeArxiv, bot_env: dict[str, str], tmp_path: Path
) -> None:
    env = {"ARXIV_API_URL": arxiv_server.api_url, "ARXIV_DELAY_SECONDS": "0"}
    text = arxiv_bot("preview", "https://arxiv.org/pdf/1706.03762v7.pdf", env=env, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("--- post 1/1 (")
    assert "https://arxiv.org/abs/1706.03762v7" in text.stdout

    result = arxiv_bot(
        "preview",
        "--json",
        "hep-th/9711200",
        "a post citing arXiv:1706.03762 and https://arxiv.org/abs/hep-th/9711200v2",
        env=env,
        cwd=tmp_path,
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


def test_preview_says_when_nothing_is_an_arxiv_paper(tmp_path: Path) -> None:
    result = arxiv_bot(
        "preview", "https://biorxiv.org/content/10.1101/2024.01.01", env={}, cwd=tmp_path
    )
    assert result.returncode == 1
    assert "no arXiv paper" in result.stderr


def test_healthcheck_follows_the_last_good_cycle(bot_env: dict[str, str], tmp_path: Path) -> None:
    before = arxiv_bot("healthcheck", env=bot_env, cwd=tmp_path)
    assert before.returncode == 1
    assert arxiv_bot("run", "--once", env=bot_env, cwd=tmp_path).returncode == 0
    after = arxiv_bot("healthcheck", env=bot_env, cwd=tmp_path)
    assert after.returncode == 0, after.stdout


@pytest.mark.parametrize("entry", [[COMMAND], [sys.executable, "-m", "bot"]])
def test_help_works_both_ways(entry: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [*entry, "--help"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 0
    for command in ("run", "preview", "check", "healthcheck"):
        assert command in result.stdout


def test_preview_shows_abstract_mode_threads(arxiv_server: FakeArxiv, tmp_path: Path) -> None:
    env = {
        "ARXIV_API_URL": arxiv_server.api_url,
        "ARXIV_DELAY_SECONDS": "0",
        "BOT_REPLY_MODE": "abstract",
    }
    result = arxiv_bot(
        "preview", "--json", "--max-characters", "300", "1706.03762", env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    [paper] = json.loads(result.stdout)
    first, *numbered = paper["posts"]
    assert "Attention Is All You Need" in first
    assert [p.split(" ", 1)[0] for p in numbered] == ["(1/4)", "(2/4)", "(3/4)", "(4/4)"]
    assert paper["machine_written"] is False
