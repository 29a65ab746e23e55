"""Serve both fakes on 127.0.0.1 for a manual run, a container smoke test or a benchmark.

    python -m tests.fakes.serve [--seconds N]

Prints the environment that points a bot at them, then, every few seconds, adds a public
#arxiv post linking a paper. Stops by itself after ``--seconds``.
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.fakes.arxiv import FakeArxiv
from tests.fakes.mastodon import TOKEN, FakeMastodon

PAPERS = ("1706.03762", "hep-th/9711200", "2504.18412", "2101.00042")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between new posts")
    args = parser.parse_args()
    mastodon, arxiv = FakeMastodon(), FakeArxiv()
    print(f"MASTODON_BASE_URL={mastodon.url}")
    print(f"MASTODON_ACCESS_TOKEN={TOKEN}")
    print(f"ARXIV_API_URL={arxiv.api_url}")
    print("BOT_HASHTAGS=arxiv", flush=True)
    author = mastodon.add_account("alice", domain="science.example")
    deadline = time.monotonic() + args.seconds
    n = 0
    try:
        while time.monotonic() < deadline:
            time.sleep(args.every)
            paper = PAPERS[n % len(PAPERS)]
            mastodon.add_status(
                author,
                f'<p>Read <a href="https://arxiv.org/abs/{paper}">arxiv.org/abs/{paper}</a> '
                '<a href="https://fake.example/tags/arxiv" class="mention hashtag" rel="tag">#arxiv</a></p>',
                tags=("arxiv",),
            )
            n += 1
            for reply in mastodon.posted()[-1:]:
                print(
                    f"replies so far: {len(mastodon.posted())}; last: {reply.text[:60]!r}",
                    file=sys.stderr,
                )
    finally:
        mastodon.close()
        arxiv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
