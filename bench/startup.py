"""Start time and image size.

    uv run python bench/startup.py [--runs 5] [--image localhost/arxiv-bot:bench]

Start: time from spawning ``arxiv-bot run`` to its first request reaching the fake Mastodon,
median of several runs. Size: with ``--image``, builds the Dockerfile with
``../shared/container/build-image.sh`` (needs root and buildah) and prints the image's size
and what it adds to its base (the stand-in ``python:3.13-slim``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from bench.harness import COMMAND, FakeArxiv, FakeMastodon, bot_env, new_data_dir, stop, wait_until

BUILD = Path(__file__).resolve().parent.parent.parent / "shared" / "container" / "build-image.sh"


def first_request_seconds() -> float:
    mastodon, arxiv = FakeMastodon(), FakeArxiv()
    data = new_data_dir()
    try:
        env = bot_env(mastodon, arxiv, data, BOT_POLL_INTERVAL="60")
        started = time.monotonic()
        process = subprocess.Popen(
            [COMMAND, "run"],
            env=env,
            cwd=data,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: bool(mastodon.requests), timeout=30, step=0.002)
            return mastodon.requests[0].at - started
        finally:
            stop(process)
    finally:
        mastodon.close()
        arxiv.close()


def size_mb(image: str) -> float:
    out = subprocess.run([str(BUILD), "--size", image], capture_output=True, text=True, check=True)
    value = out.stdout.strip().split()[0]
    number = float("".join(c for c in value if c.isdigit() or c == "."))
    unit = value.lstrip("0123456789.").upper() or "MB"
    return number * {"KB": 1 / 1000, "MB": 1, "GB": 1000}.get(unit, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image", help="build and measure this image tag")
    args = parser.parse_args()
    times = [first_request_seconds() for _ in range(args.runs)]
    print(
        f"arxiv-bot run -> first request: median {statistics.median(times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
    )
    if args.image:
        root = Path(__file__).resolve().parent.parent
        subprocess.run([str(BUILD), args.image], cwd=root, check=True, capture_output=True)
        image, base = size_mb(args.image), size_mb("python:3.13-slim")
        print(
            f"image {args.image}: {image:.0f} MB; base python:3.13-slim stand-in: {base:.0f} MB; "
            f"the project adds {image - base:.0f} MB"
        )


if __name__ == "__main__":
    main()
