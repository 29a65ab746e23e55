"""CPU time of ``arxiv-bot healthcheck``, which a container runs once a minute.

    PYTHONPATH=. uv run python -m bench.healthcheck [--runs 10] [--command PATH]

Makes a healthy state file with one real ``run --once`` against the loopback fakes, then runs
the healthcheck ``--runs`` times and prints the median user+system CPU seconds of the child
(from ``getrusage``), and its wall time. ``--command`` measures another build's console
script (for a before/after), with the same environment.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import time

from bench.harness import COMMAND, FakeArxiv, FakeMastodon, bot_env, new_data_dir


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--command", default=COMMAND)
    args = parser.parse_args()
    mastodon, arxiv = FakeMastodon(), FakeArxiv()
    data = new_data_dir()
    try:
        env = bot_env(mastodon, arxiv, data)
        subprocess.run([args.command, "run", "--once"], env=env, cwd=data, check=True)
        cpu, wall = [], []
        for _ in range(args.runs):
            before, started = child_cpu(), time.perf_counter()
            result = subprocess.run(
                [args.command, "healthcheck"], env=env, cwd=data, capture_output=True, text=True
            )
            wall.append(time.perf_counter() - started)
            cpu.append(child_cpu() - before)
            if result.returncode != 0:
                print(f"healthcheck failed: {result.stdout.strip()} {result.stderr.strip()}")
                return 1
    finally:
        mastodon.close()
        arxiv.close()
    print(f"arxiv-bot healthcheck ({args.command}), {args.runs} runs")
    print(
        f"  CPU s, median    {statistics.median(cpu):.3f}   (min {min(cpu):.3f}, max {max(cpu):.3f})"
    )
    print(f"  wall s, median   {statistics.median(wall):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
