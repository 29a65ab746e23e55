"""The reply thread: the posts that answer one request, each sized to the server (pure).

Per paper one post: title, authors, primary category and date (the version when the post
linked one, "withdrawn" when the comment says so), the abstract link, and the summary that
fits. In ``abstract`` mode each paper's post is followed by the whole abstract in numbered
posts. Nothing from the paper can become a mention, hashtag or link.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.models import Paper, PaperRef, ReplyMode, Request, ServerLimits
from bot.text.counting import post_length, warning_length
from bot.text.markup import readable
from bot.text.messages import MESSAGE_KINDS, mention_for, message_for
from bot.text.summary import (
    ELLIPSIS,
    SUMMARY_MAX,
    SUMMARY_SENTENCES,
    normalise_space,
    sentences,
    summarise,
    truncate,
)

# What Mastodon would turn into a mention, a hashtag or a link, if copied from a paper.
_ACTIVE = re.compile(r"(?<=[@#＠＃])(?=\w)|(?<=http)(?=s?://)|(?<=www)(?=\.)", re.IGNORECASE)
_WITHDRAWN = re.compile(r"\bwithdr[ae]wn?\b|\bwithdrawal\b", re.IGNORECASE)
_ZWSP = "\u200b"
ALL_AUTHORS_UP_TO = 4
SHOWN_AUTHORS = 3
MIN_SUMMARY = 60
MACHINE_LABEL = "TL;DR (machine-written): "


def defuse(text: str) -> str:
    """Paper text made inert: a zero-width space after ``@``/``#`` and inside ``http://``."""
    return _ACTIVE.sub(_ZWSP, text)


def format_authors(
    authors: Sequence[str], shown: int = SHOWN_AUTHORS, all_up_to: int = ALL_AUTHORS_UP_TO
) -> str:
    """All authors when there are at most ``all_up_to``, else the first ``shown`` and "et al."."""
    names = [normalise_space(a) for a in authors if a.strip()]
    if len(names) <= max(shown, all_up_to):
        return ", ".join(names)
    return ", ".join(names[:shown]) + " et al."


def is_withdrawn(paper: Paper) -> bool:
    return bool(paper.comment and _WITHDRAWN.search(paper.comment))


def meta_line(paper: Paper, ref: PaperRef) -> str:
    parts = [paper.primary_category, paper.published.date().isoformat()]
    if ref.version is not None:
        parts.append(
            f"v{ref.version}"
            + ("" if ref.version == paper.version else f" (latest v{paper.version})")
        )
    if is_withdrawn(paper):
        parts.append("withdrawn")
    return " · ".join(p for p in parts if p)


REPLY_LANGUAGE = "en"
"""Every word a reply carries is English: arXiv's titles and abstracts as it serves them, and
the bot's own messages. The asker's language is never copied onto them (clients would offer
a wrong translation, and language filters would misfile the reply). No language detector
is used: the tag is ``en``."""


@dataclass(frozen=True, slots=True)
class ComposedPost:
    text: str
    paper_id: str
    summary: str = ""
    machine_written: bool = False


def compose_paper_post(
    paper: Paper,
    ref: PaperRef,
    limits: ServerLimits,
    mention: str | None = None,
    tldr: str | None = None,
    *,
    summary_max: int = SUMMARY_MAX,
) -> ComposedPost:
    """One post about one paper, within ``limits.max_characters``.

    ``tldr`` is a machine-written summary; it is used, labelled, when it fits, otherwise the
    extractive summary is. ``summary_max`` caps the summary's characters, and then its
    sentences (``SUMMARY_SENTENCES``), however roomy the server; 0 is as much as fits.
    """
    limit = limits.max_characters
    title = defuse(readable(paper.title)) or paper.arxiv_id
    link = paper.abs_url(ref.version)
    lead = f"{mention} " if mention else ""
    meta = meta_line(paper, ref)

    def length(text: str) -> int:
        return post_length(text, limits)

    def head(title_text: str, authors_text: str, meta_text: str) -> str:
        lines = [f"{lead}📄 {title_text}", authors_text, meta_text, link]
        return "\n".join(line for line in lines if line)

    authors = defuse(format_authors(paper.authors))
    text = head(title, authors, meta)
    # Make room for a useful summary: shorten the authors, then the metadata, then the title.
    for shorter in (defuse(format_authors(paper.authors, shown=1, all_up_to=1)), ""):
        if length(text) + 2 + MIN_SUMMARY <= limit:
            break
        authors = shorter if shorter != authors else authors
        text = head(title, authors, meta)
    if length(text) + 2 + MIN_SUMMARY > limit:
        meta = ""
        text = head(title, authors, meta)
    over = length(text) + 2 + MIN_SUMMARY - limit
    if over > 0:
        title = truncate(title, max(length(title) - over, 1), length) or ELLIPSIS
        text = head(title, authors, meta)
    budget = limit - length(text) - 2
    sentences_at_most = None
    if summary_max > 0:
        budget, sentences_at_most = min(budget, summary_max), SUMMARY_SENTENCES
    if tldr and length(MACHINE_LABEL + tldr) <= budget:
        return ComposedPost(f"{text}\n\n{MACHINE_LABEL}{tldr}", paper.arxiv_id, tldr, True)
    abstract = defuse(readable(paper.abstract))
    summary = (
        summarise(abstract, budget, length, title=paper.title, max_sentences=sentences_at_most)
        if budget > 0
        else ""
    )
    if summary and length(f"{text}\n\n{summary}") <= limit:
        return ComposedPost(f"{text}\n\n{summary}", paper.arxiv_id, summary)
    return ComposedPost(text, paper.arxiv_id)


def abstract_posts(paper: Paper, limits: ServerLimits) -> list[ComposedPost]:
    """The whole abstract in numbered posts ``(1/3) …``, split between sentences.

    A sentence longer than a post is split between words into pieces of even length, so no
    post ends as a one-word tail.
    """
    abstract = defuse(readable(paper.abstract))
    if not abstract:
        return []
    numbering = 8  # "(99/99) "

    def length(text: str) -> int:
        return post_length(text, limits)

    room = limits.max_characters - numbering
    pieces: list[str] = []
    for sentence in sentences(abstract):
        pieces.extend(_split_even(sentence, room, length))
    chunks: list[str] = []
    for piece in pieces:
        if chunks and length(chunks[-1]) + 1 + length(piece) <= room:
            chunks[-1] = f"{chunks[-1]} {piece}"
        else:
            chunks.append(piece)
    total = len(chunks)
    return [
        ComposedPost(f"({i}/{total}) {chunk}", paper.arxiv_id) for i, chunk in enumerate(chunks, 1)
    ]


def _split_even(sentence: str, room: int, length: Callable[[str], int]) -> list[str]:
    """A sentence too long for one post, in the fewest pieces of most even length."""
    if length(sentence) <= room:
        return [sentence]
    words = sentence.split(" ")
    sizes = [length(w) for w in words]
    if max(sizes) > room:  # one "word" longer than a post (a pasted table, say)
        return [sentence[i : i + room] for i in range(0, len(sentence), room)]
    parts = -(-length(sentence) // room)
    while len(_pack(sizes, room)) > parts:
        parts += 1
    low, high = max(sizes), room
    while low < high:  # the smallest capacity that still needs no more pieces
        middle = (low + high) // 2
        if len(_pack(sizes, middle)) <= parts:
            high = middle
        else:
            low = middle + 1
    return [" ".join(words[a:b]) for a, b in _pack(sizes, low)]


def _pack(sizes: list[int], capacity: int) -> list[tuple[int, int]]:
    """Greedy word ranges ``[a, b)`` whose joined length stays within ``capacity``."""
    ranges: list[tuple[int, int]] = []
    start, used = 0, -1
    for i, size in enumerate(sizes):
        if used >= 0 and used + 1 + size > capacity:
            ranges.append((start, i))
            start, used = i, -1
        used += 1 + size
    ranges.append((start, len(sizes)))
    return ranges


def compose_thread(
    papers: Sequence[tuple[PaperRef, Paper]],
    limits: ServerLimits,
    mention: str | None = None,
    spoiler_text: str = "",
    mode: ReplyMode = "summary",
    tldrs: Mapping[str, str] | None = None,
    already: Mapping[str, str] | None = None,
    *,
    summary_max: int = SUMMARY_MAX,
) -> list[ComposedPost]:
    """The posts answering one status, in order: per paper its post (and in ``abstract`` mode
    its abstract), or a pointer when ``already`` maps the paper to an earlier answer's URL.
    Only the first post mentions the person answered. A content warning is copied onto every
    post and counts against its length."""
    room = replace(
        limits, max_characters=limits.max_characters - warning_length(spoiler_text, limits)
    )
    posts: list[ComposedPost] = []
    for ref, paper in papers:
        earlier = (already or {}).get(paper.arxiv_id)
        if earlier:
            posts.append(already_answered_post(paper, earlier, None if posts else mention))
            continue
        posts.append(
            compose_paper_post(
                paper,
                ref,
                room,
                None if posts else mention,
                (tldrs or {}).get(paper.arxiv_id),
                summary_max=summary_max,
            )
        )
        if mode == "abstract":
            posts.extend(abstract_posts(paper, room))
    return posts


def already_answered_post(paper: Paper, url: str, mention: str | None = None) -> ComposedPost:
    """Instead of a repeat: a pointer to the bot's earlier summary in the same thread."""
    lead = f"{mention} " if mention else ""
    title = defuse(readable(paper.title)) or paper.arxiv_id
    return ComposedPost(f"{lead}📄 {title}: summarised above, {url}", paper.arxiv_id)


def posts_for(
    request: Request,
    papers: Sequence[tuple[PaperRef, Paper]],
    limits: ServerLimits,
    *,
    mode: ReplyMode,
    per_hour: int,
    summary_max: int,
    how_made: str,
    tldrs: Mapping[str, str] | None = None,
    already: Mapping[str, str] | None = None,
) -> list[ComposedPost]:
    """Every post that answers ``request``: the bot's own words for a message request, else
    the papers' thread (``abstract`` mode when the request or ``mode`` asks for it).
    ``how_made`` is the help text's disclosure of what writes the summaries."""
    if request.kind in MESSAGE_KINDS:
        return [ComposedPost(message_for(request, per_hour, how_made), "")]
    return compose_thread(
        papers,
        limits,
        mention_for(request.status),
        request.status.spoiler_text,
        "abstract" if request.mode == "abstract" else mode,
        tldrs,
        already,
        summary_max=summary_max,
    )
