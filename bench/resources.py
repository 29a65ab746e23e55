"""CPU and memory of the real bot process.

    PYTHONPATH=. uv run python -m bench.resources [--statuses 10000] [--rate 100] [--runs 3]
        [--transport websocket|sse|off]

Starts ``arxiv-bot run`` against the fakes at the shipped settings (live streams on, polls
every 60 s), lets it idle, then feeds it ``--statuses`` public statuses under its hashtag,
``--rate`` a second, of which 250 link a paper (within the shipped 300 posts per 3 hours,
each from another account) and the rest are ordinary posts; waits until every linked one is
answered, and idles again. Prints CPU seconds per 1,000 statuses processed (from the first
status to the last reply, and how much of that idling alone would cost, from 30 s of idle
before), and resident memory when idle before, right after, and idle after the run (from
/proc). Targets: under 1 CPU second per 1,000 statuses; idle RSS under 80 MB and no growth
after the run.

``--transport``: ``websocket`` (shipped: the fake Mastodon's one WebSocket), ``sse`` (the
fake refuses the WebSocket upgrade as a proxy would: server-sent events, no setting
changed) or ``off`` (``BOT_STREAMING=off``, the one setting changed: polling only).
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
    cpu_seconds,
    new_data_dir,
    paper_pool,
    post_with_paper,
    rss_mb,
    run_once,
    start,
    stop,
    wait_until,
)

PLAIN = (
    '<p>Lovely talk today on <a href="https://example.com/slides">example.com/slides</a>, '
    'thanks <span class="h-card"><a href="https://fake.example/@bob" class="u-url mention">'
    '@<span>bob</span></a></span> <a href="https://fake.example/tags/arxiv" class="mention hashtag" '
    'rel="tag">#<span>arxiv</span></a></p>'
)


LINKED = 250
IDLE_SECONDS = 30.0


def one_run(statuses: int, rate: float, transport: str, rng: random.Random) -> dict[str, float]:
    papers = paper_pool(500)
    mastodon, arxiv = FakeMastodon(), FakeArxiv(papers)
    if transport == "sse":
        mastodon.websocket_refused = (404, "Not Found")
    data = new_data_dir()
    env = bot_env(mastodon, arxiv, data, **({"BOT_STREAMING": "off"} if transport == "off" else {}))
    try:
        run_once(env, data)
        process = start(env, data)
        try:
            time.sleep(5)
            idle_cpu = cpu_seconds(process.pid)
            time.sleep(IDLE_SECONDS)  # what idling costs: the streams' pings, polls, sweeps
            idle_per_minute = (cpu_seconds(process.pid) - idle_cpu) / IDLE_SECONDS * 60
            idle_before = rss_mb(process.pid)
            cpu_before = cpu_seconds(process.pid)
            linked: list[int] = []
            accounts = [mastodon.add_account(f"user{i}") for i in range(LINKED)]
            links = set(rng.sample(range(statuses), LINKED))
            began = time.monotonic()

            def all_answered() -> bool:
                answered = {p.in_reply_to_id for p in mastodon.posted()}
                return all(s in answered for s in linked)

            after_half = 0.0
            for half in (1, 2):  # two halves: growth after warm-up would show between them
                for i in range((half - 1) * statuses // 2, half * statuses // 2):
                    while time.monotonic() < began + i / rate:
                        time.sleep(0.005)
                    author = accounts[i % len(accounts)]
                    if i in links:
                        author = accounts[len(linked)]
                        linked.append(
                            post_with_paper(mastodon, author, rng.choice(papers).arxiv_id)
                        )
                    else:
                        mastodon.add_status(author, PLAIN, tags=("arxiv",))
                done = wait_until(all_answered, 600, 0.5)
                if half == 1:
                    after_half = rss_mb(process.pid)
            cpu_used = cpu_seconds(process.pid) - cpu_before
            took = time.monotonic() - began
            after = rss_mb(process.pid)
            time.sleep(10)
            idle_after = rss_mb(process.pid)
        finally:
            stop(process)
        return {
            "CPU s per 1,000 statuses": cpu_used / statuses * 1000,
            "  of it idling": idle_per_minute * took / 60 / statuses * 1000,
            "idle CPU s per minute": idle_per_minute,
            "s until all answered": took,
            "idle RSS before, MB": idle_before,
            "RSS after half, MB": after_half,
            "RSS right after, MB": after,
            "idle RSS after, MB": idle_after,
            "all answered": float(done),
            "replies": float(len(mastodon.posted())),
            "stream connects": float(len(mastodon.streaming.connects)),
        }
    finally:
        mastodon.close()
        arxiv.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statuses", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="statuses a second")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transport", choices=["websocket", "sse", "off"], default="websocket")
    args = parser.parse_args()
    rng = random.Random(5)
    results = [one_run(args.statuses, args.rate, args.transport, rng) for _ in range(args.runs)]
    changed = "BOT_STREAMING=off" if args.transport == "off" else "none"
    print(
        f"{args.statuses} statuses ({LINKED} with a paper), {args.rate:g} a second, streams: "
        f"{args.transport}; settings shipped, changed: {changed}; {args.runs} runs (median, "
        "then each run)"
    )
    for key in results[0]:
        values = [r[key] for r in results]
        print(
            f"  {key:<28} {statistics.median(values):8.2f}   ({', '.join(f'{v:.2f}' for v in values)})"
        )


if __name__ == "__main__":
    main()
