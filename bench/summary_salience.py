"""Compression learned from the TL;DRs' words, measured on SciTLDR-A dev (not shipped).

    PYTHONPATH=. uv run python -m bench.summary_salience [--data ../shared/scitldr] [--stems] [--idf]

A small logistic model learns, on SciTLDR-A **train**, how likely each word of an abstract is
to appear in its TL;DR, from facts about the word in that abstract: how often and in how
many sentences it occurs, whether the title has it, where it first occurs, its length,
whether it is a number, a common word or occurs once (``--idf`` adds its rarity over the
train abstracts, a table of every train word; ``--stems`` uses ROUGE's Porter stems instead
of the plain-Python lowercase words with a plural "s" dropped that the bot could use).

From those chances, a text's expected ROUGE-1 F1 against a TL;DR of ``L`` words is
``2 · Σ p(word) / (words + L)``. Two uses are measured, each as the key sentence's dev ROUGE:

- **choosing**: the expected F1 and its parts added to the key-sentence model's features
  and the listwise model retrained as ``bench/train_summary.py`` does (penalty 0.001/0.01,
  temperature 0.05/0.1);
- **compressing**: the shipped key sentence, then up to ``rounds`` deletions from
  ``bench.summary_ceiling`` (a lead-in before the subject, a parenthesis, a trailing clause
  after a comma, and with ``phrases`` a trailing prepositional phrase), each taken only when
  it raises the expected F1 (``L`` 16/20/25, rounds 1/2).

Figures, not a test: they say whether aligned-word compression is worth shipping.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rouge_score import rouge_scorer, tokenize

from bench.summary_ceiling import deletions
from bench.train_summary import BUDGET, _mean_f1, fit, read
from bot.text.sentence_model import sentence_features, shipped_model
from bot.text.summary import key_within, sentences, standalone, truncate

METRICS = ("rouge1", "rouge2", "rougeL")
KINDS = ("lead-in before the subject", "parenthesis", "trailing clause after a comma")
_PLAIN = re.compile(r"[a-z0-9]+")

Tokens = Callable[[str], list[str]]


def plain_tokens(text: str) -> list[str]:
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _PLAIN.findall(text.lower())]


def stem_tokens() -> Tokens:
    from nltk.stem import porter  # type: ignore[import-untyped]  # rouge_score's own dependency

    stemmer = porter.PorterStemmer()
    cache: dict[str, str] = {}

    def tokens(text: str) -> list[str]:
        out = []
        for token in tokenize.tokenize(text, None):
            if token not in cache:
                cache[token] = stemmer.stem(token) if len(token) > 3 else token
            out.append(cache[token])
        return out

    return tokens


class Salience:
    """P(a word of an abstract is in its TL;DR), logistic over facts about the word there."""

    def __init__(self, train: list[dict[str, Any]], tokens: Tokens, use_idf: bool) -> None:
        self.tokens = tokens
        documents = Counter(w for row in train for w in set(tokens(" ".join(row["source"]))))
        self.count = len(train)
        self.documents = documents if use_idf else Counter()
        self.common = {w for w, c in documents.items() if c > 0.3 * len(train)}
        rows_x: list[list[float]] = []
        rows_y: list[float] = []
        for row in train:
            facts = self._facts(row)
            wanted = {w for target in row["target"] for w in tokens(target)}
            for word, fact in facts.items():
                rows_x.append(fact)
                rows_y.append(float(word in wanted))
        x, y = np.array(rows_x), np.array(rows_y)
        self.mean, self.scale = x.mean(axis=0), x.std(axis=0)
        self.mean[0], self.scale[0] = 0.0, 1.0
        self.scale[self.scale == 0] = 1.0
        self.weights = _logistic((x - self.mean) / self.scale, y)
        p = self._predict(x)
        self.log_loss = float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
        self.base_rate = float(y.mean())

    def _idf(self, word: str) -> float:
        if not self.documents:
            return 0.0
        return math.log((self.count + 1) / (self.documents[word] + 1))

    def _facts(self, row: dict[str, Any]) -> dict[str, list[float]]:
        bags = [self.tokens(s) for s in row["source"]]
        title = set(self.tokens(row["title"]))
        frequency = Counter(w for bag in bags for w in bag)
        spread = Counter(w for bag in bags for w in set(bag))
        first: dict[str, int] = {}
        for i, bag in enumerate(bags):
            for w in bag:
                first.setdefault(w, i)
        n = len(bags)
        facts = {}
        for w, tf in frequency.items():
            idf = self._idf(w)
            facts[w] = [
                1.0, math.log1p(tf), spread[w] / n, float(w in title), first[w] / max(n - 1, 1),
                float(first[w] == 0), idf, idf * float(w in title), float(w in self.common),
                float(w.isdigit()), min(len(w), 12) / 12, math.log1p(tf) * idf, float(tf == 1),
            ]  # fmt: skip
        return facts

    def _predict(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        z = ((x - self.mean) / self.scale) @ self.weights
        out: NDArray[np.float64] = 1 / (1 + np.exp(-z))
        return out

    def of(self, row: dict[str, Any]) -> dict[str, float]:
        facts = self._facts(row)
        words = list(facts)
        chances = self._predict(np.array([facts[w] for w in words]))
        return dict(zip(words, (float(p) for p in chances), strict=True))

    def expected_matches(self, text: str, chances: dict[str, float]) -> tuple[float, int]:
        """How many of the text's distinct words a TL;DR is expected to share, and its words."""
        words = self.tokens(text)
        return sum(chances.get(w, 0.0) for w in set(words)), len(words)

    def expected_f1(self, text: str, chances: dict[str, float], length: float) -> float:
        matched, words = self.expected_matches(text, chances)
        return 2 * matched / (words + length)


def _logistic(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    w = np.zeros(x.shape[1])
    for _ in range(25):  # Newton's method, from zero: the same data give the same weights
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - y) / len(y) + 1e-4 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x / len(y) + 1e-4 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w


def compress(
    key: str, chances: dict[str, float], salience: Salience, length: float, kinds: tuple[str, ...],
    rounds: int,
) -> str:  # fmt: skip
    best, text = salience.expected_f1(key, chances, length), key
    for _ in range(rounds):
        options = [
            (salience.expected_f1(shorter, chances, length), shorter)
            for kind, shorter in deletions(text)
            if kind in kinds
        ]
        better = max((o for o in options if o[0] > best), default=None)
        if better is None:
            break
        best, text = better
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/scitldr"))
    parser.add_argument("--stems", action="store_true", help="ROUGE's Porter stems")
    parser.add_argument("--idf", action="store_true", help="add each word's rarity over train")
    args = parser.parse_args()
    train, dev = read(args.data / "train.jsonl"), read(args.data / "dev.jsonl")
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    salience = Salience(train, stem_tokens() if args.stems else plain_tokens, args.idf)
    print(
        f"word model: {len(salience.weights)} weights; train log loss {salience.log_loss:.3f} "
        f"(always the base rate {salience.base_rate:.3f}: "
        f"{-(salience.base_rate * math.log(salience.base_rate) + (1 - salience.base_rate) * math.log(1 - salience.base_rate)):.3f})"
    )

    def score(pick: str, row: dict[str, Any]) -> tuple[float, ...]:
        scores = [scorer.score(t, pick) for t in row["target"]]
        return tuple(max(s[m].fmeasure for s in scores) for m in METRICS)

    def mean(scored: list[tuple[float, ...]]) -> str:
        return " / ".join(f"{100 * statistics.mean(s[i] for s in scored):.2f}" for i in range(3))

    model = shipped_model()
    chances = {row["paper_id"]: salience.of(row) for row in dev}
    keys = {
        row["paper_id"]: key_within(
            sentences(" ".join(row["source"])), row["title"], BUDGET, len, model
        )[1]
        for row in dev
    }
    print(
        f"\nthe shipped key sentence (dev R1 / R2 / RL)      {mean([score(keys[r['paper_id']], r) for r in dev])}"
    )

    print("\ncompressing the shipped key sentence:")
    for kinds, label in ((KINDS, "3 kinds"), ((*KINDS, "trailing phrase"), "phrases")):
        for rounds in (1, 2):
            for length in (16.0, 20.0, 25.0):
                picks = [
                    compress(keys[r["paper_id"]], chances[r["paper_id"]], salience, length, kinds, rounds)
                    for r in dev
                ]  # fmt: skip
                changed = sum(p != keys[r["paper_id"]] for p, r in zip(picks, dev, strict=True))
                print(
                    f"  {label:<8} rounds {rounds} L {length:>4.0f}: {mean([score(p, r) for p, r in zip(picks, dev, strict=True)])}"
                    f"  ({changed} changed, median {statistics.median(len(p) for p in picks):.0f} characters)"
                )

    def features(row: dict[str, Any]) -> list[tuple[float, ...]]:
        found, own = row["source"], salience.of(row)
        extra = []
        for sentence in found:
            matched, words = salience.expected_matches(sentence, own)
            f1 = salience.expected_f1(sentence, own, 20.0)
            extra.append((f1, matched / max(words, 1), math.log1p(matched)))
        best = max(e[0] for e in extra)
        base = sentence_features(found, row["title"])
        return [b + e + (e[0] - best,) for b, e in zip(base, extra, strict=True)]

    data = []
    for row in train:
        if len(row["source"]) >= 2:
            y = [_mean_f1(scorer, row["target"], standalone(s)) for s in row["source"]]
            data.append((np.array(features(row)), np.array(y)))
    dev_features = {r["paper_id"]: features(r) for r in dev}
    print("\nchoosing with the expected F1 as features (listwise model retrained on train):")
    for penalty in (0.001, 0.01):
        for temperature in (0.05, 0.1):
            weights = fit(data, penalty, temperature)
            picks = []
            for row in dev:
                found = row["source"]
                scores = [float(np.dot(weights, f)) for f in dev_features[row["paper_id"]]]
                order = sorted(range(len(found)), key=lambda i: (-scores[i], i))
                fits = (standalone(found[i]) for i in order if len(standalone(found[i])) <= BUDGET)
                picks.append(next(fits, truncate(standalone(found[order[0]]), BUDGET)))
            print(
                f"  penalty {penalty:<5} temperature {temperature:<4}: "
                f"{mean([score(p, r) for p, r in zip(picks, dev, strict=True)])}"
            )


if __name__ == "__main__":
    main()
