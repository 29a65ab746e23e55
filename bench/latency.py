"""Answer latency, and what polling costs, with the live streams and without.

    PYTHONPATH=. uv run python -m bench.latency [--intervals 60] [--statuses 20] [--runs 3]
        [--modes stream poll] [--cost-seconds 60] [--cost-runs 3]

Latency: for each poll interval and mode (``stream``: ``BOT_STREAMING=auto``; ``poll``:
``BOT_STREAMING=off``), the real ``arxiv-bot run`` process watches the fake Mastodon while
statuses linking papers appear at random moments, spread over several poll intervals. Every
other setting is the shipped one (arXiv's 3-second gap included). From a status being
visible on the server to the bot's reply being visible: p50, p95 and max per run, and the
median of each over the runs.

Cost: paged requests (hashtag timelines and notifications with a cursor) per hour, at the
default settings run 60 times faster (poll every 1 s, sweep every 5 s, heartbeats every
0.25 s, a stream dead after 1 s of silence), so a minute of the run is an hour of the bot.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import (
    FakeArxiv,
    FakeMastodon,
    bot_env,
    new_data_dir,
    paper_pool,
    percentile,
    post_with_paper,
    run_once,
    start,
    stop,
    wait_until,
)

STREAMS = {"user", "hashtag:arxiv"}
MODES = {"stream": "auto", "poll": "off"}


@contextmanager
def bot_running(
    mastodon: FakeMastodon, env: dict[str, str], data: Path, mode: str, settle: float
) -> Iterator[None]:
    """``arxiv-bot run`` after a first ``run --once``; with streams, once they are open."""
    run_once(env, data)
    process = start(env, data)
    try:
        if mode == "stream":
            mastodon.streaming.wait_for_streams(STREAMS, timeout=30)
        time.sleep(settle)
        yield
    finally:
        stop(process)


def one_run(interval: float, statuses: int, mode: str, rng: random.Random) -> list[float]:
    papers = paper_pool(200)
    mastodon, arxiv = FakeMastodon(), FakeArxiv(papers)
    data = new_data_dir()
    env = bot_env(mastodon, arxiv, data, BOT_POLL_INTERVAL=str(interval), BOT_STREAMING=MODES[mode])
    try:
        with bot_running(mastodon, env, data, mode, settle=1.5):
            posted = []
            for _ in range(statuses):
                # spread over about three intervals, at moments unrelated to the polls
                time.sleep(rng.uniform(0, interval * 3 / statuses * 2))
                author = mastodon.add_account(f"p{rng.randrange(10**9)}")
                posted.append(post_with_paper(mastodon, author, rng.choice(papers).arxiv_id))
            wait_until(
                lambda: all(mastodon.replies_to(s) for s in posted), timeout=interval * 3 + 10
            )
        return [
            mastodon.replies_to(s)[0].created - mastodon.statuses[s].created
            for s in posted
            if mastodon.replies_to(s)
        ]
    finally:
        mastodon.close()
        arxiv.close()


def paged_per_hour(mode: str, seconds: float) -> tuple[int, int]:
    """Paged requests in ``seconds`` of a bot run 60 times faster (= per hour at the default
    settings), and how many posts it answered meanwhile."""
    papers = paper_pool(50)
    mastodon, arxiv = FakeMastodon(), FakeArxiv(papers)
    mastodon.streaming.heartbeat = 0.25
    data = new_data_dir()
    env = bot_env(
        mastodon,
        arxiv,
        data,
        BOT_POLL_INTERVAL="1",
        BOT_SWEEP_SECONDS="5",
        BOT_STREAM_DEAD_SECONDS="1",
        BOT_STREAMING=MODES[mode],
    )
    try:
        with bot_running(mastodon, env, data, mode, settle=2):  # past the catch-up poll
            before = _paged(mastodon)
            started = time.monotonic()
            asked: list[int] = []
            while time.monotonic() - started < seconds:
                time.sleep(seconds / 10)  # ten posts an "hour"
                author = mastodon.add_account(f"p{len(asked)}")
                asked.append(post_with_paper(mastodon, author, papers[len(asked)].arxiv_id))
            paged = _paged(mastodon) - before
            answered = sum(1 for s in asked if mastodon.replies_to(s))
        return paged, answered
    finally:
        mastodon.close()
        arxiv.close()


def _paged(mastodon: FakeMastodon) -> int:
    return sum(
        1
        for r in list(mastodon.requests)
        if r.method == "GET"
        and r.path.startswith(("/api/v1/timelines/tag/", "/api/v1/notifications"))
        and {"min_id", "max_id", "since_id"} & set(r.query)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intervals", type=float, nargs="+", default=[60.0])
    parser.add_argument("--statuses", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--cost-seconds", type=float, default=60.0)
    parser.add_argument("--cost-runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(3)
    print(f"{'interval':>8} {'mode':>6} {'run':>4} {'n':>4} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for interval in args.intervals if args.runs > 0 else []:
        for mode in args.modes:
            rows = []
            for run in range(1, args.runs + 1):
                latencies = one_run(interval, args.statuses, mode, rng)
                row = (statistics.median(latencies), percentile(latencies, 0.95), max(latencies))
                rows.append(row)
                print(
                    f"{interval:8g} {mode:>6} {run:4d} {len(latencies):4d} "
                    + " ".join(f"{v:7.2f}" for v in row),
                    flush=True,
                )
            medians = [statistics.median(r[i] for r in rows) for i in range(3)]
            print(
                f"{interval:8g} {mode:>6} {'med':>4} {'':>4} "
                + " ".join(f"{v:7.2f}" for v in medians),
                flush=True,
            )
    if args.cost_seconds > 0:
        print("\npaged requests per hour (default settings, time run 60x faster):")
        for mode in args.modes:
            runs = [paged_per_hour(mode, args.cost_seconds) for _ in range(args.cost_runs)]
            paged = [p for p, _ in runs]
            print(
                f"{mode:>6}: median {statistics.median(paged):.0f} "
                f"(runs {', '.join(str(p) for p in paged)}; posts answered "
                f"{', '.join(str(a) for _, a in runs)} of 10 each)",
                flush=True,
            )


if __name__ == "__main__":
    main()
