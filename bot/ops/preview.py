"""``arxiv-bot preview``: the posts the bot would write for arXiv links, ids or a post's text,
with the bot's own way to papers and summaries and a state that keeps nothing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import ReplySettings
from bot.models import PaperRef, ServerLimits
from bot.replying.papers import Papers
from bot.text.arxiv_links import papers_in_reference
from bot.text.compose import compose_thread, is_withdrawn
from bot.text.counting import post_length
from bot.text.markup import readable

EXIT_OK, EXIT_FAILED = 0, 1


class Shelf(Protocol):
    """Papers, and the clients behind them to close after."""

    papers: Papers

    def close(self) -> None: ...


def preview(
    args: argparse.Namespace,
    settings: ReplySettings,
    librarian: Callable[[], Shelf],
    clock: Clock,
) -> int:
    """Print the posts for each REF; exit 1 when a REF names no paper arXiv knows.
    ``librarian`` builds the bot's own way to papers, once there are papers to get."""
    refs: list[PaperRef] = []
    today = clock.now().date()
    for text in args.refs:
        found = papers_in_reference(text, today, bare_ids=settings.bot_bare_ids)
        if not found:
            print(f"arxiv-bot: no arXiv paper in {text!r}", file=sys.stderr)
        refs.extend(r for r in found if r.arxiv_id not in {x.arxiv_id for x in refs})
    if not refs:
        return EXIT_FAILED
    limits = ServerLimits(args.max_characters, args.url_length)
    papers_of = librarian()
    try:
        found_papers = papers_of.papers.get([r.arxiv_id for r in refs])
        if found_papers.error is not None:
            print(f"arxiv-bot: arXiv: {found_papers.error}", file=sys.stderr)
            return EXIT_FAILED
        papers = found_papers.papers
        present = [(r, papers[r.arxiv_id]) for r in refs if r.arxiv_id in papers]
        tldrs = papers_of.papers.tldrs([paper for _, paper in present])
    finally:
        papers_of.close()
    for ref in refs:
        if ref.arxiv_id not in papers:
            print(f"arxiv-bot: arXiv does not know {ref}", file=sys.stderr)
    posts = compose_thread(
        present,
        limits,
        args.mention or None,
        mode=settings.bot_reply_mode,
        tldrs=tldrs,
        summary_max=settings.bot_summary_max_characters,
    )
    if args.json:
        out: list[dict[str, Any]] = []
        for ref, paper in present:
            own = [p for p in posts if p.paper_id == paper.arxiv_id]
            out.append(
                {
                    "id": paper.arxiv_id,
                    "version": ref.version,
                    "latest_version": paper.version,
                    "title": readable(paper.title),
                    "authors": list(paper.authors),
                    "url": paper.abs_url(ref.version),
                    "primary_category": paper.primary_category,
                    "published": paper.published.date().isoformat(),
                    "withdrawn": is_withdrawn(paper),
                    "summary": own[0].summary,
                    "machine_written": own[0].machine_written,
                    "posts": [p.text for p in own],
                }
            )
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for i, post in enumerate(posts, 1):
            length = post_length(post.text, limits)
            print(f"--- post {i}/{len(posts)} ({length}/{limits.max_characters} characters) ---")
            print(post.text)
    return EXIT_OK if len(present) == len(refs) else EXIT_FAILED
