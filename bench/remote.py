"""Beyond the bot's own server: how many posts it reaches through remote tags, and what a
remote tag costs.

    PYTHONPATH=. uv run python -m bench.remote [--runs 3] [--hours 2]

Three loopback fakes: the bot's own server (``home.example``) and two others
(``sigmoid.example``, ``science.example``), each with ids of its own. The bot in process on
a simulated clock, one cycle a minute (the shipped ``BOT_POLL_INTERVAL=60``), every setting
shipped but the one measured: ``BOT_HASHTAGS=arxiv,arxiv@<sigmoid>,arxiv@<science>``. The
wait between two posts (``BOT_POST_GAP_SECONDS``) passes on the simulated clock.

Traffic, for ``--hours``: 100 posts an hour under #arxiv on the two other servers together
(60 on sigmoid, 40 on science), each linking a paper, each by an account of its own (so no
hourly cap holds one back); the home server federates one in three of sigmoid's (someone
there follows their authors) and none of science's; and 10 an hour by home's own users.
Then an hour more without new posts, for what is in flight to be answered.

Cost (``--cost-hours``, default 8): one remote tag alone
(``BOT_HASHTAGS=arxiv@<sigmoid>``) with 100 posts an hour linking papers, none of them on the
home server, for 8 simulated hours (so the sweeps over the shipped 6-hour lookback reach
their steady size); the requests of the last hour, to that server (live reads, sweeps) and
to the home server (searches).

Printed, per run and as the median of the runs: the posts eligible (every post above), the
ones answered exactly once, twice or more (duplicates) and never (missing); of those answered,
the share the home server did not know until the bot resolved them (visible only on the
other servers); searches on the home server per post found elsewhere; and the requests an
hour each remote tag costs its server (live reads and sweeps) and the home server (searches).
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter

from pydantic import SecretStr

from bench.harness import (
    FakeArxiv,
    FakeMastodon,
    SimulatedClock,
    new_data_dir,
    paper_pool,
    post_with_paper,
)
from bot.app import built
from bot.config import Settings
from bot.logs import configure_logging
from tests.fakes.mastodon import TOKEN


def shipped(home: FakeMastodon, arxiv: FakeArxiv, *hashtags: str) -> Settings:
    """The shipped settings, but the hashtags (the setting measured)."""
    configure_logging(level="WARNING")
    return Settings(  # type: ignore[call-arg]  # pydantic-settings takes init values
        _env_file=None,
        mastodon_base_url=home.url,
        mastodon_access_token=SecretStr(TOKEN),
        bot_hashtags=hashtags,
        bot_data_dir=new_data_dir(),
        arxiv_api_url=arxiv.api_url,
        log_level="WARNING",
    )


def tag_reads(server: FakeMastodon) -> int:
    return server.count("GET", "/api/v1/timelines/tag/")


def one_run(hours: int) -> dict[str, float]:
    papers = paper_pool(40)
    home = FakeMastodon(domain="home.example")
    sigmoid = FakeMastodon(domain="sigmoid.example", first_id=109_000_000_000_000_000)
    science = FakeMastodon(domain="science.example", first_id=110_500_000_000_000_000)
    for remote in (sigmoid, science):
        home.peers[remote.domain] = remote
    arxiv = FakeArxiv(papers)
    clock = SimulatedClock()
    settings = shipped(home, arxiv, "arxiv", f"arxiv@{sigmoid.url}", f"arxiv@{science.url}")
    posted: list[tuple[FakeMastodon, int]] = []
    federated: set[int] = set()
    n = 0
    try:
        with built(settings, clock=clock, wait=clock.wait) as bot:
            bot.cycle.run_cycle()  # first start: every cursor at now
            due = {"sigmoid": 0.0, "science": 0.0, "home": 0.0}
            rates = {"sigmoid": 60, "science": 40, "home": 10}
            servers = {"sigmoid": sigmoid, "science": science, "home": home}
            reads_at_start = {name: tag_reads(servers[name]) for name in ("sigmoid", "science")}
            searches_at_start = home.count("GET", "/api/v2/search")
            for minute in range((hours + 1) * 60):
                if minute < hours * 60:
                    for name, rate in rates.items():
                        due[name] += rate / 60
                        while due[name] >= 1:
                            due[name] -= 1
                            n += 1
                            server = servers[name]
                            author = server.add_account(f"{name}{n}")
                            paper = papers[n % len(papers)].arxiv_id
                            status = post_with_paper(server, author, paper)
                            posted.append((server, status))
                            if name == "sigmoid" and n % 3 == 0:
                                copy = home.federate(sigmoid, status)
                                assert copy is not None
                                federated.add(copy)
                bot.cycle.run_cycle()
                clock.seconds += 60
            reads = {
                name: tag_reads(servers[name]) - reads_at_start[name] for name in reads_at_start
            }
            searches = home.count("GET", "/api/v2/search") - searches_at_start
    finally:
        for server in (home, sigmoid, science):
            server.close()
        arxiv.close()
    replies = Counter(r.in_reply_to_id for r in home.posted())
    home_ids = [
        status if server is home else home.copy_of(server, status) for server, status in posted
    ]
    answered = [i for i in home_ids if i is not None and replies[i] >= 1]
    remote_only = [
        i for (server, _), i in zip(posted, home_ids, strict=True)
        if server is not home and i is not None and i not in federated and replies[i] >= 1
    ]  # fmt: skip
    found_elsewhere = sum(1 for server, _ in posted if server is not home)
    elapsed_hours = hours + 1
    return {
        "eligible posts": len(posted),
        "answered once": sum(1 for i in answered if replies[i] == 1),
        "answered twice or more": sum(1 for i in answered if replies[i] > 1),
        "never answered": len(posted) - len(answered),
        "answered, visible only elsewhere (%)": 100 * len(remote_only) / max(len(answered), 1),
        "home searches per post found elsewhere": searches / max(found_elsewhere, 1),
        "sigmoid tag reads per hour": reads["sigmoid"] / elapsed_hours,
        "science tag reads per hour": reads["science"] / elapsed_hours,
        "home searches per hour": searches / elapsed_hours,
    }


def cost_run(hours: int, per_hour: int = 100) -> dict[str, float]:
    papers = paper_pool(40)
    home = FakeMastodon(domain="home.example")
    sigmoid = FakeMastodon(domain="sigmoid.example", first_id=109_000_000_000_000_000)
    home.peers[sigmoid.domain] = sigmoid
    arxiv = FakeArxiv(papers)
    clock = SimulatedClock()
    settings = shipped(home, arxiv, f"arxiv@{sigmoid.url}")
    per_cycle: list[tuple[int, int, bool]] = []
    due, n = 0.0, 0
    try:
        with built(settings, clock=clock, wait=clock.wait) as bot:
            bot.cycle.run_cycle()
            for _ in range(hours * 60):
                due += per_hour / 60
                while due >= 1:
                    due -= 1
                    n += 1
                    author = sigmoid.add_account(f"reader{n}")
                    post_with_paper(sigmoid, author, papers[n % len(papers)].arxiv_id)
                reads, searches = tag_reads(sigmoid), home.count("GET", "/api/v2/search")
                report = bot.cycle.run_cycle()
                per_cycle.append(
                    (
                        tag_reads(sigmoid) - reads,
                        home.count("GET", "/api/v2/search") - searches,
                        report.swept > 0,
                    )
                )
                clock.seconds += 60
    finally:
        for server in (home, sigmoid):
            server.close()
        arxiv.close()
    last = per_cycle[-60:]
    return {
        "remote tag requests, last hour": sum(r for r, _, _ in last),
        "of them sweeps": sum(r - 1 for r, _, swept in last if swept and r > 0),
        "home searches, last hour": sum(s for _, s, _ in last),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hours", type=int, default=2)
    parser.add_argument("--cost-hours", type=int, default=8)
    args = parser.parse_args()
    print(f"two remote servers, a home that federates part of them, {args.hours} h of posts:")
    show([one_run(args.hours) for _ in range(args.runs)])
    print(f"\none remote tag alone, 100 posts an hour, {args.cost_hours} h (the last hour):")
    show([cost_run(args.cost_hours) for _ in range(args.runs)])


def show(runs: list[dict[str, float]]) -> None:
    for name in runs[0]:
        values = [r[name] for r in runs]
        shown = ", ".join(f"{v:g}" if v == int(v) else f"{v:.2f}" for v in values)
        print(f"{name:<42} median {statistics.median(values):8.2f}   (runs: {shown})")


if __name__ == "__main__":
    main()
