"""Checking a machine-written TL;DR before anyone sees it (pure)."""

from __future__ import annotations

import re

from bot.text.summary import normalise_space, sentences

TLDR_MAX_CHARACTERS = 220
"""The longest machine-written TL;DR accepted (and asked for)."""
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
