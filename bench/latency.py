"""Answer latency, and what polling costs, with the live streams and without.

    PYTHONPATH=. uv run python -m bench.latency [--intervals 60] [--statuses 20] [--runs 3]
        [--modes stream poll] [--servers mastodon mastodon-sse gotosocial]
        [--cost-seconds 60] [--cost-runs 3]

Latency: for each server, poll interval and mode (``stream``: ``BOT_STREAMING=auto``;
``poll``: ``BOT_STREAMING=off``), the real ``arxiv-bot run`` process watches the server
while hashtag posts and mentions (alternately) linking papers appear at random moments over
about three poll intervals, at least 3 s apart, so that no paper waits behind arXiv's
shipped 3-second gap: what is measured is how the post reaches the bot. Every other setting
is the shipped one. From a status being visible on the server to the bot's reply being
visible: p50, p95 and max per run, and the median of each over the runs.

Servers: ``mastodon``, the fake Mastodon (one WebSocket for every stream); ``mastodon-sse``,
the same behind a proxy that refuses the WebSocket upgrade (server-sent events, one
connection a stream); ``gotosocial``, the real GoToSocial from ``GOTOSOCIAL_BIN`` (one
WebSocket: notifications and its public stream), one server for every run, its ids ULIDs,
whose first 48 bits are the millisecond they were made: the latency is the reply's id time
less the post's. GoToSocial's request limit is raised to 5,000 per 5 minutes there, so that
the benchmark's own requests from the same address (posting, and looking for the replies)
do not spend the bot's 300.

Cost: paged requests (hashtag timelines and notifications with a cursor) per hour, at the
default settings run 60 times faster (poll every 1 s, sweep every 5 s, heartbeats every
0.25 s, a stream dead after 1 s of silence), so a minute of the run is an hour of the bot.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import (
    COMMAND,
    FakeArxiv,
    FakeMastodon,
    bot_env,
    new_data_dir,
    paper_pool,
    percentile,
    post_with_paper,
    run_once,
    server_env,
    start,
    stop,
    wait_until,
)
from tests.real.gotosocial import BINARY, GoToSocial, User, binary

MODES = {"stream": "auto", "poll": "off"}
SERVERS = ("mastodon", "mastodon-sse", "gotosocial")
STREAMS = {
    "mastodon": ("user:notification", "hashtag:arxiv"),
    "mastodon-sse": ("user", "hashtag:arxiv"),
    "gotosocial": ("user:notification", "public"),
}
"""The streams the bot follows on each, as its healthcheck names them."""
ARXIV_GAP = 3.0


def streams_connected(env: dict[str, str], data: Path, streams: tuple[str, ...]) -> bool:
    """What the running bot's healthcheck says (it reads the state file, nothing else)."""
    said = subprocess.run(
        [COMMAND, "healthcheck"], env=env, cwd=data, capture_output=True, text=True, check=False
    ).stdout
    return all(f"{name} connected" in said for name in streams)


@contextmanager
def bot_running(env: dict[str, str], data: Path, streams: tuple[str, ...]) -> Iterator[None]:
    """``arxiv-bot run`` after a first ``run --once``; with streams, once they are open and
    the catch-up poll after their connect is over."""
    run_once(env, data)
    process = start(env, data)
    try:
        if streams:
            wait_until(lambda: streams_connected(env, data, streams), timeout=60, step=0.5)
        time.sleep(1.5)
        yield
    finally:
        stop(process)


def moments(interval: float, statuses: int, rng: random.Random) -> Iterator[None]:
    """Yields at random moments over about three intervals, ``ARXIV_GAP`` apart at least."""
    spread = max(interval * 3 / statuses * 2 - ARXIV_GAP, 0.5)
    for _ in range(statuses):
        time.sleep(ARXIV_GAP + rng.uniform(0, spread))
        yield


def fake_run(
    server: str, interval: float, statuses: int, mode: str, rng: random.Random
) -> list[float]:
    papers = paper_pool(200)
    mastodon, arxiv = FakeMastodon(), FakeArxiv(papers)
    if server == "mastodon-sse":
        mastodon.websocket_refused = (404, "Not Found")  # a proxy that does not upgrade
    data = new_data_dir()
    env = bot_env(mastodon, arxiv, data, BOT_POLL_INTERVAL=str(interval), BOT_STREAMING=MODES[mode])
    try:
        with bot_running(env, data, STREAMS[server] if mode == "stream" else ()):
            posted = []
            for n, _ in enumerate(moments(interval, statuses, rng)):
                author = mastodon.add_account(f"p{rng.randrange(10**9)}")
                paper = papers[n].arxiv_id
                if n % 2:
                    text = f'<p>@bot what is <a href="https://arxiv.org/abs/{paper}">this</a>?</p>'
                    posted.append(mastodon.add_mention(author, text))
                else:
                    posted.append(post_with_paper(mastodon, author, paper))
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


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid_seconds(ulid: str) -> float:
    """When a ULID was made: its first ten characters are the Unix time in milliseconds."""
    ms = 0
    for char in ulid[:10].upper():
        ms = ms * 32 + CROCKFORD.index(char)
    return ms / 1000


class RealGoToSocial:
    """One real server for every run, with the bot's account and ``people`` others: each
    posts at most five times, well within the shipped 10 answers per account per hour."""

    def __init__(self, people: int) -> None:
        executable = binary()
        if executable is None:
            raise SystemExit(f"--servers gotosocial needs the binary in {BINARY}")
        self.gts = GoToSocial(executable, Path(tempfile.mkdtemp(prefix="arxiv-bot-gts-")))
        self.gts.start()
        self.users = self.gts.accounts("bot", *(f"p{i}" for i in range(people)))
        self.people = [u for name, u in self.users.items() if name != "bot"]
        self.posts = 0
        self.bot.call("PATCH", "/api/v1/accounts/update_credentials", bot="true")

    def next_person(self) -> User:
        self.posts += 1
        return self.people[self.posts % len(self.people)]

    @property
    def bot(self) -> User:
        return self.users["bot"]

    def replies(self) -> dict[str, str]:
        """The bot's latest statuses: what each answers, and its id."""
        latest = self.bot.call("GET", f"/api/v1/accounts/{self.bot.id}/statuses?limit=40")
        return {s["in_reply_to_id"]: s["id"] for s in latest if s.get("in_reply_to_id")}

    def close(self) -> None:
        self.gts.stop()


def gotosocial_run(
    gts: RealGoToSocial, interval: float, statuses: int, mode: str, rng: random.Random
) -> list[float]:
    papers = paper_pool(200)
    rng.shuffle(papers)  # new papers each run: none answered from the cache
    arxiv = FakeArxiv(papers)
    data = new_data_dir()
    env = server_env(
        gts.gts.url, gts.bot.token, arxiv, data,
        BOT_POLL_INTERVAL=str(interval), BOT_STREAMING=MODES[mode],
    )  # fmt: skip
    try:
        with bot_running(env, data, STREAMS["gotosocial"] if mode == "stream" else ()):
            posted = []
            for n, _ in enumerate(moments(interval, statuses, rng)):
                link = f"https://arxiv.org/abs/{papers[n].arxiv_id}"
                person = gts.next_person()
                text = f"@bot what is {link} about?" if n % 2 else f"New paper {link} #arxiv"
                posted.append(person.post(text))
            replies: dict[str, str] = {}

            def all_answered() -> bool:
                replies.update(gts.replies())
                return all(s in replies for s in posted)

            wait_until(all_answered, timeout=interval * 3 + 10, step=1.0)
        return [ulid_seconds(replies[s]) - ulid_seconds(s) for s in posted if s in replies]
    finally:
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
        with bot_running(env, data, STREAMS["mastodon"] if mode == "stream" else ()):
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
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=["mastodon"])
    parser.add_argument("--cost-seconds", type=float, default=60.0)
    parser.add_argument("--cost-runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(3)
    print(
        f"{'server':>12} {'interval':>8} {'mode':>6} {'run':>4} {'n':>4} "
        f"{'p50 s':>7} {'p95 s':>7} {'max s':>7}"
    )
    people = -(-len(args.intervals) * len(args.modes) * args.runs * args.statuses // 5)
    gts = RealGoToSocial(people) if "gotosocial" in args.servers and args.runs > 0 else None
    try:
        for server in args.servers if args.runs > 0 else []:
            for interval in args.intervals:
                for mode in args.modes:
                    rows = []
                    for run in range(1, args.runs + 1):
                        if gts is not None and server == "gotosocial":
                            latencies = gotosocial_run(gts, interval, args.statuses, mode, rng)
                        else:
                            latencies = fake_run(server, interval, args.statuses, mode, rng)
                        row = (
                            statistics.median(latencies),
                            percentile(latencies, 0.95),
                            max(latencies),
                        )
                        rows.append(row)
                        print(
                            f"{server:>12} {interval:8g} {mode:>6} {run:4d} {len(latencies):4d} "
                            + " ".join(f"{v:7.2f}" for v in row),
                            flush=True,
                        )
                    medians = [statistics.median(r[i] for r in rows) for i in range(3)]
                    print(
                        f"{server:>12} {interval:8g} {mode:>6} {'med':>4} {'':>4} "
                        + " ".join(f"{v:7.2f}" for v in medians),
                        flush=True,
                    )
    finally:
        if gts is not None:
            gts.close()
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
