"""API economy: requests per cycle and per reply, arXiv requests per new and cached paper.

    uv run python bench/economy.py [--runs 3]

The real ``arxiv-bot run`` process, 6 hashtags (two groups of up to 5) plus mentions, polls
the fakes every 0.5 s. Phases: quiet cycles; a burst of 100 statuses linking 100 new papers;
a burst of 100 statuses linking only papers already cached. Counts come from the fakes'
request logs and the bot's own ``cycle`` events. Targets: one paged request per 5 hashtags
per cycle plus one for mentions; at most one arXiv request per cycle for up to 100 new papers;
none for cached ones.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from typing import Any

from bench.harness import (
    COMMAND,
    FakeArxiv,
    FakeMastodon,
    bot_env,
    new_data_dir,
    paper_pool,
    post_with_paper,
    run_once,
    stop,
    wait_until,
)

TAGS = "arxiv,ml,physics,math,astro,cs"


def paged(mastodon: FakeMastodon) -> int:
    return sum(1 for r in mastodon.requests if {"min_id", "max_id", "since_id"} & set(r.query))


def one_run() -> dict[str, float]:
    papers = paper_pool(300)
    mastodon, arxiv = FakeMastodon(), FakeArxiv(papers)
    data = new_data_dir()
    env = bot_env(
        mastodon, arxiv, data, BOT_POLL_INTERVAL="0.5", BOT_HASHTAGS=TAGS, LOG_LEVEL="INFO"
    )
    log = (data / "bot.log").open("w+")
    try:
        run_once(env, data)
        process = subprocess.Popen([COMMAND, "run"], env=env, cwd=data, stdout=log, stderr=log)
        try:
            time.sleep(2)
            quiet_paged, quiet_cycles_before = paged(mastodon), cycles(log)
            time.sleep(5)
            quiet_paged = paged(mastodon) - quiet_paged
            quiet_cycles = cycles(log) - quiet_cycles_before

            def burst(ids: list[str]) -> tuple[int, int, int]:
                arxiv_before, masto_before = len(arxiv.requests), len(mastodon.requests)
                replies_before = len(mastodon.posted())
                for i, arxiv_id in enumerate(ids):
                    post_with_paper(
                        mastodon, mastodon.add_account(f"u{i}-{time.monotonic_ns()}"), arxiv_id
                    )
                wait_until(lambda: len(mastodon.posted()) - replies_before >= len(ids), timeout=60)
                time.sleep(1)
                return (
                    len(arxiv.requests) - arxiv_before,
                    len(mastodon.requests) - masto_before,
                    len(mastodon.posted()) - replies_before,
                )

            new_ids = [p.arxiv_id for p in papers[:100]]
            arxiv_new, masto_new, replies_new = burst(new_ids)
            arxiv_cached, _, replies_cached = burst(new_ids)
        finally:
            stop(process)
        posts = sum(1 for r in mastodon.requests if r.method == "POST")
        contexts = sum(1 for r in mastodon.requests if r.path.endswith("/context"))
        return {
            "paged per quiet cycle": quiet_paged / max(quiet_cycles, 1),
            "quiet cycles": quiet_cycles,
            "arXiv requests, 100 new papers": arxiv_new,
            "arXiv requests, 100 cached papers": arxiv_cached,
            "replies, new-paper burst": replies_new,
            "replies, cached-paper burst": replies_cached,
            "Mastodon requests per reply (new burst)": masto_new / max(replies_new, 1),
            "POSTs per reply": posts / max(len(mastodon.posted()), 1),
            "thread reads per reply": contexts / max(len(mastodon.posted()), 1),
        }
    finally:
        mastodon.close()
        arxiv.close()


def cycles(log: Any) -> int:
    log.flush()
    log.seek(0)
    count = 0
    for line in log.read().splitlines():
        try:
            count += json.loads(line).get("event") == "cycle"
        except json.JSONDecodeError:
            continue
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = [one_run() for _ in range(args.runs)]
    print(f"6 hashtags + mentions, {args.runs} runs (median, then each run)")
    for key in results[0]:
        values = [r[key] for r in results]
        print(
            f"  {key:<42} {statistics.median(values):8.2f}   ({', '.join(f'{v:g}' for v in values)})"
        )
    print("  targets: paged per quiet cycle = ceil(6/5) + 1 = 3; arXiv <= 1 for 100 new; 0 cached")


if __name__ == "__main__":
    main()
