"""How good and how fast the extractive summaries are, on the SciTLDR-A dev split.

    PYTHONPATH=. uv run python -m bench.summary [--data ../shared/scitldr/dev.jsonl] [--budget 300]

For each abstract, the key sentence within ``--budget`` characters (300 is what a stock
500-character Mastodon server leaves after the mention, title, authors, metadata line and
link of a typical reply) as chosen by the learned model (``bot/sentence_model.json``), by the
cue-phrase rules it replaced, and by taking the first sentence; and the abstract cut to the
same number of characters as the model's choice. Each is scored with ROUGE-1/2/L F1
(``rouge-score``, stemmed) against every human TLDR of the paper, keeping the best, and the
mean is printed. Then: how often the reply on a 500- and a 5,000-character server adds a
sentence after the key one (and, at 5,000, with and without ``BOT_SUMMARY_MAX_CHARACTERS``),
five replies that do, the whole summary within ``--budget`` with and without the preference
for a whole finding over a cut key sentence (ROUGE and the share of cut summaries), and the
median time to summarise one abstract and to compose one post. Figures, not a test.

The whole summary as posted on a 500-character server (``compose_paper_post``, a reply with a
mention) is scored for ROUGE F1 **and recall**, beside the key sentence alone, "lead-2" (the
abstract's first two sentences) and the abstract cut to the same length, and on the replies
that carry a finding, with and without it: what the longer summary costs and what the
finding adds.

With ``--llm`` the same is done for ``BOT_SUMMARIZER=llm``: the endpoint and model come from
the bot's own settings (``LLM_BASE_URL``, ``LLM_MODEL``, ``LLM_API_KEY`` or
``LLM_API_KEY_FILE``, ``LLM_TIMEOUT``, from the environment or ``.env``), each TL;DR is checked
as the bot checks it, and a refused or failed one falls back to the extractive summary, as in
the bot. ``--limit N`` scores the first N abstracts only (a local model is slow).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError
from rouge_score import rouge_scorer

from bot.clients.llm_api import LlmGateway
from bot.config import ReplySettings
from bot.errors import BotError
from bot.models import Paper, PaperRef, ServerLimits
from bot.text.compose import MACHINE_LABEL, compose_paper_post
from bot.text.sentence_model import shipped_model
from bot.text.summary import (
    SUMMARY_MAX,
    key_within,
    sentences,
    standalone,
    summarise,
    truncate,
)
from bot.text.tldr import TLDR_MAX_CHARACTERS, acceptable_tldr

METRICS = ("rouge1", "rouge2", "rougeL")
AUTHORS = ("A. Author", "B. Author", "C. Author", "D. Author")
MENTION = "@someone@example.org"
Scores = dict[str, tuple[float, float]]
"""Per metric: F1 and recall, each the best over the paper's TLDRs."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/scitldr/dev.jsonl"))
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5, help="timing runs over the whole split")
    parser.add_argument("--llm", action="store_true", help="also score BOT_SUMMARIZER=llm")
    parser.add_argument("--limit", type=int, default=0, help="only the first N abstracts")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    if args.limit > 0:
        rows = rows[: args.limit]
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    model = shipped_model()

    def best(prediction: str, targets: list[str]) -> dict[str, float]:
        scores = [scorer.score(t, prediction) for t in targets]
        return {m: max(s[m].fmeasure for s in scores) for m in METRICS}

    systems: dict[str, list[dict[str, float]]] = {
        "learned model (the bot)": [],
        "cue-phrase rules (before)": [],
        "first sentence (lead-1)": [],
        "abstract cut to same length": [],
    }
    lengths = []
    for row in rows:
        abstract = " ".join(row["source"])
        found = sentences(abstract)
        ours = key_within(found, row["title"], args.budget, len, model)[1]
        lengths.append(len(ours))
        systems["learned model (the bot)"].append(best(ours, row["target"]))
        systems["cue-phrase rules (before)"].append(
            best(rules_key(found, args.budget), row["target"])
        )
        systems["first sentence (lead-1)"].append(best(found[0], row["target"]))
        systems["abstract cut to same length"].append(best(abstract[: len(ours)], row["target"]))

    print(f"SciTLDR-A dev: {len(rows)} abstracts, key sentence within {args.budget} characters")
    print(f"median key sentence length: {statistics.median(lengths):.0f} characters")
    print(f"{'system':<30} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8}")
    for name, scores in systems.items():
        means = [100 * statistics.mean(s[m] for s in scores) for m in METRICS]
        print(f"{name:<30} " + " ".join(f"{v:8.1f}" for v in means))

    print(
        f"\nthe whole summary within {args.budget} characters (the rules differ where the key is cut):"
    )
    print(f"{'rule':<42} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'cut':>6}")
    for prefer in (False, True):
        scored, cut = [], 0
        for row in rows:
            abstract = " ".join(row["source"])
            summary = summarise(
                abstract, args.budget, title=row["title"], prefer_whole_finding=prefer
            )
            cut += summary.endswith("…")
            scored.append(best(summary, row["target"]))
        means = [100 * statistics.mean(s[m] for s in scored) for m in METRICS]
        name = "a whole finding before a cut aim" if prefer else "the key sentence, cut (shipped)"
        print(
            f"{name:<42} "
            + " ".join(f"{v:8.1f}" for v in means)
            + f" {100 * cut / len(rows):5.1f}%"
        )

    when = datetime(2020, 1, 1, tzinfo=UTC)
    papers = [
        Paper(f"2001.{i + 1:05d}", 1, row["title"], AUTHORS, " ".join(row["source"]), "cs.LG", when, when)
        for i, row in enumerate(rows)
    ]  # fmt: skip
    examples: list[tuple[str, str]] = []
    for limit, cap in ((500, SUMMARY_MAX), (5000, SUMMARY_MAX), (5000, 0)):
        shapes: Counter[str] = Counter()
        lengths = []
        for paper in papers:
            summary = compose_paper_post(
                paper, PaperRef(paper.arxiv_id), ServerLimits(limit), summary_max=cap
            ).summary
            lengths.append(len(summary))
            shape = reply_shape(summary, paper.abstract)
            shapes[shape] += 1
            if limit == 500 and shape == "key + one more" and len(examples) < 5:
                examples.append((paper.title, summary))
        print(
            f"{limit}-character server, BOT_SUMMARY_MAX_CHARACTERS={cap}: "
            + ", ".join(f"{k} {100 * v / len(papers):.1f} %" for k, v in sorted(shapes.items()))
            + f"; median {statistics.median(lengths):.0f} characters"
        )
    print("\nfive replies on a 500-character server that add a second sentence:")
    for title, summary in examples:
        print(f"- {title}\n  {summary}")

    posted(rows, papers, scorer)
    if args.llm:
        llm(rows, papers, scorer)

    per_abstract, per_post = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        for paper in papers:
            summarise(paper.abstract, args.budget, title=paper.title)
        per_abstract.append((time.perf_counter() - started) / len(papers) * 1000)
        started = time.perf_counter()
        for paper in papers:
            compose_paper_post(paper, PaperRef(paper.arxiv_id), ServerLimits(), "@someone")
        per_post.append((time.perf_counter() - started) / len(papers) * 1000)
    print(
        f"\nsummarise one abstract: median {statistics.median(per_abstract):.2f} ms ({_runs(per_abstract)})"
    )
    print(f"summarise + compose one post (500 characters): median {statistics.median(per_post):.2f} ms ({_runs(per_post)})")  # fmt: skip


def f1_and_recall(scorer: rouge_scorer.RougeScorer, prediction: str, targets: list[str]) -> Scores:
    scores = [scorer.score(t, prediction) for t in targets]
    return {
        m: (max(s[m].fmeasure for s in scores), max(s[m].recall for s in scores)) for m in METRICS
    }


def print_table(
    title: str, systems: dict[str, list[Scores]], lengths: dict[str, list[int]]
) -> None:
    print(f"\n{title}")
    print(
        f"{'system':<36} {'F1 R-1 / R-2 / R-L':>20}   {'recall R-1 / R-2 / R-L':>22} {'median':>7}"
    )
    for name, scored in systems.items():
        f1 = " / ".join(f"{100 * statistics.mean(s[m][0] for s in scored):4.1f}" for m in METRICS)
        recall = " / ".join(
            f"{100 * statistics.mean(s[m][1] for s in scored):4.1f}" for m in METRICS
        )
        median = statistics.median(lengths[name])
        print(f"{name:<36} {f1:>20}   {recall:>22} {median:6.0f}c")


def posted(
    rows: list[dict[str, object]], papers: list[Paper], scorer: rouge_scorer.RougeScorer
) -> None:
    """The whole summary as a 500-character server posts it, against the baselines, and the
    finding's share in it."""
    limits = ServerLimits(500)
    systems: dict[str, list[Scores]] = {
        n: [] for n in ("summary as posted (the bot)", "key sentence alone", "lead-2", "abstract cut to same length")
    }  # fmt: skip
    lengths: dict[str, list[int]] = {n: [] for n in systems}
    with_finding: dict[str, list[Scores]] = {
        "key + finding (as posted)": [],
        "key sentence alone": [],
    }
    finding_lengths: dict[str, list[int]] = {n: [] for n in with_finding}
    for row, paper in zip(rows, papers, strict=True):
        targets = list(row["target"])  # type: ignore[call-overload]
        summary = compose_paper_post(paper, PaperRef(paper.arxiv_id), limits, MENTION).summary
        found = sentences(paper.abstract)
        key = key_within(found, paper.title, len(summary) or 1, len, shipped_model())[1]
        chosen = {
            "summary as posted (the bot)": summary,
            "key sentence alone": key,
            "lead-2": " ".join(found[:2]),
            "abstract cut to same length": paper.abstract[: len(summary)],
        }
        for name, text in chosen.items():
            systems[name].append(f1_and_recall(scorer, text, targets))
            lengths[name].append(len(text))
        if len(sentences(summary)) > 1 and not summary.endswith("…") and summary != " ".join(found):
            for name, text in (("key + finding (as posted)", summary), ("key sentence alone", key)):
                with_finding[name].append(f1_and_recall(scorer, text, targets))
                finding_lengths[name].append(len(text))
    print_table(
        f"the whole summary on a 500-character server, in a reply ({len(rows)} abstracts):",
        systems,
        lengths,
    )
    count = len(with_finding["key sentence alone"])
    print_table(
        f"the {count} replies ({100 * count / len(rows):.1f} %) whose summary adds a sentence to the key one:",
        with_finding,
        finding_lengths,
    )


def llm(
    rows: list[dict[str, object]], papers: list[Paper], scorer: rouge_scorer.RougeScorer
) -> None:
    """BOT_SUMMARIZER=llm on the operator's own endpoint, scored the same way."""
    try:
        settings = ReplySettings(bot_summarizer="llm")
    except ValidationError as exc:
        raise SystemExit(f"--llm: {exc.errors()[0]['msg']}") from None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    gateway = LlmGateway(
        str(settings.llm_base_url), str(settings.llm_model), key, settings.llm_timeout
    )
    limits = ServerLimits(500)
    systems: dict[str, list[Scores]] = {
        "TL;DR alone (accepted ones)": [],
        "summary as posted (llm)": [],
    }
    lengths: dict[str, list[int]] = {n: [] for n in systems}
    outcomes: Counter[str] = Counter()
    seconds: list[float] = []
    try:
        for row, paper in zip(rows, papers, strict=True):
            targets = list(row["target"])  # type: ignore[call-overload]
            started = time.perf_counter()
            try:
                answer: str | None = gateway.tldr(paper)
            except BotError as exc:
                answer = None
                outcomes[f"failed: {type(exc).__name__}"] += 1
            seconds.append(time.perf_counter() - started)
            tldr = None
            if answer is not None:
                tldr, reason = acceptable_tldr(answer, TLDR_MAX_CHARACTERS)
                outcomes[reason if tldr is None else "accepted"] += 1
            post = compose_paper_post(
                paper, PaperRef(paper.arxiv_id), limits, MENTION, tldr
            ).summary
            if tldr is not None:
                systems["TL;DR alone (accepted ones)"].append(f1_and_recall(scorer, tldr, targets))
                lengths["TL;DR alone (accepted ones)"].append(len(tldr))
            systems["summary as posted (llm)"].append(f1_and_recall(scorer, post, targets))
            lengths["summary as posted (llm)"].append(len(post))
    finally:
        gateway.close()
    print(
        f"\nBOT_SUMMARIZER=llm, model {settings.llm_model!r}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        + f"; median {statistics.median(seconds):.2f} s per TL;DR; a refused one falls back to the"
        f" extractive summary, a used one is labelled {MACHINE_LABEL.strip()!r}"
    )
    print_table(
        "the LLM's summaries, scored the same way:",
        {k: v for k, v in systems.items() if v},
        lengths,
    )


def reply_shape(summary: str, abstract: str) -> str:
    if not summary:
        return "no summary"
    if summary == " ".join(sentences(abstract)):
        return "whole abstract"
    if summary.endswith("…"):
        return "key cut"
    count = len(sentences(summary))
    return {1: "key only", 2: "key + one more"}.get(count, "key + more")


def _runs(values: list[float]) -> str:
    return "runs: " + ", ".join(f"{v:.2f}" for v in values)


# The cue-phrase rules that chose the key sentence before the learned model, kept here to be
# measured against. Score: cue weights, minus a quarter point per position, minus background
# openings, dangling openings and very short or long sentences.
_RULE_CUES: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), weight)
    for pattern, weight in (
        (r"\bwe (?:propose|present|introduce|develop|design|devise|formulate)\b", 3.0),
        (r"\b(?:this|our) (?:paper|work|article|study|letter|note|thesis) (?:proposes|presents|introduces|develops|describes|shows|studies|investigates|provides|addresses|explores)\b", 3.0),
        (r"\bin this (?:paper|work|article|study|letter|note)\b", 2.0),
        (r"\bwe (?:show|demonstrate|prove|establish|find|derive|argue|study|investigate|explore|analy[sz]e|describe|report|consider|provide|extend|address|identify)\b", 1.5),
        (r"\b(?:novel|new) (?:method|approach|framework|model|algorithm|technique|architecture|dataset|benchmark|class|family|measure)\b", 1.5),
        (r"\bhere,? we\b", 1.5),
        (r"\b(?:our|the proposed) (?:method|approach|framework|model|algorithm|technique)\b", 0.7),
        (r"\bcalled\b|\bnamed\b|\bdubbed\b", 0.7),
    )
)  # fmt: skip
_RULE_BACKGROUND = re.compile(
    r"^(?:recent(?:ly)?|in recent years|despite|although|however|while|traditionally|"
    r"existing|current|many|most|there (?:is|are|has|have))\b",
    re.IGNORECASE,
)
_RULE_DANGLING = re.compile(
    r"^(?:it|they|these|those|such|its|their|this|that|then|also|and|but|or|which|here)\b"
    r"(?!\s+(?:paper|work|article|study|letter|note|thesis|approach|method|model|framework)\b)",
    re.IGNORECASE,
)


def _rule_score(index: int, sentence: str, count: int) -> float:
    score = sum(weight for pattern, weight in _RULE_CUES if pattern.search(sentence))
    score -= 0.25 * index
    if index == 0 and count > 2 and _RULE_BACKGROUND.match(sentence):
        score -= 1.0
    if _RULE_DANGLING.match(sentence) and standalone(sentence) is sentence:
        score -= 1.5
    words = len(sentence.split())
    if words < 6:
        score -= 2.0
    elif words > 60:
        score -= 1.0
    return score


def rules_key(found: list[str], budget: int) -> str:
    ranked: list[tuple[float, int, str]] = sorted(
        ((-_rule_score(i, s, len(found)), i, s) for i, s in enumerate(found))
    )
    for score, _, text in ranked:
        if score > ranked[0][0] + 1.5:
            break
        if len(standalone(text)) <= budget:
            return standalone(text)
    return truncate(standalone(ranked[0][2]), budget)


if __name__ == "__main__":
    main()
