"""How good and how fast the extractive summaries are, on the SciTLDR-A dev split.

    uv run python bench/summary.py [--data ../shared/scitldr/dev.jsonl] [--budget 300]

For each abstract: the bot's summary within ``--budget`` characters (300 is what a stock
500-character Mastodon server leaves after the mention, title, authors, metadata line and
link of a typical reply), the first sentence, and the abstract cut to the same number of
characters as the bot's summary. Each is scored with ROUGE-1/2/L F1 (``rouge-score``,
stemmed) against every human TLDR of the paper, keeping the best, and the mean is printed.
Then the median time to summarise and compose one paper. Figures, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from rouge_score import rouge_scorer

from bot.compose import compose_thread
from bot.models import Paper, PaperRef, ServerLimits
from bot.summary import key_sentence, sentences, summarise

METRICS = ("rouge1", "rouge2", "rougeL")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/scitldr/dev.jsonl"))
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5, help="timing runs over the whole split")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)

    def best(prediction: str, targets: list[str]) -> dict[str, float]:
        scores = [scorer.score(t, prediction) for t in targets]
        return {m: max(s[m].fmeasure for s in scores) for m in METRICS}

    systems: dict[str, list[dict[str, float]]] = {
        "bot (extractive)": [],
        "first sentence": [],
        "abstract cut to same length": [],
    }
    lengths = []
    for row in rows:
        abstract = " ".join(row["source"])
        ours = summarise(abstract, args.budget)
        lengths.append(len(ours))
        systems["bot (extractive)"].append(best(ours, row["target"]))
        systems["first sentence"].append(best(sentences(abstract)[0], row["target"]))
        systems["abstract cut to same length"].append(best(abstract[: len(ours)], row["target"]))

    print(f"SciTLDR-A dev: {len(rows)} abstracts, summary budget {args.budget} characters")
    print(f"median summary length: {statistics.median(lengths):.0f} characters")
    print(f"{'system':<30} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8}")
    for name, scores in systems.items():
        means = [100 * statistics.mean(s[m] for s in scores) for m in METRICS]
        print(f"{name:<30} " + " ".join(f"{v:8.1f}" for v in means))

    when = datetime(2020, 1, 1, tzinfo=UTC)
    papers = [
        Paper(f"2001.{i + 1:05d}", 1, "A Title of Ordinary Length for a Paper", ("A. Author", "B. Author", "C. Author", "D. Author"),
              " ".join(row["source"]), "cs.LG", when, when)
        for i, row in enumerate(rows)
    ]  # fmt: skip
    limits = ServerLimits()
    per_paper = []
    for _ in range(args.runs):
        started = time.perf_counter()
        for paper in papers:
            compose_thread([(PaperRef(paper.arxiv_id), paper)], limits, "@someone")
        per_paper.append((time.perf_counter() - started) / len(papers) * 1000)
    print(
        f"summarise + compose one paper (500-character server): median {statistics.median(per_paper):.2f} ms "
        f"(runs: {', '.join(f'{t:.2f}' for t in per_paper)})"
    )
    sample = rows[0]
    print("\nexample:", key_sentence(" ".join(sample["source"])))
    print("human:  ", sample["target"][0])


if __name__ == "__main__":
    main()
