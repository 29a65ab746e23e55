"""The reply thread, counted as Mastodon counts (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.models import Paper, PaperRef, ServerLimits
from bot.summary import normalise_space, summarise, truncate

_URL = re.compile(r"https?://[^\s]+")
_MENTION = re.compile(r"(?<![=/\w])@(\w+(?:[\w.-]*\w)?)@[\w.-]+\w")
# What Mastodon would turn into a mention, a hashtag or a link, if copied from a paper.
_ACTIVE = re.compile(r"(?<=[@#＠＃])(?=\w)|(?<=http)(?=s?://)", re.IGNORECASE)
_ZWSP = "\u200b"
SHOWN_AUTHORS = 3
MIN_SUMMARY = 60


def mastodon_length(text: str, limits: ServerLimits) -> int:
    """The length Mastodon gives ``text``: URLs count as the reserved length, ``@u@host`` as ``@u``.

    Code points are counted, which is never less than Mastodon's grapheme clusters, so a post
    that fits here fits on the server.
    """
    text = _MENTION.sub(lambda m: "@" + m.group(1), text)
    urls = _URL.findall(text)
    return len(_URL.sub("", text)) + len(urls) * limits.characters_reserved_per_url


def defuse(text: str) -> str:
    """Paper text made inert: no mention, hashtag or link can come of it on Mastodon."""
    return _ACTIVE.sub(_ZWSP, text)


def format_authors(authors: Sequence[str], shown: int = SHOWN_AUTHORS) -> str:
    names = [normalise_space(a) for a in authors if a.strip()]
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + " et al."


@dataclass(frozen=True, slots=True)
class ComposedPost:
    text: str
    summary: str


def compose_paper_post(
    paper: Paper, ref: PaperRef, limits: ServerLimits, mention: str | None = None
) -> ComposedPost:
    """One post about one paper: title, authors, link, and as much summary as fits."""
    title = defuse(normalise_space(paper.title)) or paper.arxiv_id
    authors = defuse(format_authors(paper.authors))
    link = paper.abs_url(ref.version)
    lead = f"{mention} " if mention else ""

    def head(title_text: str, authors_text: str) -> str:
        lines = [f"{lead}📄 {title_text}", authors_text, link]
        return "\n".join(line for line in lines if line)

    text = head(title, authors)
    over = mastodon_length(text, limits) + 2 + MIN_SUMMARY - limits.max_characters
    if over > 0:
        authors = truncate(authors, max(len(authors) - over, 0))
        text = head(title, authors)
        over = mastodon_length(text, limits) + 2 + MIN_SUMMARY - limits.max_characters
    if over > 0:
        title = truncate(title, max(len(title) - over, 1)) or title[:1]
        text = head(title, authors)
    budget = limits.max_characters - mastodon_length(text, limits) - 2
    summary = summarise(defuse(paper.abstract), budget) if budget > 0 else ""
    if summary:
        candidate = f"{text}\n\n{summary}"
        if mastodon_length(candidate, limits) <= limits.max_characters:
            return ComposedPost(candidate, summary)
    return ComposedPost(text, "")


def compose_thread(
    papers: Sequence[tuple[PaperRef, Paper]],
    limits: ServerLimits,
    mention: str | None = None,
    spoiler_text: str = "",
) -> list[ComposedPost]:
    """One post per paper, in order; only the first mentions the person answered.

    A content warning is copied onto every post and counts against its length.
    """
    room = replace(
        limits, max_characters=limits.max_characters - mastodon_length(spoiler_text, limits)
    )
    return [
        compose_paper_post(paper, ref, room, mention if i == 0 else None)
        for i, (ref, paper) in enumerate(papers)
    ]
