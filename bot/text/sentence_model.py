"""The key-sentence model: cheap facts about each sentence of an abstract, and the linear
score over them that picks the sentence stating the paper's contribution (pure).

The weights were learnt from SciTLDR-A train by ``bench/train_summary.py`` and ship as
``sentence_model.json`` (a few dozen numbers, read once).
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from importlib import resources

MODEL_FILE = "sentence_model.json"

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
LEAD_INS = re.compile(
    r"^(?:in this (?:paper|work|article|study|letter|note)|here|specifically|to this end|"
    r"finally|moreover|furthermore|additionally|in addition|thus|therefore|hence|"
    r"as a result|in particular|concretely|overall|for (?:these|this|those|both) reasons?|taken together|in summary|in conclusion|to address (?:this|these) (?:issues?|problems?|challenges?|limitations?)|"
    r"to (?:this|that) end)\s*,\s*"
    r"|^(?:here|in this (?:paper|work|article|study|letter|note))\s+(?=we\b)",
    re.IGNORECASE,
)
DANGLING = re.compile(
    r"^(?:it|they|these|those|such|its|their|this|that|then|also|and|but|or|which|here)\b"
    r"(?!\s+(?:paper|work|article|study|letter|note|thesis|approach|method|model|framework)\b)",
    re.IGNORECASE,
)


_WORD = re.compile(r"[a-z][a-z-]{2,}")
_STOP_WORDS = (
    "the and for with that this these those from are was were been being has have had its "
    "their our can which such than then into over also not but both more most other some "
    "using use used based via new two one each all any how what when where who whose may "
    "while between through across about under well show shows shown paper work approach "
    "method methods model models propose proposed present results result"
)
_STOP = frozenset(_STOP_WORDS.split())
FINDING = re.compile(
    r"\b(?:we (?:find|found|show|showed|demonstrate|observe|conclude|prove|confirm|report)|"
    r"(?:results?|experiments?|evaluations?|analys[ie]s|findings) (?:show|demonstrate|indicate|suggest|reveal|confirm)|"
    r"outperform\w*|improves?|achiev\w*|state[- ]of[- ]the[- ]art|significantly|"
    r"conclude\w*|leads? to|reduc\w*|accurac\w*)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
RESULT_NUMBER = re.compile(
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
        float(DANGLING.match(sentence) is not None and LEAD_INS.match(sentence) is None),
        float(LEAD_INS.match(sentence) is not None),
        float(_OPENING_WE.match(sentence) is not None),
        float(" we " in lowered or " our " in lowered),
        float(FINDING.search(sentence) is not None),
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
    return load_model(resources.files("bot.text").joinpath(MODEL_FILE).read_text(encoding="utf-8"))
