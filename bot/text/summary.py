"""An abstract shortened to a character budget (pure, extractive, deterministic).

The summary leads with the abstract's key sentence: the one the small linear model of
:mod:`bot.text.sentence_model` scores highest. The sentence is cleaned so that it stands on
its own (no "In this paper," lead-in). When room is left, the sentence after it that states
the finding ("we find", "results show", "we conclude", "outperforms") follows, only whole.
With room to spare (a budget of ``ROOMY`` and more) the sentences after the key one
follow while they fit, up to ``max_sentences``, and the whole abstract is given when it fits
in as many. Measured by ``bench/summary.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.text.sentence_model import (
    DANGLING,
    FINDING,
    LEAD_INS,
    RESULT_NUMBER,
    SentenceModel,
    sentence_features,
    shipped_model,
)

ELLIPSIS = "…"
ROOMY = 600
"""From this budget on, a summary goes on after its key sentence (and finding) while they fit."""
SUMMARY_MAX = 600
"""The summary's characters by default (``BOT_SUMMARY_MAX_CHARACTERS``), however roomy the server."""
SUMMARY_SENTENCES = 3
"""A reader's size: the most sentences a summary holds when its characters are capped."""

_CLAUSE_BREAKS = (", ", "; ", ": ", " and ", " but ", " which ", " while ", " where ", " – ", " — ")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|cf|Fig|Figs|Eq|Eqs|Ref|Refs|Sec|Tab|vs|etc|resp|approx|ca|No|Vol|Dr|Prof|St|Jr)"
    r"|\b[A-Z])\.$"
)


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations and initials inside their sentence."""
    parts = _SENTENCE_END.split(normalise_space(text))
    merged: list[str] = []
    for part in parts:
        if merged and _ABBREVIATIONS.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return [p for p in merged if p]


def truncate(text: str, budget: int, length: Callable[[str], int] = len) -> str:
    """The text, or its longest word-boundary prefix that fits ``budget`` with an ellipsis."""
    if length(text) <= budget:
        return text
    if budget <= length(ELLIPSIS):
        return ""
    cut = text[: budget - length(ELLIPSIS)]
    while cut and length(cut) + length(ELLIPSIS) > budget:
        cut = cut[:-1]
    clause = max(cut.rfind(sep) for sep in _CLAUSE_BREAKS)
    space = cut.rfind(" ")
    if clause > len(cut) * 0.6:
        cut = cut[:clause]  # end on a whole clause rather than mid-phrase
    elif space > len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—(") + ELLIPSIS


@dataclass(frozen=True, slots=True)
class _Scored:
    index: int
    text: str
    score: float


def _ranked(found: list[str], title: str, model: SentenceModel) -> list[_Scored]:
    scored = [
        _Scored(i, s, model.score(features))
        for (i, s), features in zip(enumerate(found), sentence_features(found, title), strict=True)
    ]
    return sorted(scored, key=lambda s: (-s.score, s.index))


def standalone(sentence: str) -> str:
    """The sentence without a lead-in that points back at its context ("In this paper, we …")."""
    stripped = LEAD_INS.sub("", sentence, count=1)
    if stripped is sentence or not stripped:
        return sentence
    return stripped[0].upper() + stripped[1:]


def key_sentence(abstract: str, title: str = "", model: SentenceModel | None = None) -> str:
    """The abstract's sentence that best states its contribution, made to stand alone."""
    found = sentences(abstract)
    if not found:
        return ""
    return standalone(_ranked(found, title, model or shipped_model())[0].text)


def key_within(
    found: list[str], title: str, budget: int, length: Callable[[str], int], model: SentenceModel
) -> tuple[int, str]:
    """The key sentence's index and text within ``budget``: a close runner-up that fits beats
    a cut key sentence; index -1 when even that has to be cut."""
    return _key_within(_ranked(found, title, model), budget, length, model)


def _key_within(
    ranked: list[_Scored], budget: int, length: Callable[[str], int], model: SentenceModel
) -> tuple[int, str]:
    for candidate in (s for s in ranked if s.score >= ranked[0].score - model.runner_up_margin):
        key = standalone(candidate.text)
        if length(key) <= budget:
            return candidate.index, key
    return -1, truncate(standalone(ranked[0].text), budget, length)


def finding_sentence(
    found: list[str], key_index: int, budget: int | None = None, length: Callable[[str], int] = len
) -> int | None:
    """The index of the sentence after the key one that states a result or conclusion (and,
    given a ``budget``, fits it whole)."""
    for i in range(len(found) - 1, key_index, -1):  # the conclusion is usually the last word
        states = FINDING.search(found[i]) or RESULT_NUMBER.search(found[i])
        alone = standalone(found[i])
        if states and not DANGLING.match(alone) and (budget is None or length(alone) <= budget):
            return i
    return None


def summarise(
    abstract: str,
    budget: int,
    length: Callable[[str], int] = len,
    title: str = "",
    model: SentenceModel | None = None,
    max_sentences: int | None = None,
    prefer_whole_finding: bool = False,
) -> str:
    """A summary of ``abstract`` within ``budget`` (as measured by ``length``) and, when
    ``max_sentences`` is given, of at most that many sentences.

    The whole abstract when it fits; otherwise the key sentence, then the sentence stating
    the finding if it fits whole, then (on a roomy server) the sentences after the key one.
    With ``prefer_whole_finding``, where the key sentence would have to be cut, a finding
    after it that fits whole is the summary instead. It is measured and left off: on
    SciTLDR-A dev at 300 characters it lowers ROUGE-1 (40.5 to 40.2; ``bench/summary.py``).
    """
    found = sentences(abstract)
    if not found or budget <= 0:
        return ""
    whole = " ".join(found)
    if length(whole) <= budget and (max_sentences is None or len(found) <= max_sentences):
        return whole
    model = model or shipped_model()
    ranked = _ranked(found, title, model)
    index, key = _key_within(ranked, budget, length, model)
    if index < 0:
        if prefer_whole_finding:
            fits = finding_sentence(found, ranked[0].index, budget, length)
            if fits is not None:
                return standalone(found[fits])
        return key
    room = max_sentences if max_sentences is not None else len(found)
    chosen = {index: key}
    used = length(key)
    finding = finding_sentence(found, index)
    if finding is not None and len(chosen) < room:
        text = standalone(found[finding])
        if used + 1 + length(text) <= budget:
            chosen[finding] = text
            used += 1 + length(text)
    if budget >= ROOMY:
        for i in range(index + 1, len(found)):
            if len(chosen) >= room:
                break
            if i in chosen:
                continue
            extra = length(found[i]) + 1
            if used + extra > budget:
                break
            chosen[i] = found[i]
            used += extra
    return " ".join(chosen[i] for i in sorted(chosen))
