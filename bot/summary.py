"""An abstract shortened to a character budget (pure).

First version: the leading sentences of the abstract that fit the budget; when even the
first sentence is too long it is cut at a word boundary with an ellipsis.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "cf.", "Fig.", "Eq.", "Ref.", "vs.", "etc.", "resp.")


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping common abbreviations inside their sentence."""
    parts = _SENTENCE_END.split(normalise_space(text))
    merged: list[str] = []
    for part in parts:
        if merged and merged[-1].endswith(_ABBREVIATIONS):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return [p for p in merged if p]


def truncate(text: str, budget: int) -> str:
    """The text, or its longest word-boundary prefix that fits ``budget`` with an ellipsis."""
    if len(text) <= budget:
        return text
    if budget <= len(ELLIPSIS):
        return ""
    cut = text[: budget - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > budget // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def summarise(abstract: str, budget: int) -> str:
    """Leading whole sentences of the abstract within ``budget`` characters."""
    chosen: list[str] = []
    used = 0
    for sentence in sentences(abstract):
        extra = len(sentence) + (1 if chosen else 0)
        if used + extra > budget:
            break
        chosen.append(sentence)
        used += extra
    if chosen:
        return " ".join(chosen)
    first = sentences(abstract)
    return truncate(first[0], budget) if first else ""
