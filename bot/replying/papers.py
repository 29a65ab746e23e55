"""Getting papers: the cache first, then one batched arXiv request, then machine TL;DRs;
leaving arXiv alone while it fails or throttles.

Used by the running bot and by ``arxiv-bot preview`` alike (the preview with a throw-away
store), so both show the same papers and the same summaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from bot.clients.ports import ArxivPort, LlmPort
from bot.errors import BotError, RejectedError, TransientError
from bot.limits.pauses import Pause
from bot.models import Paper
from bot.state.meta import ARXIV_LAST_REQUEST, Meta
from bot.state.paper_cache import PaperCache
from bot.text.tldr import TLDR_MAX_CHARACTERS, acceptable_tldr

log = structlog.get_logger()
MISS_FIRST_DELAY = 300.0
MISS_MAX_DELAY = 3600.0


def miss_delay(misses: int) -> float:
    """When to ask again about an id arXiv did not know: a paper linked before arXiv
    announces it appears within hours, so 5 minutes, doubling, at most hourly."""
    return min(MISS_FIRST_DELAY * 2.0 ** (misses - 1), MISS_MAX_DELAY)


@dataclass
class Found:
    """What :meth:`Papers.get` learnt about a set of ids.

    ``papers``: the ones known. ``refused``: ids arXiv refuses outright (malformed for it),
    never worth asking again. ``missed``: ids arXiv did not know, this time or lately; they
    are asked again later (``miss_delay``). ``error``: arXiv could not answer at all.
    """

    papers: dict[str, Paper] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    missed: set[str] = field(default_factory=set)
    error: TransientError | None = None
    requests: int = 0


class Papers:
    def __init__(
        self,
        cache: PaperCache,
        meta: Meta,
        arxiv: ArxivPort,
        pause: Pause,
        *,
        llm: LlmPort | None = None,
    ) -> None:
        self._cache = cache
        self._meta = meta
        self._arxiv = arxiv
        self._pause = pause
        self._llm = llm

    def unknown_lately(self, ids: Sequence[str]) -> set[str]:
        """Of these ids, the ones arXiv has not known when last asked."""
        return self._cache.missed(ids)

    def get(self, ids: Sequence[str]) -> Found:
        """The papers: cached ones, and the rest from arXiv unless it is being left alone.

        Ids arXiv recently did not know are not asked again before their time.
        """
        wanted = list(dict.fromkeys(ids))
        found = Found(self._cache.papers(wanted))
        waiting = self._cache.misses_not_due([i for i in wanted if i not in found.papers])
        found.missed |= waiting
        missing = [i for i in wanted if i not in found.papers and i not in waiting]
        if not missing or not self._pause.ready():
            return found
        # Kept before asking, so a crash during the request still leaves the gap on record.
        self._meta.set(ARXIV_LAST_REQUEST, repr(self._arxiv.next_request_at()))
        try:
            fetched = self._fetch(missing, found)
            self._pause.succeeded()
        except TransientError as exc:
            found.error = exc
            retry_in = self._pause.failed(exc)
            log.warning(
                "arxiv_unavailable", paper_ids=missing, error=exc, retry_in=round(retry_in, 1)
            )
            fetched = {}
        last = self._arxiv.last_request_at()
        if last is not None:
            self._meta.set(ARXIV_LAST_REQUEST, repr(last))
        self._cache.keep(fetched.values())
        found.papers.update(fetched)
        if found.error is None:
            self._cache.forget_misses(fetched)
            self._cache.record_misses(found.missed - waiting, miss_delay)
        return found

    def _fetch(self, ids: list[str], found: Found) -> dict[str, Paper]:
        """Papers for ``ids``; the ids arXiv does not know go to ``found.missed``, the ones it
        refuses to ``found.refused``. A refused batch is split in halves until the refused
        id stands alone."""
        found.requests += 1
        try:
            papers = self._arxiv.fetch(ids)
        except RejectedError:
            if len(ids) == 1:
                log.warning("arxiv_refused_id", paper_id=ids[0])
                found.refused.update(ids)
                return {}
            half = len(ids) // 2
            return self._fetch(ids[:half], found) | self._fetch(ids[half:], found)
        unknown = {i for i in ids if i not in papers}
        if unknown:
            log.info("arxiv_unknown_ids", paper_ids=sorted(unknown))
            found.missed |= unknown
        return papers

    def tldrs(self, papers: Sequence[Paper]) -> dict[str, str]:
        """Machine-written TL;DRs by paper id, asked once per paper version and model."""
        if self._llm is None:
            return {}
        found: dict[str, str] = {}
        for paper in papers:
            asked, tldr = self._cache.tldr(paper.arxiv_id, paper.version, self._llm.model)
            if not asked:
                try:
                    answer = self._llm.tldr(paper)
                except BotError as exc:
                    log.warning(
                        "llm_failed", paper_id=paper.arxiv_id, error=exc, fallback="extractive"
                    )
                    continue
                tldr, verdict = acceptable_tldr(answer, TLDR_MAX_CHARACTERS)
                self._cache.set_tldr(paper.arxiv_id, paper.version, self._llm.model, tldr, verdict)
                if tldr is None:
                    log.info(
                        "llm_tldr_rejected",
                        paper_id=paper.arxiv_id,
                        reason=verdict,
                        fallback="extractive",
                    )
            if tldr:
                found[paper.arxiv_id] = tldr
        return found
