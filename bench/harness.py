"""Shared pieces of the benchmarks: the loopback fakes, the real bot process, /proc readings."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fakes.arxiv import FakeArxiv
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.fixtures.papers import PaperRecord

COMMAND = str(Path(sys.executable).with_name("arxiv-bot"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class SimulatedClock:
    """The bot's one clock, moved by the benchmark (a minute a cycle), and a wait that passes
    on it rather than in real time (the gap between two posts)."""

    def __init__(self) -> None:
        self.seconds = 1000.0
        self.epoch = datetime.now(UTC)

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.seconds - 1000.0)

    def wait(self, seconds: float) -> bool:
        self.seconds += seconds
        return False  # never told to stop


def paper_pool(n: int) -> list[PaperRecord]:
    return [
        PaperRecord(
            arxiv_id=f"2301.{i:05d}",
            version=1,
            title=f"Benchmark paper number {i}",
            authors=("A. Author", "B. Author", "C. Author"),
            summary=(
                f"Large models are everywhere. We propose method {i}, which is simple. "
                f"It works on {i} datasets. We show it beats the baselines."
            ),
            primary_category="cs.LG",
            published="2023-01-02T00:00:00Z",
            updated="2023-01-02T00:00:00Z",
        )
        for i in range(1, n + 1)
    ]


def bot_env(
    mastodon: FakeMastodon, arxiv: FakeArxiv, data: Path, **measured: str
) -> dict[str, str]:
    """The environment of the bot as shipped, wired to the fakes. ``measured``: the settings
    a benchmark changes because it measures them; each benchmark names them in its doc and
    output. No etiquette setting (caps, backlog, budgets, pacing) is changed here."""
    return server_env(mastodon.url, TOKEN, arxiv, data, **measured)


def server_env(
    base_url: str, token: str, arxiv: FakeArxiv, data: Path, **measured: str
) -> dict[str, str]:
    """:func:`bot_env` for any server: a real one, say."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MASTODON_", "BOT_", "ARXIV_", "LOG_", "LLM_"))
    }
    return {
        **keep,
        "MASTODON_BASE_URL": base_url,
        "MASTODON_ACCESS_TOKEN": token,
        "BOT_HASHTAGS": "arxiv",
        "BOT_DATA_DIR": str(data),
        "ARXIV_API_URL": arxiv.api_url,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        **measured,
    }


def new_data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="arxiv-bot-bench-"))


def run_once(env: dict[str, str], cwd: Path) -> None:
    subprocess.run([COMMAND, "run", "--once"], env=env, cwd=cwd, check=True, capture_output=True)


def start(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [COMMAND, "run"], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_until(condition: object, timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(step)
    return False


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def post_with_paper(mastodon: FakeMastodon, account: dict[str, object], arxiv_id: str) -> int:
    body = (
        f'<p>New: <a href="https://arxiv.org/abs/{arxiv_id}">arxiv.org/abs/{arxiv_id}</a> '
        '<a href="https://fake.example/tags/arxiv" class="mention hashtag" rel="tag">#<span>arxiv</span></a></p>'
    )
    return mastodon.add_status(account, body, tags=("arxiv",))


__all__ = [
    "COMMAND", "FakeArxiv", "FakeMastodon", "SimulatedClock", "bot_env", "cpu_seconds", "new_data_dir",
    "paper_pool", "percentile", "post_with_paper", "rss_mb", "run_once", "server_env", "start",
    "stop", "wait_until",
]  # fmt: skip
