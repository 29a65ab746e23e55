"""Train the key-sentence model on SciTLDR-A train, choose its settings on dev, write it.

    PYTHONPATH=. uv run python -m bench.train_summary [--data ../shared/scitldr] [--write]

The model is a linear score over :data:`bot.summary.FEATURES`, fitted as a softmax over each
abstract's sentences (listwise: the sentences of one abstract compete) towards the sentence
that scores best against the paper's TLDR (``rouge_scores`` in the split, sharpened by a
temperature). Gradient descent from zero with a fixed number of steps, so the same data give
the same weights. Three settings are chosen on dev by the bot's real choice within a
300-character budget, scored with ROUGE against the human TLDRs: the L2 penalty and the
temperature. ``--write`` stores the winner in ``bot/text/sentence_model.json`` (a few hundred
bytes); numpy is needed here only, never at run time.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rouge_score import rouge_scorer

from bot.text.sentence_model import FEATURES, MODEL_FILE, SentenceModel, sentence_features
from bot.text.summary import key_within, sentences, standalone

BUDGET = 300
STEPS = 20
PENALTIES = (0.001, 0.01, 0.1)
TEMPERATURES = (0.05, 0.1)
MARGINS = (0.0, 0.5, 1.5)


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def training_set(
    rows: list[dict[str, Any]], scorer: Any
) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Per abstract: the features of its sentences, and how well each (as the bot would show
    it) matches the TLDR: the mean of its ROUGE-1/2/L F1, the measure the model is judged by."""
    out = []
    for row in rows:
        found = row["source"]
        if len(found) < 2:
            continue  # one sentence teaches nothing about choosing
        x = np.array(sentence_features(found, row["title"]))
        y = [_mean_f1(scorer, row["target"], standalone(s)) for s in found]
        out.append((x, np.array(y)))
    return out


def _mean_f1(scorer: Any, targets: list[str], text: str) -> float:
    return max(
        float(statistics.mean(v.fmeasure for v in scorer.score(t, text).values())) for t in targets
    )


def fit(
    data: list[tuple[NDArray[np.float64], NDArray[np.float64]]], penalty: float, temperature: float
) -> NDArray[np.float64]:
    x = np.vstack([f for f, _ in data])
    starts = np.cumsum([0] + [len(y) for _, y in data[:-1]])
    group = np.repeat(np.arange(len(data)), [len(y) for _, y in data])
    target = np.concatenate([_softmax(y / temperature) for _, y in data])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    x = (x - mean) / scale
    w = np.zeros(x.shape[1])
    for _ in range(STEPS):  # Newton's method: the loss is convex, a few steps reach its minimum
        z = x @ w
        e = np.exp(z - np.maximum.reduceat(z, starts)[group])
        p = e / np.add.reduceat(e, starts)[group]
        gradient = x.T @ (p - target) / len(data) + penalty * w
        mean_x = np.add.reduceat(x * p[:, None], starts)[group]  # each group's expected features
        centred = (x - mean_x) * np.sqrt(p)[:, None]
        hessian = centred.T @ centred / len(data) + penalty * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    # A per-feature shift only adds a constant to each sentence's score: softmax ignores it.
    unscaled: NDArray[np.float64] = w / scale
    return unscaled


def _softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    e = np.exp(z - z.max())
    return e / e.sum()  # type: ignore[no-any-return]


def dev_rouge(rows: list[dict[str, Any]], model: SentenceModel, scorer: Any) -> dict[str, float]:
    totals: dict[str, list[float]] = {m: [] for m in ("rouge1", "rouge2", "rougeL")}
    for row in rows:
        abstract = " ".join(row["source"])
        pick = key_within(sentences(abstract), row["title"], BUDGET, len, model)[1]
        scores = [scorer.score(t, pick) for t in row["target"]]
        for m, values in totals.items():
            values.append(max(s[m].fmeasure for s in scores))
    return {m: 100 * statistics.mean(v) for m, v in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/scitldr"))
    parser.add_argument("--write", action="store_true", help="store the chosen model in bot/")
    args = parser.parse_args()
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    train = training_set(read(args.data / "train.jsonl"), scorer)
    dev = read(args.data / "dev.jsonl")
    print(
        f"train: {len(train)} abstracts, {sum(len(y) for _, y in train)} sentences; dev: {len(dev)}"
    )
    best: tuple[float, float, float, SentenceModel] | None = None
    for penalty in PENALTIES:
        for temperature in TEMPERATURES:
            weights = tuple(round(float(w), 4) for w in fit(train, penalty, temperature))
            for margin in MARGINS:
                model = SentenceModel(weights, margin)
                figures = dev_rouge(dev, model, scorer)
                print(
                    f"penalty {penalty:<6} temperature {temperature:<5} margin {margin:<4} dev R1/R2/RL "
                    f"{figures['rouge1']:.1f}/{figures['rouge2']:.1f}/{figures['rougeL']:.1f}"
                )
                if best is None or figures["rouge1"] > best[0]:
                    best = (figures["rouge1"], penalty, temperature, model)
    assert best is not None
    print(
        f"chosen: penalty {best[1]}, temperature {best[2]}, margin {best[3].runner_up_margin}, "
        f"dev ROUGE-1 {best[0]:.1f}"
    )
    if args.write:
        target = Path(__file__).resolve().parent.parent / "bot" / "text" / MODEL_FILE
        stored = {
            "about": "key-sentence scores for bot/summary.py, written by bench/train_summary.py "
            "from SciTLDR-A train (penalty, temperature and margin chosen on dev)",
            "penalty": best[1],
            "temperature": best[2],
            "runner_up_margin": best[3].runner_up_margin,
            "features": list(FEATURES),
            "weights": list(best[3].weights),
        }
        target.write_text(json.dumps(stored, indent=1) + "\n")
        print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
