"""How much a better choice or a shorter key sentence could gain, on SciTLDR-A dev.

    PYTHONPATH=. uv run python -m bench.summary_ceiling [--data ../shared/scitldr/dev.jsonl]

Same scorer and budget as ``bench/summary.py`` (ROUGE F1, stemmed, the best over each
paper's TLDRs; the key sentence within 300 characters). It prints:

- the shipped model's key sentence, and the ceilings of choosing one sentence: the best
  sentence of each abstract as the bot would show it;
- the ceiling of compressing the chosen sentence by one deletion that keeps a sentence (a
  lead-in before "we …", a parenthesis, a trailing clause after a comma, a trailing
  prepositional phrase), the mean effect of each kind of deletion and how often it helps;
- the effect of applying each kind of deletion everywhere it matches.

Figures, not a test: they say where the key sentence's remaining points are, and are not.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections import defaultdict
from pathlib import Path

from rouge_score import rouge_scorer

from bot.text.sentence_model import shipped_model
from bot.text.summary import key_within, sentences, standalone, truncate

METRICS = ("rouge1", "rouge2", "rougeL")
BUDGET = 300

_CLAUSES = (
    "which|where|while|whereby|thereby|thus|leading|making|allowing|enabling|resulting|"
    "achieving|yielding|outperforming|such as|including|and|but|as well as|especially|"
    "namely|without|with|using|by|in|on|for|through|via|based|compared|over|across|from|to|"
    "when|if|since|because|so that|even|whose|who|respectively"
)
_PREPOSITIONS = (
    "on|in|across|over|for|with|using|via|through|by|from|under|at|compared|than|to|of|"
    "within|without|based|while|when"
)
_TRAILING_CLAUSE = re.compile(rf",\s+(?:{_CLAUSES})\b")
_TRAILING_PHRASE = re.compile(rf"\s(?:{_PREPOSITIONS})\s")
_PARENTHESIS = re.compile(r"\s\([^()]{1,120}\)")
_LEAD_IN = re.compile(r"^[^,;()]{3,120}?,\s+(?=(?:we|our|this|these|the|a|an|it|they)\b)", re.I)


def deletions(sentence: str) -> list[tuple[str, str]]:
    """(kind, what is left) for each single deletion that leaves a sentence of 5+ words."""
    core = sentence.rstrip()
    end = "." if core.endswith(".") else ""
    core = core.removesuffix(".")

    def balanced(at: int) -> bool:
        return core.count("(", 0, at) == core.count(")", 0, at)

    found: list[tuple[str, str]] = []
    lead = _LEAD_IN.match(core)
    if lead:
        rest = core[lead.end() :]
        found.append(("lead-in before the subject", rest[:1].upper() + rest[1:] + end))
    for m in _PARENTHESIS.finditer(core):
        found.append(("parenthesis", core[: m.start()] + core[m.end() :] + end))
    for m in _TRAILING_CLAUSE.finditer(core):
        if balanced(m.start()):
            found.append(("trailing clause after a comma", core[: m.start()] + end))
    for m in _TRAILING_PHRASE.finditer(core):
        if m.start() > len(core) * 0.3 and balanced(m.start()):
            found.append(("trailing phrase", core[: m.start()].rstrip(" ,;") + end))
    return [(kind, text) for kind, text in found if len(text.split()) >= 5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/scitldr/dev.jsonl"))
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    model = shipped_model()

    def best(prediction: str, targets: list[str]) -> tuple[float, ...]:
        scores = [scorer.score(t, prediction) for t in targets]
        return tuple(max(s[m].fmeasure for s in scores) for m in METRICS)

    def mean(scored: list[tuple[float, ...]]) -> str:
        return " / ".join(f"{100 * statistics.mean(s[i] for s in scored):4.1f}" for i in range(3))

    shipped, one_sentence, compressed = [], [], []
    effects: dict[str, list[float]] = defaultdict(list)
    everywhere: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    for row in rows:
        found = sentences(" ".join(row["source"]))
        key = key_within(found, row["title"], BUDGET, len, model)[1]
        mine = best(key, row["target"])
        shipped.append(mine)
        shown = [best(truncate(standalone(s), BUDGET), row["target"]) for s in found]
        one_sentence.append(max(shown))
        options = deletions(key)
        scored = [(kind, best(text, row["target"])) for kind, text in options]
        compressed.append(max([mine, *(s for _, s in scored)]))
        kinds_here: dict[str, tuple[float, ...]] = {}
        for kind, s in scored:
            effects[kind].append(s[0] - mine[0])
            kinds_here.setdefault(kind, s)  # the first match of each kind, applied blindly
        for kind in ("lead-in before the subject", "parenthesis", "trailing clause after a comma"):
            everywhere[kind].append(kinds_here.get(kind, mine))

    print(f"SciTLDR-A dev: {len(rows)} abstracts, ROUGE-1 / ROUGE-2 / ROUGE-L F1")
    print(f"{'the shipped key sentence':<58} {mean(shipped)}")
    print(f"{'ceiling: the best single sentence, as shown':<58} {mean(one_sentence)}")
    print(f"{'ceiling: the shipped sentence, best single deletion':<58} {mean(compressed)}")
    print("\neach kind of deletion on the shipped sentence, where it matches:")
    for kind, deltas in effects.items():
        helps = sum(d > 0 for d in deltas) / len(deltas)
        print(
            f"  {kind:<32} {len(deltas):5d} candidates, mean ROUGE-1 "
            f"{100 * statistics.mean(deltas):+5.1f}, helps {100 * helps:3.0f} %"
        )
    print("\neach kind applied wherever it matches (first match), whole split:")
    for kind, scored_kind in everywhere.items():
        print(f"  {kind:<56} {mean(scored_kind)}")


if __name__ == "__main__":
    main()
