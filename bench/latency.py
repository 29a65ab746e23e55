"""Answer latency: from a status being visible on the server to the bot's reply being visible.

    uv run python bench/latency.py [--intervals 1 2 5] [--statuses 30] [--runs 3]

For each poll interval, the real ``arxiv-bot run`` process watches the fake Mastodon while
statuses linking papers appear at random moments (arXiv delay 0, as the target assumes).
Prints p50, p95 and max per run and the median of each over the runs. Target: p95 within
the poll interval plus 1 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

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


def one_run(interval: float, statuses: int, rng: random.Random) -> list[float]:
    papers = paper_pool(200)
    mastodon, arxiv = FakeMastodon(), FakeArxiv(papers)
    data = new_data_dir()
    env = bot_env(mastodon, arxiv, data, BOT_POLL_INTERVAL=str(interval))
    try:
        run_once(env, data)
        process = start(env, data)
        try:
            time.sleep(1.5)  # let it start and settle
            posted = []
            for _ in range(statuses):
                time.sleep(rng.uniform(0, 2 * interval))
                author = mastodon.add_account(f"p{rng.randrange(10**9)}")
                posted.append(post_with_paper(mastodon, author, rng.choice(papers).arxiv_id))
            wait_until(
                lambda: all(mastodon.replies_to(s) for s in posted), timeout=interval * 3 + 10
            )
        finally:
            stop(process)
        return [
            mastodon.replies_to(s)[0].created - mastodon.statuses[s].created
            for s in posted
            if mastodon.replies_to(s)
        ]
    finally:
        mastodon.close()
        arxiv.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intervals", type=float, nargs="+", default=[1.0, 2.0, 5.0])
    parser.add_argument("--statuses", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(3)
    print(f"{'interval':>8} {'run':>4} {'n':>4} {'p50 s':>7} {'p95 s':>7} {'max s':>7}  target p95")
    for interval in args.intervals:
        rows = []
        for run in range(1, args.runs + 1):
            latencies = one_run(interval, args.statuses, rng)
            row = (statistics.median(latencies), percentile(latencies, 0.95), max(latencies))
            rows.append(row)
            print(
                f"{interval:8g} {run:4d} {len(latencies):4d} " + " ".join(f"{v:7.2f}" for v in row)
            )
        medians = [statistics.median(r[i] for r in rows) for i in range(3)]
        print(
            f"{interval:8g} {'med':>4} {'':>4} "
            + " ".join(f"{v:7.2f}" for v in medians)
            + f"  <= {interval + 1:g}: {'yes' if medians[1] <= interval + 1 else 'NO'}"
        )


if __name__ == "__main__":
    main()
