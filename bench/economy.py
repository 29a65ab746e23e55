"""API economy: requests per cycle and per reply, arXiv requests per new and cached paper,
and what the sweeps of recent history cost.

    PYTHONPATH=. uv run python -m bench.economy [--runs 3]

The real ``arxiv-bot run`` process, 6 hashtags (two groups of up to 4) plus mentions, polls
the fakes every 0.5 s: ``BOT_POLL_INTERVAL`` is the one setting changed (it counts requests
per cycle); everything else is shipped, so each burst comes from 100 accounts, within the
hourly cap and the 3-hour post budget. Phases: quiet cycles; a burst of 100 statuses linking
100 new papers; a burst of 100 statuses linking only papers already cached. Counts come from
the fakes' request logs and the bot's own ``cycle`` events. Targets: one paged request per 4
hashtags per cycle plus one for mentions; at most one arXiv request per cycle for up to 100
new papers; none for cached ones.

Sweeps: the bot in process on a simulated clock, at the shipped settings, one hashtag with
100 posts an hour, polled every 60 s for 8 hours with the default sweep (every 300 s over the
last 6 hours); paged requests per hour in the last hour, live polls and sweeps apart. (The
posts link no paper: what is counted is timeline pages, and arXiv's real gap would not
follow the simulated clock.)

A remote tag (``tag@server``): what ``bench.remote`` measures for it, one tag alone with 100
posts an hour, the requests of the last of 8 hours to its server and to the bot's own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from typing import Any

from pydantic import SecretStr

from bench.harness import (
    COMMAND,
    FakeArxiv,
    FakeMastodon,
    SimulatedClock,
    bot_env,
    new_data_dir,
    paper_pool,
    post_with_paper,
    run_once,
    stop,
    wait_until,
)
from bench.remote import cost_run as remote_cost
from bot.app import built
from bot.config import Settings
from bot.logs import configure_logging
from tests.fakes.mastodon import FLAVOURS, TOKEN

TAGS = "arxiv,ml,physics,math,astro,cs"


def paged(mastodon: FakeMastodon) -> int:
    return sum(1 for r in mastodon.requests if {"min_id", "max_id", "since_id"} & set(r.query))


def polls(mastodon: FakeMastodon) -> int:
    """Poll rounds, as the server sees them: each reads the notifications once with a cursor."""
    return sum(
        1
        for r in mastodon.requests
        if r.path == "/api/v1/notifications" and {"min_id", "since_id"} & set(r.query)
    )


def one_run() -> dict[str, float]:
    papers = paper_pool(300)
    mastodon, arxiv = FakeMastodon(), FakeArxiv(papers)
    data = new_data_dir()
    env = bot_env(
        mastodon, arxiv, data, BOT_POLL_INTERVAL="0.5", BOT_HASHTAGS=TAGS, LOG_LEVEL="DEBUG"
    )
    log = (data / "bot.log").open("w+")
    try:
        run_once(env, data)
        process = subprocess.Popen([COMMAND, "run"], env=env, cwd=data, stdout=log, stderr=log)
        try:
            time.sleep(2)
            quiet_paged, quiet_cycles_before = paged(mastodon), cycles(log)
            quiet_polls = polls(mastodon)
            time.sleep(10)
            quiet_paged = paged(mastodon) - quiet_paged
            quiet_cycles = cycles(log) - quiet_cycles_before
            quiet_polls = polls(mastodon) - quiet_polls

            def burst(ids: list[str]) -> tuple[int, int, int, int]:
                arxiv_before, masto_before = len(arxiv.requests), len(mastodon.requests)
                cycles_before = cycles(log)
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
                    most_arxiv_in_a_cycle(log, cycles_before),
                )

            new_ids = [p.arxiv_id for p in papers[:100]]
            arxiv_new, masto_new, replies_new, most_a_cycle = burst(new_ids)
            arxiv_cached, _, replies_cached, _ = burst(new_ids)
        finally:
            stop(process)
        posts = sum(1 for r in mastodon.requests if r.method == "POST")
        contexts = sum(1 for r in mastodon.requests if r.path.endswith("/context"))
        return {
            "paged per quiet poll": quiet_paged / max(quiet_polls, 1),
            "quiet polls": quiet_polls,
            "quiet cycles (a poll every 5th)": quiet_cycles,
            "arXiv requests, 100 new papers": arxiv_new,
            "  most in one cycle": most_a_cycle,
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


def tag_pages(mastodon: FakeMastodon) -> int:
    return sum(
        1
        for r in mastodon.requests
        if r.path.startswith("/api/v1/timelines/tag/") and "min_id" in r.query
    )


def sweep_cost(posts_per_hour: int = 100, hours: int = 8) -> dict[str, float]:
    papers = paper_pool(20)
    mastodon, arxiv = FakeMastodon(), FakeArxiv(papers)
    data = new_data_dir()
    clock = SimulatedClock()
    configure_logging(level="WARNING")
    settings = Settings(  # type: ignore[call-arg]  # pydantic-settings takes init values
        _env_file=None,
        mastodon_base_url=mastodon.url,
        mastodon_access_token=SecretStr(TOKEN),
        bot_hashtags=("arxiv",),
        bot_data_dir=data,
        arxiv_api_url=arxiv.api_url,
        log_level="WARNING",
    )
    author = mastodon.add_account("many")
    per_cycle: list[tuple[int, bool]] = []
    try:
        with built(settings, clock=clock) as bot:
            due = 0.0
            for _ in range(hours * 60):
                due += posts_per_hour / 60
                while due >= 1:
                    due -= 1
                    n = len(mastodon.statuses)
                    mastodon.add_status(
                        author, f"<p>post {n} #arxiv</p>", tags=("arxiv",),
                        published_at=clock.now(),
                    )  # fmt: skip
                before = tag_pages(mastodon)
                report = bot.cycle.run_cycle()
                per_cycle.append((tag_pages(mastodon) - before, report.swept > 0))
                clock.seconds += 60
    finally:
        mastodon.close()
        arxiv.close()
    last_hour = per_cycle[-60:]
    sweeps = [pages - 1 for pages, swept in last_hour if swept]  # less the live poll
    total = sum(pages for pages, _ in last_hour)
    return {
        "paged tag requests, last hour": total,
        "of them live polls": len(last_hour),
        "of them sweeps (the extra cost)": sum(sweeps),
        "sweeps in the last hour": len(sweeps),
        "pages per sweep (median)": statistics.median(sweeps) if sweeps else 0,
    }


def per_flavour() -> dict[str, int]:
    """A quiet cycle's paged requests against each server flavour of the fake."""
    configure_logging(level="WARNING")
    out = {}
    for flavour in sorted(FLAVOURS):
        mastodon, arxiv = FakeMastodon(flavour=flavour), FakeArxiv(paper_pool(1))
        settings = Settings(  # type: ignore[call-arg]  # pydantic-settings takes init values
            _env_file=None,
            mastodon_base_url=mastodon.url,
            mastodon_access_token=SecretStr(TOKEN),
            bot_hashtags=tuple(TAGS.split(",")),
            bot_data_dir=new_data_dir(),
            arxiv_api_url=arxiv.api_url,
            bot_sweep_seconds=86400,
        )
        try:
            with built(settings) as bot:
                bot.cycle.run_cycle()  # first start: sources note where they are
                bot.cycle.run_cycle()  # the start's sweep
                before = paged(mastodon)
                bot.cycle.run_cycle()
                out[flavour] = paged(mastodon) - before
        finally:
            mastodon.close()
            arxiv.close()
    return out


def cycle_events(log: Any) -> list[dict[str, Any]]:
    log.flush()
    log.seek(0)
    events = []
    for line in log.read().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("event") == "cycle":
            events.append(event)
    return events


def cycles(log: Any) -> int:
    return len(cycle_events(log))


def most_arxiv_in_a_cycle(log: Any, after: int) -> int:
    """The most arXiv requests any one cycle made, of the cycles after the first ``after``."""
    return max((e.get("arxiv_requests", 0) for e in cycle_events(log)[after:]), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = [one_run() for _ in range(args.runs)]
    print(f"6 hashtags + mentions, {args.runs} runs (median, then each run)")
    show(results)
    print("  targets: paged per quiet poll = ceil(6/4) + 1 = 3; arXiv <= 1 a cycle; 0 cached")
    print("paged requests per poll, 6 hashtags + mentions, by server (in process)")
    for flavour, paged_requests in per_flavour().items():
        print(f"  {flavour:<42} {paged_requests:8d}")
    print("one hashtag, 100 posts an hour, poll 60 s, sweep every 300 s over 6 h (simulated)")
    show([sweep_cost() for _ in range(args.runs)])
    print(
        "one remote tag (tag@server), 100 posts an hour with papers, 8 h (simulated; bench.remote)"
    )
    show([remote_cost(8) for _ in range(args.runs)])


def show(results: list[dict[str, float]]) -> None:
    for key in results[0]:
        values = [r[key] for r in results]
        print(
            f"  {key:<42} {statistics.median(values):8.2f}   ({', '.join(f'{v:g}' for v in values)})"
        )


if __name__ == "__main__":
    main()
