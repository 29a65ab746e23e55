"""Soak: two busy accounts through server errors, an outage and SIGKILLs, at the shipped
settings.

    PYTHONPATH=. uv run python -m bench.soak [--per-account 100] [--seconds 60]
        [--kill-every 6] [--outage 15] [--seed 1] [--streaming auto|off]

Two accounts post ``--per-account`` papers each under #arxiv over ``--seconds`` (one in ten a
late arrival from another server, published right after a post up to 40 earlier, so its id
sorts behind the cursor). The fake Mastodon answers 10 % of requests with a 500 and lets 2 %
hang past the bot's 15-second timeout (half of those after storing what was posted), enforces
Mastodon's 300 paged requests per 15 minutes, and goes down altogether (502) for
``--outage`` seconds in the middle; the fake arXiv throttles 10 % of its answers. The real
``arxiv-bot run`` process is SIGKILLed and started again every ``--kill-every`` seconds
while the posts come, then left to catch up.

Every setting is the shipped one but ``BOT_RATE_PER_ACCOUNT``, raised to 1000: the soak is
about two accounts far busier than the hourly cap allows, and what it measures is that
nothing they post is lost or answered twice while servers fail; the backlog, the post
budget, the pacing, the retry times and the arXiv gap are all as shipped.

Prints: eligible posts, replies, duplicates, missing, what the bot dropped and why, how long
the slowest reply waited (from the post being visible to its reply being visible), arXiv
requests and their smallest gap, Mastodon requests, 429s and the errors served.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.harness import paper_pool, percentile
from tests.fakes.arxiv import RATE_EXCEEDED, FakeArxiv
from tests.fakes.http import Chaos, Response
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.fixtures.papers import ATTENTION

COMMAND = str(Path(sys.executable).with_name("arxiv-bot"))
LIFTED = {"BOT_RATE_PER_ACCOUNT": "1000"}
"""The one setting this soak changes, and names."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-account", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--kill-every", type=float, default=6.0)
    parser.add_argument("--outage", type=float, default=15.0, help="seconds of a full outage")
    parser.add_argument("--late", type=float, default=0.10, help="share of late arrivals")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--streaming", choices=["auto", "off"], default="auto")
    parser.add_argument("--catch-up", type=float, default=1800.0, help="seconds to wait at most")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    papers = paper_pool(400)
    mastodon = FakeMastodon()
    arxiv = FakeArxiv([ATTENTION, *papers])
    mastodon.paged_limit = (300, 900.0)
    chaos = Chaos(
        random.Random(args.seed + 1), 0.10, 0.02, 16.0, Response.json({"error": "oops"}, 500)
    )
    mastodon.chaos = chaos
    arxiv.chaos = Chaos(random.Random(args.seed + 2), 0.10, 0.0, 0.0, RATE_EXCEEDED)
    data = Path(tempfile.mkdtemp(prefix="arxiv-bot-soak-"))
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MASTODON_", "BOT_", "ARXIV_", "LOG_"))
        },
        "MASTODON_BASE_URL": mastodon.url,
        "MASTODON_ACCESS_TOKEN": TOKEN,
        "BOT_HASHTAGS": "arxiv",
        "BOT_DATA_DIR": str(data),
        "BOT_STREAMING": args.streaming,
        "ARXIV_API_URL": arxiv.api_url,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        **LIFTED,
    }
    log = (data / "bot.log").open("w")

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([COMMAND, "run"], env=env, cwd=data, stdout=log, stderr=log)

    # The bot's first cycle begins at "now": let it note where the timeline is first.
    chaos.error_rate, chaos.timeout_rate = 0.0, 0.0
    subprocess.run(
        [COMMAND, "run", "--once"], env=env, cwd=data, stdout=log, stderr=log, check=True
    )
    chaos.error_rate, chaos.timeout_rate = 0.10, 0.02
    ids = [p.arxiv_id for p in papers]
    busy = [mastodon.add_account(f"busy{i}", domain="science.example") for i in range(2)]
    remote = mastodon.add_account("far", domain="far.example")
    eligible: list[int] = []
    late: list[int] = []
    kills = exits = 0
    total = 2 * args.per_account
    outage_from = args.seconds / 2 - args.outage / 2
    started = time.monotonic()
    process = start()
    next_kill = started + args.kill_every
    down = False
    try:
        for n in range(total):
            due = started + args.seconds * n / total
            while time.monotonic() < due:
                time.sleep(0.02)
            now = time.monotonic() - started
            outage = outage_from <= now < outage_from + args.outage
            if outage != down:
                down = outage
                chaos.error_rate = 1.0 if down else 0.10
                chaos.error = Response.json({"error": "Bad Gateway"}, 502 if down else 500)
            if rng.random() < args.late and eligible:
                after = rng.choice(eligible[-40:])
                author = remote
            else:
                after, author = None, busy[n % 2]
            arxiv_id = ids[n % len(ids)]
            body = f'<p>New: <a href="https://arxiv.org/abs/{arxiv_id}">arxiv.org/abs/{arxiv_id}</a> #arxiv</p>'
            status = mastodon.add_status(author, body, tags=("arxiv",), published_after=after)
            eligible.append(status)
            if after is not None:
                late.append(status)
            if time.monotonic() >= next_kill:
                if process.poll() is not None:
                    exits += 1
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
                process = start()
                next_kill = time.monotonic() + args.kill_every
        chaos.error_rate, chaos.error = 0.10, Response.json({"error": "oops"}, 500)
        deadline = time.monotonic() + args.catch_up
        while time.monotonic() < deadline:
            answered = {p.in_reply_to_id for p in mastodon.posted()}
            if all(s in answered for s in eligible):
                break
            time.sleep(2)
        settled = time.monotonic()
        # A few minutes more at the shipped sweep pace: anything answered twice shows now.
        while time.monotonic() - settled < 330:
            time.sleep(5)
        if process.poll() is not None:
            exits += 1
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        elapsed = time.monotonic() - started
        mastodon.close()
        arxiv.close()
        log.close()

    report(args, mastodon, arxiv, data, eligible, late, kills, exits, elapsed)


def report(
    args: argparse.Namespace,
    mastodon: FakeMastodon,
    arxiv: FakeArxiv,
    data: Path,
    eligible: list[int],
    late: list[int],
    kills: int,
    exits: int,
    elapsed: float,
) -> None:
    posted = mastodon.posted()
    direct = Counter(p.in_reply_to_id for p in posted)
    first_reply: dict[int | None, float] = {}
    for p in posted:
        first_reply.setdefault(p.in_reply_to_id, p.created)
    duplicates = sum(direct[s] - 1 for s in eligible if direct[s] > 1)
    missing = [s for s in eligible if direct[s] == 0]
    waits = sorted(first_reply[s] - mastodon.statuses[s].created for s in eligible if direct[s])
    events = [
        json.loads(x) for x in (data / "bot.log").read_text().splitlines() if x.startswith("{")
    ]
    dropped = Counter(e["reason"] for e in events if e["event"] == "status_dropped")
    dropped += Counter(
        e["reason"] for e in events if e["event"] in ("status_skipped", "mention_skipped")
    )
    times = sorted(r.at for r in arxiv.requests)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    chaos = mastodon.chaos
    print(
        f"posts: {len(eligible)} by 2 accounts over {args.seconds:g} s ({len(late)} late arrivals), "
        f"{kills} SIGKILLs and restarts, a {args.outage:g} s outage, {elapsed:.0f} s in all"
    )
    print(f"settings: shipped, but {', '.join(f'{k}={v}' for k, v in LIFTED.items())}")
    print(
        f"replies: {len(posted)}; duplicates: {duplicates}; missing: {len(missing)}; "
        f"dropped by the bot: {dict(dropped) or 'none'}; exits of its own: {exits}"
    )
    if waits:
        print(
            f"wait from post to reply: median {statistics.median(waits):.1f} s, "
            f"p95 {percentile(waits, 0.95):.1f} s, slowest {waits[-1]:.1f} s"
        )
    print(
        f"arXiv requests: {len(arxiv.requests)}, smallest gap {min(gaps) if gaps else float('nan'):.2f} s"
        f" (shipped 3 s); throttled answers served: {arxiv.chaos.errors if arxiv.chaos else 0}"
    )
    paged = sum(1 for r in mastodon.requests if {"min_id", "max_id", "since_id"} & set(r.query))
    print(
        f"Mastodon requests: {len(mastodon.requests)} ({paged} paged), 429s: {mastodon.throttled}, "
        f"errors served: {chaos.errors if chaos else 0}, hung past the timeout: "
        f"{chaos.timeouts if chaos else 0}; live streams: {len(mastodon.streaming.connects)} connects"
    )
    print(f"bot log: {data / 'bot.log'}")


if __name__ == "__main__":
    main()
