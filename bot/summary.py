"""An abstract shortened to a character budget (pure, extractive, deterministic).

The summary leads with the sentence that states the paper's contribution ("We propose …",
"This paper introduces …"), chosen by cue phrases and position, cleaned so that it stands on
its own (no "In this paper," lead-in, no dangling "This"/"It"). On a roomy server the whole
abstract is given when it fits; otherwise more sentences follow the key one, in the
abstract's order, while they fit. Measured on SciTLDR by ``bench/summary.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

ELLIPSIS = "…"
TLDR_MAX_CHARACTERS = 220
"""The longest machine-written TL;DR accepted (and asked for)."""
ROOMY = 600
"""From this budget on, a summary has room for more than its key sentence."""

_CLAUSE_BREAKS = (", ", "; ", ": ", " and ", " but ", " which ", " while ", " where ", " – ", " — ")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|cf|Fig|Figs|Eq|Eqs|Ref|Refs|Sec|Tab|vs|etc|resp|approx|ca|No|Vol|Dr|Prof|St|Jr)"
    r"|\b[A-Z])\.$"
)
_CUES: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), weight)
    for pattern, weight in (
        (r"\bwe (?:propose|present|introduce|develop|design|devise|formulate)\b", 3.0),
        (
            r"\b(?:this|our) (?:paper|work|article|study|letter|note|thesis) (?:proposes|presents|introduces|develops|describes|shows|studies|investigates|provides|addresses|explores)\b",
            3.0,
        ),
        (r"\bin this (?:paper|work|article|study|letter|note)\b", 2.0),
        (
            r"\bwe (?:show|demonstrate|prove|establish|find|derive|argue|study|investigate|explore|analy[sz]e|describe|report|consider|provide|extend|address|identify)\b",
            1.5,
        ),
        (
            r"\b(?:novel|new) (?:method|approach|framework|model|algorithm|technique|architecture|dataset|benchmark|class|family|measure)\b",
            1.5,
        ),
        (r"\bhere,? we\b", 1.5),
        (r"\b(?:our|the proposed) (?:method|approach|framework|model|algorithm|technique)\b", 0.7),
        (r"\bcalled\b|\bnamed\b|\bdubbed\b", 0.7),
    )
)
_BACKGROUND = re.compile(
    r"^(?:recent(?:ly)?|in recent years|despite|although|however|while|traditionally|"
    r"existing|current|many|most|there (?:is|are|has|have))\b",
    re.IGNORECASE,
)
_LEAD_INS = re.compile(
    r"^(?:in this (?:paper|work|article|study|letter|note)|here|specifically|to this end|"
    r"finally|moreover|furthermore|additionally|in addition|thus|therefore|hence|"
    r"as a result|in particular|concretely|overall|to address (?:this|these) (?:issues?|problems?|challenges?|limitations?)|"
    r"to (?:this|that) end)\s*,\s*",
    re.IGNORECASE,
)
_DANGLING = re.compile(
    r"^(?:it|they|these|those|such|its|their|this|that|then|also|and|but|or|which|here)\b"
    r"(?!\s+(?:paper|work|article|study|letter|note|thesis|approach|method|model|framework)\b)",
    re.IGNORECASE,
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


def _score(index: int, sentence: str, count: int) -> float:
    score = sum(weight for pattern, weight in _CUES if pattern.search(sentence))
    score -= 0.25 * index  # the contribution usually comes early...
    if index == 0 and count > 2 and _BACKGROUND.match(sentence):
        score -= 1.0  # ...but an opening about the field is background
    if _DANGLING.match(sentence) and not _LEAD_INS.match(sentence):
        score -= 1.5  # needs the sentence before it to make sense
    words = len(sentence.split())
    if words < 6:
        score -= 2.0
    elif words > 60:
        score -= 1.0
    return score


def standalone(sentence: str) -> str:
    """The sentence without a lead-in that points back at its context ("In this paper, we …")."""
    stripped = _LEAD_INS.sub("", sentence, count=1)
    if stripped is sentence or not stripped:
        return sentence
    return stripped[0].upper() + stripped[1:]


def key_sentence(abstract: str) -> str:
    """The abstract's sentence that best states its contribution, made to stand alone."""
    found = sentences(abstract)
    if not found:
        return ""
    best = max(
        (_Scored(i, s, _score(i, s, len(found))) for i, s in enumerate(found)),
        key=lambda s: (s.score, -s.index),
    )
    return standalone(best.text)


def summarise(abstract: str, budget: int, length: Callable[[str], int] = len) -> str:
    """A summary of ``abstract`` within ``budget`` (as measured by ``length``)."""
    found = sentences(abstract)
    if not found or budget <= 0:
        return ""
    whole = " ".join(found)
    if length(whole) <= budget:
        return whole
    ranked = sorted(
        (_Scored(i, s, _score(i, s, len(found))) for i, s in enumerate(found)),
        key=lambda s: (-s.score, s.index),
    )
    # A close runner-up that fits beats a cut key sentence; background does not.
    for candidate in (s for s in ranked if s.score >= ranked[0].score - 1.5):
        key = standalone(candidate.text)
        if length(key) <= budget:
            break
    else:
        return truncate(standalone(ranked[0].text), budget, length)
    if budget < ROOMY:
        return key
    chosen = {candidate.index: key}
    used = length(key)
    for i in range(candidate.index + 1, len(found)):
        extra = length(found[i]) + 1
        if used + extra > budget:
            break
        chosen[i] = found[i]
        used += extra
    return " ".join(chosen[i] for i in sorted(chosen))


_TLDR_PREAMBLE = re.compile(
    r"^(?:tl;?dr|summary|in short|one-sentence summary)\s*[:\-–—]\s*", re.IGNORECASE
)
_TLDR_FORBIDDEN = re.compile(r"[@#＠＃]|https?:|www\.|\.(?:com|org|net|io)\b|\n", re.IGNORECASE)


def acceptable_tldr(text: str, max_characters: int) -> tuple[str | None, str]:
    """A model's TL;DR cleaned, or None with the reason it is refused.

    Refused: empty or tiny, too long, more than one sentence, or anything that could mention,
    tag or link (a model must not be able to make the bot notify someone or spam a hashtag).
    """
    cleaned = _TLDR_PREAMBLE.sub("", text.strip()).strip().strip("\"'“”").strip()
    if _TLDR_FORBIDDEN.search(cleaned):
        return None, "mention_hashtag_or_link"
    cleaned = normalise_space(cleaned)
    if len(cleaned) < 20:
        return None, "too_short"
    if len(cleaned) > max_characters:
        return None, "too_long"
    if len(sentences(cleaned)) > 1:
        return None, "more_than_one_sentence"
    return cleaned, "ok"
