"""An abstract shortened to a character budget (pure, extractive, deterministic).

The summary leads with the abstract's key sentence: the one a small linear model scores
highest, from cheap facts about each sentence (position, length, cue phrases, "we", overlap
with the rest of the abstract and with the title). The model was trained on SciTLDR-A by
``bench/train_summary.py`` and ships as ``sentence_model.json`` (a few dozen weights, read
once). The sentence is cleaned so that it stands on its own (no "In this paper," lead-in).
When room is left, the sentence after it that states the finding ("we find", "results show",
"we conclude", "outperforms") follows, only whole. On a roomy server the sentences after the
key one follow while they fit, and the whole abstract is given when it fits. Measured by
``bench/summary.py``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

ELLIPSIS = "…"
TLDR_MAX_CHARACTERS = 220
"""The longest machine-written TL;DR accepted (and asked for)."""
ROOMY = 600
"""From this budget on, a summary goes on after its key sentence (and finding) while they fit."""
MODEL_FILE = "sentence_model.json"

_CLAUSE_BREAKS = (", ", "; ", ": ", " and ", " but ", " which ", " while ", " where ", " – ", " — ")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|cf|Fig|Figs|Eq|Eqs|Ref|Refs|Sec|Tab|vs|etc|resp|approx|ca|No|Vol|Dr|Prof|St|Jr)"
    r"|\b[A-Z])\.$"
)
_CUES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\bwe (?:propose|present|introduce|develop|design|devise|formulate)\b",
        r"\b(?:this|our) (?:paper|work|article|study|letter|note|thesis) (?:proposes|presents|introduces|develops|describes|shows|studies|investigates|provides|addresses|explores)\b",
        r"\bin this (?:paper|work|article|study|letter|note)\b",
        r"\bwe (?:show|demonstrate|prove|establish|find|derive|argue|study|investigate|explore|analy[sz]e|describe|report|consider|provide|extend|address|identify)\b",
        r"\b(?:novel|new) (?:method|approach|framework|model|algorithm|technique|architecture|dataset|benchmark|class|family|measure)\b",
        r"\bhere,? we\b",
        r"\b(?:our|the proposed) (?:method|approach|framework|model|algorithm|technique)\b",
        r"\bcalled\b|\bnamed\b|\bdubbed\b",
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
    r"as a result|in particular|concretely|overall|for (?:these|this|those|both) reasons?|taken together|in summary|in conclusion|to address (?:this|these) (?:issues?|problems?|challenges?|limitations?)|"
    r"to (?:this|that) end)\s*,\s*"
    r"|^(?:here|in this (?:paper|work|article|study|letter|note))\s+(?=we\b)",
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


_WORD = re.compile(r"[a-z][a-z-]{2,}")
_STOP_WORDS = (
    "the and for with that this these those from are was were been being has have had its "
    "their our can which such than then into over also not but both more most other some "
    "using use used based via new two one each all any how what when where who whose may "
    "while between through across about under well show shows shown paper work approach "
    "method methods model models propose proposed present results result"
)
_STOP = frozenset(_STOP_WORDS.split())
_FINDING = re.compile(
    r"\b(?:we (?:find|found|show|showed|demonstrate|observe|conclude|prove|confirm|report)|"
    r"(?:results?|experiments?|evaluations?|analys[ie]s|findings) (?:show|demonstrate|indicate|suggest|reveal|confirm)|"
    r"outperform\w*|improves?|achiev\w*|state[- ]of[- ]the[- ]art|significantly|"
    r"conclude\w*|leads? to|reduc\w*|accurac\w*)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
_RESULT_NUMBER = re.compile(
    r"\d(?:[\d.,]*\d)?\s*(?:%|×|x\b|times\b|(?:percentage )?points?\b|fold\b)"
)
_ACRONYM = re.compile(r"\((?:[A-Z][A-Za-z0-9-]*[A-Z0-9][A-Za-z0-9-]*)\)")
_OPENING_WE = re.compile(
    r"^(?:(?:here|in this \w+|specifically|to this end|finally|concretely),? )?we\b", re.I
)


_NAMED = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]*[A-Z][A-Za-z0-9-]*\b|\b[A-Z]{2,}[a-z]?\b")
_PROBLEM = re.compile(
    r"\b(?:problem|challeng\w*|difficult\w*|limitation\w*|suffer\w*|lack\w*|remains?|costly|expensive)\b",
    re.I,
)
_HEDGED = re.compile(r"\b(?:can|may|might|could|often|typically|usually|generally)\b", re.I)


_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work)|our (?:paper|work)) (?:propose|present|introduce|develop|design|devise)s?\b",
    re.IGNORECASE,
)
_WE = re.compile(r"\b(?:we|our)\b", re.IGNORECASE)


def _centrality(own: set[str], others: list[set[str]]) -> float:
    """How many of the other sentences share each of this sentence's words, on average."""
    if not own or not others:
        return 0.0
    return sum(sum(w in o for o in others) for w in own) / (len(own) * len(others))


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in _STOP}


FEATURES = (
    "first", "second", "third", "last", "position", "position_squared",
    "log_words", "short", "long",
    *(f"cue_{i}" for i in range(len(_CUES))),
    "background_opening", "dangling", "lead_in", "opens_with_we", "we_or_our",
    "finding", "number", "acronym", "colon",
    "overlap_with_rest", "overlap_with_title", "title_words_shared",
    "words_per_10", "words_per_10_squared", "centrality", "named_thing", "starts_we",
    "problem_words", "hedged", "first_contribution", "after_contribution", "first_we",
)  # fmt: skip
"""What the key-sentence model looks at, in the order of its weights."""


def sentence_features(found: list[str], title: str = "") -> list[tuple[float, ...]]:
    """Cheap facts about each sentence of ``found`` (an abstract split into sentences)."""
    bags = [_words(sentence) for sentence in found]
    titled = _words(title)
    first_contribution = next((i for i, s in enumerate(found) if _CONTRIBUTION.search(s)), -1)
    first_we = next((i for i, s in enumerate(found) if _WE.search(s)), -1)
    return [
        _features(i, found, bags, titled, first_contribution, first_we) for i in range(len(found))
    ]


def _features(
    index: int,
    found: list[str],
    bags: list[set[str]],
    titled: set[str],
    first_contribution: int,
    first_we: int,
) -> tuple[float, ...]:
    sentence = found[index]
    count = len(found)
    position = index / (count - 1) if count > 1 else 0.0
    words = len(sentence.split())
    own = bags[index]
    others = [bag for i, bag in enumerate(bags) if i != index]
    rest = set().union(*others)
    lowered = f" {sentence.lower()} "
    return (
        float(index == 0), float(index == 1), float(index == 2), float(index == count - 1 and count > 1),
        position, position * position,
        math.log(1 + words), float(words < 8), float(words > 45),
        *(float(pattern.search(sentence) is not None) for pattern in _CUES),
        float(_BACKGROUND.match(sentence) is not None),
        float(_DANGLING.match(sentence) is not None and _LEAD_INS.match(sentence) is None),
        float(_LEAD_INS.match(sentence) is not None),
        float(_OPENING_WE.match(sentence) is not None),
        float(" we " in lowered or " our " in lowered),
        float(_FINDING.search(sentence) is not None),
        float(_NUMBER.search(sentence) is not None),
        float(_ACRONYM.search(sentence) is not None),
        float(":" in sentence),
        len(own & rest) / len(own) if own else 0.0,
        len(own & titled) / len(titled) if titled else 0.0,
        min(len(own & titled), 5) / 5,
        words / 10, (words / 10) ** 2,
        _centrality(own, others),
        float(_NAMED.search(sentence) is not None),
        float(sentence.startswith("We ")),
        float(_PROBLEM.search(sentence) is not None),
        float(_HEDGED.search(sentence) is not None),
        float(first_contribution == index),
        float(0 <= first_contribution < index),
        float(first_we == index),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SentenceModel:
    """A linear score over :data:`FEATURES`: the sentence that scores highest is the key one."""

    weights: tuple[float, ...]
    runner_up_margin: float = 0.0
    """How far below the best a sentence that fits may score, to be shown instead of the best cut."""

    def score(self, features: tuple[float, ...]) -> float:
        return sum(w * x for w, x in zip(self.weights, features, strict=True))


def load_model(text: str) -> SentenceModel:
    """The model from its JSON file; a file made for other features is refused."""
    data = json.loads(text)
    if tuple(data["features"]) != FEATURES:
        raise ValueError("the sentence model was trained on other features; retrain it")
    return SentenceModel(tuple(float(w) for w in data["weights"]), float(data["runner_up_margin"]))


@functools.cache
def shipped_model() -> SentenceModel:
    """The model trained by ``bench/train_summary.py``, read once from the package."""
    return load_model(resources.files("bot").joinpath(MODEL_FILE).read_text(encoding="utf-8"))


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
    stripped = _LEAD_INS.sub("", sentence, count=1)
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
    ranked = _ranked(found, title, model)
    for candidate in (s for s in ranked if s.score >= ranked[0].score - model.runner_up_margin):
        key = standalone(candidate.text)
        if length(key) <= budget:
            return candidate.index, key
    return -1, truncate(standalone(ranked[0].text), budget, length)


def finding_sentence(found: list[str], key_index: int) -> int | None:
    """The index of the sentence after the key one that states a result or conclusion."""
    for i in range(len(found) - 1, key_index, -1):  # the conclusion is usually the last word
        states = _FINDING.search(found[i]) or _RESULT_NUMBER.search(found[i])
        if states and not _DANGLING.match(standalone(found[i])):
            return i
    return None


def summarise(
    abstract: str,
    budget: int,
    length: Callable[[str], int] = len,
    title: str = "",
    model: SentenceModel | None = None,
) -> str:
    """A summary of ``abstract`` within ``budget`` (as measured by ``length``).

    The whole abstract when it fits; otherwise the key sentence, then the sentence stating
    the finding if it fits whole, then (on a roomy server) the sentences after the key one.
    """
    found = sentences(abstract)
    if not found or budget <= 0:
        return ""
    whole = " ".join(found)
    if length(whole) <= budget:
        return whole
    index, key = key_within(found, title, budget, length, model or shipped_model())
    if index < 0:
        return key
    chosen = {index: key}
    used = length(key)
    finding = finding_sentence(found, index)
    if finding is not None:
        text = standalone(found[finding])
        if used + 1 + length(text) <= budget:
            chosen[finding] = text
            used += 1 + length(text)
    if budget >= ROOMY:
        for i in range(index + 1, len(found)):
            if i in chosen:
                continue
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
