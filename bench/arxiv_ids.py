"""How fast papers are found in statuses: a realistic mix, and the worst adversarial cases.

    uv run python bench/arxiv_ids.py [--statuses 20000] [--runs 5]

Prints statuses per second on one core for a mix like a busy hashtag (most statuses have no
arXiv link, some one, a few several) as the median of several runs, and the slowest single
status among adversarial inputs (median of the runs for each). A status is read up to
MAX_CONTENT_CHARS (100 kB), so larger inputs cost no more than that. Figures, not a test: it
never fails on a time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import date

from bot.text.arxiv_links import papers_in_status

TODAY = date(2026, 11, 26)


def link(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return (
        f'<a href="{url}" rel="nofollow noopener" target="_blank"><span class="invisible">{scheme}://'
        f'</span><span class="ellipsis">{rest[:30]}</span><span class="invisible">{rest[30:]}</span></a>'
    )


def tag(name: str) -> str:
    return f'<a href="https://mastodon.example/tags/{name}" class="mention hashtag" rel="tag">#<span>{name}</span></a>'


def mention(name: str) -> str:
    return (
        f'<span class="h-card"><a href="https://mastodon.example/@{name}" class="u-url mention">'
        f"@<span>{name}</span></a></span>"
    )


PROSE = (
    "Had a great time at the workshop today, the talks on optimisation were excellent and the "
    "coffee was even better. Slides will be online soon."
)


def realistic_mix(n: int, rng: random.Random) -> list[str]:
    """80 % no arXiv link (some other link, mentions, hashtags), 15 % one paper, 5 % several."""
    out = []
    for i in range(n):
        roll = rng.random()
        ident = f"{rng.randint(15, 25):02d}{rng.randint(1, 12):02d}.{rng.randint(1, 29999):05d}"
        if roll < 0.8:
            body = f"<p>{mention('bob')} {PROSE} {link('https://example.com/blog/post-' + str(i))} {tag('science')}</p>"
        elif roll < 0.95:
            body = f"<p>New preprint! {link('https://arxiv.org/abs/' + ident + 'v2')} {tag('arxiv')} {tag('ml')}</p>"
        else:
            body = (
                f"<p>Reading list: arXiv:{ident}, {link('https://arxiv.org/pdf/1706.03762v7.pdf')}, "
                f"{link('https://huggingface.co/papers/2504.18412')}<br>and arXiv:hep-th/9711200 {tag('arxiv')}</p>"
            )
        out.append(body)
    return out


ADVERSARIAL: dict[str, Callable[[], str]] = {
    "same link x10,000": lambda: link("https://arxiv.org/abs/2504.18412") * 10_000,
    "100 kB of text with arxiv at the end": lambda: "<p>" + "a" * 99_900 + " arXiv:1706.03762</p>",
    "100 kB of 'arXiv ' words": lambda: "arXiv " * 17_000,
    "nested 5,000 deep": lambda: "<span>" * 5_000 + "arXiv:1706.03762" + "</span>" * 5_000,
    "100 kB of near-ids": lambda: "arXiv:2504.1841 " * 6_000,
    "100 kB of digits and dots": lambda: "arxiv " + "1.2.3.4.5.6.7.8.9." * 5_500,
    "100 kB of '<' and arxiv": lambda: "<arxiv" * 16_000,
    "2,000 different links": lambda: "".join(
        link(f"https://arxiv.org/abs/2504.{n:05d}") for n in range(1, 2_001)
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statuses", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    statuses = realistic_mix(args.statuses, random.Random(42))
    found = sum(1 for s in statuses if papers_in_status(s, TODAY))
    rates = []
    for _ in range(args.runs):
        started = time.perf_counter()
        for status in statuses:
            papers_in_status(status, TODAY)
        rates.append(len(statuses) / (time.perf_counter() - started))
    print(f"realistic mix: {len(statuses)} statuses, {found} with papers")
    print(
        f"  statuses per second: median {statistics.median(rates):,.0f} "
        f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})"
    )
    print("adversarial inputs (median of runs, ms per status):")
    worst = 0.0
    for name, make in ADVERSARIAL.items():
        content = make()
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            refs = papers_in_status(content, TODAY)
            times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"  {name:<40} {len(content) / 1000:7.0f} kB  {median:8.2f} ms  ({len(refs)} papers)")
    print(f"  worst: {worst:.2f} ms")


if __name__ == "__main__":
    main()
