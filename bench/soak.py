"""Soak: thousands of statuses through the loopback fakes with faults, kills and restarts.

    uv run python bench/soak.py [--statuses 2000] [--kill-every 300] [--seed 1]

The real ``arxiv-bot run`` process polls a fake Mastodon that answers 10 % of requests with a
server error and lets 5 % time out (half of those after storing what was posted), enforces
Mastodon's paged-request limit (scaled to a 300-request, 90-second window so a short run
feels it) with 429s, and a fake arXiv that throttles 10 % of its answers (``Rate exceeded.``)
and fails 5 % with 503. ``--late`` of the statuses arrive late: published right after a
status up to 40 statuses earlier (Mastodon then gives them an older id, behind the cursor).
``--forbidden`` of the statuses are mentions of the bot under a post it may not read (403).
The bot is SIGKILLed and restarted every ``--kill-every`` statuses; any exit of its own is
counted.
When all statuses are in, it waits for the bot to catch up, then prints: eligible statuses,
replies, duplicates, missing, arXiv requests and their smallest gap, Mastodon requests and
429s. Not part of the test run; it takes a few minutes.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.harness import paper_pool
from tests.fakes.arxiv import RATE_EXCEEDED, FakeArxiv
from tests.fakes.http import Chaos, Response
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.fixtures.papers import ATTENTION

COMMAND = str(Path(sys.executable).with_name("arxiv-bot"))


def status_html(rng: random.Random, ids: list[str]) -> tuple[str, bool]:
    """A status like a busy #arxiv feed: mostly one paper, some several, some none."""
    roll = rng.random()
    if roll < 0.10:
        return "<p>What a week. No paper today. #arxiv</p>", False
    count = 1 if roll < 0.85 else rng.randint(2, 3)
    links = " ".join(
        f'<a href="https://arxiv.org/abs/{i}">arxiv.org/abs/{i}</a>' for i in rng.sample(ids, count)
    )
    return f"<p>Reading {links} #arxiv</p>", True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statuses", type=int, default=2000)
    parser.add_argument("--kill-every", type=int, default=300)
    parser.add_argument("--rate", type=float, default=25.0, help="new statuses per second")
    parser.add_argument("--arxiv-delay", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--late", type=float, default=0.10, help="share of late arrivals")
    parser.add_argument("--streaming", choices=["auto", "off"], default="auto")
    parser.add_argument(
        "--forbidden", type=float, default=0.02, help="share of mentions under forbidden posts"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    papers = paper_pool(400)
    mastodon = FakeMastodon()
    arxiv = FakeArxiv([ATTENTION, *papers])
    mastodon.paged_limit = (300, 90.0)
    mastodon.chaos = Chaos(
        random.Random(args.seed + 1), 0.10, 0.05, 1.2, Response.json({"error": "oops"}, 500)
    )
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
        "MASTODON_TIMEOUT": "1",
        "BOT_HASHTAGS": "arxiv",
        "BOT_POLL_INTERVAL": "0.25",
        "BOT_DATA_DIR": str(data),
        "BOT_RETRY_BASE_SECONDS": "0.5",
        "BOT_RETRY_MAX_SECONDS": "4",
        "BOT_MAX_PAPERS_PER_POST": "3",
        "BOT_RATE_PER_ACCOUNT": "1000",
        "BOT_BACKLOG_PER_ACCOUNT": "1000",
        "BOT_POSTS_PER_3H": "100000",
        "BOT_POST_GAP_SECONDS": "0",
        "BOT_SWEEP_SECONDS": "3",
        "BOT_STREAMING": args.streaming,
        "ARXIV_API_URL": arxiv.api_url,
        "ARXIV_DELAY_SECONDS": str(args.arxiv_delay),
        "ARXIV_TIMEOUT": "5",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
    }
    log = (data / "bot.log").open("w")

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([COMMAND, "run"], env=env, cwd=data, stdout=log, stderr=log)

    # The bot's first cycle begins at "now"; let it note where the timeline is first (a
    # cycle the chaos disturbed exits 1 and is run again).
    first = subprocess.run(
        [COMMAND, "run", "--once"], env=env, cwd=data, stdout=log, stderr=log, check=False
    )
    while first.returncode != 0:  # the chaos may fail that first cycle too
        first = subprocess.run(
            [COMMAND, "run", "--once"], env=env, cwd=data, stdout=log, stderr=log, check=False
        )
    ids = [p.arxiv_id for p in papers]
    people = [mastodon.add_account(f"reader{i}", domain="science.example") for i in range(300)]
    eligible: list[int] = []
    recent: list[int] = []
    late: list[int] = []
    forbidden_mentions: list[int] = []
    kills = exits = 0
    started = time.monotonic()
    process = start()
    try:
        for n in range(1, args.statuses + 1):
            author = people[n % len(people)]
            roll = rng.random()
            if roll < args.forbidden:
                hidden = mastodon.add_status(author, "<p>followers only</p>", visibility="private")
                mastodon.forbidden.add(hidden)
                forbidden_mentions.append(
                    mastodon.add_mention(
                        people[(n + 1) % len(people)], "summary?", in_reply_to_id=hidden
                    )
                )
                status, has_paper = None, False
            else:
                body, has_paper = status_html(rng, ids)
                after = (
                    rng.choice(recent[-40:])
                    if recent and roll < args.forbidden + args.late
                    else None
                )
                status = mastodon.add_status(author, body, tags=("arxiv",), published_after=after)
                recent.append(status)
                if after is not None and has_paper:
                    late.append(status)
            if has_paper and status is not None:
                eligible.append(status)
            if n % args.kill_every == 0:
                time.sleep(rng.uniform(0, 1))
                if process.poll() is not None:
                    exits += 1
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
                process = start()
            time.sleep(1 / args.rate)
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            answered = {p.in_reply_to_id for p in mastodon.posted()}
            if all(s in answered for s in eligible):
                break
            time.sleep(2)
        time.sleep(5)  # a few more sweeps: anything answered twice would show now
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

    direct = Counter(p.in_reply_to_id for p in mastodon.posted())
    eligible_set = set(eligible)
    duplicates = sum(c - 1 for s, c in direct.items() if s in eligible_set and c > 1)
    missing = sum(1 for s in eligible if direct[s] == 0)
    stray = sum(
        c
        for s, c in direct.items()
        if s not in eligible_set and s not in {p.id for p in mastodon.posted()}
    )
    late_answered = sum(1 for s in late if direct[s])
    forbidden_answered = sum(1 for s in forbidden_mentions if direct[s])
    times = sorted(r.at for r in arxiv.requests)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    paged = sum(1 for r in mastodon.requests if {"min_id", "max_id", "since_id"} & set(r.query))
    print(
        f"statuses: {args.statuses}, eligible: {len(eligible)}, kills and restarts: {kills}, {elapsed:.0f} s"
    )
    print(
        f"replies posted: {len(mastodon.posted())} (first posts on eligible statuses: {sum(1 for s in eligible if direct[s])})"
    )
    print(f"duplicates: {duplicates}, missing: {missing}, replies to ineligible statuses: {stray}")
    print(
        f"late arrivals with papers: {len(late)}, answered: {late_answered}; "
        f"mentions under forbidden posts: {len(forbidden_mentions)}, answered: {forbidden_answered}; "
        f"exits of its own: {exits}"
    )
    print(
        f"arXiv requests: {len(arxiv.requests)}, smallest gap: {min(gaps) if gaps else float('nan'):.3f} s "
        f"(setting {args.arxiv_delay} s); throttled answers served: {arxiv.chaos.errors if arxiv.chaos else 0}"
    )
    chaos = mastodon.chaos
    print(
        f"Mastodon requests: {len(mastodon.requests)} ({paged} paged), 429s: {mastodon.throttled}, "
        f"server errors served: {chaos.errors if chaos else 0}, timeouts served: {chaos.timeouts if chaos else 0}"
    )
    print(
        f"live streams (BOT_STREAMING={env.get('BOT_STREAMING', 'auto')}): "
        f"{len(mastodon.streaming.connects)} connects"
    )
    print(f"bot log: {data / 'bot.log'}")


if __name__ == "__main__":
    main()
