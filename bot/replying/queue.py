"""Working through the queue: what waits, what is given up, what is answered now.

Oldest first. A request waits while arXiv is away or does not know one of its papers yet,
while its account has had its answers for the hour, while posting backs off after a failed
post, or while the post budget is spent, however many wait; it is given up only after
``BOT_PENDING_HOURS`` with nothing posted (``no_such_paper`` when arXiv kept not knowing a
paper it names, else ``expired``). The papers of the whole queue come in one batched
request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog

from bot.clock import Clock
from bot.deciding.policy import over_rate
from bot.errors import RejectedError, TransientError
from bot.limits.pauses import Pause
from bot.models import CycleReport, Request
from bot.replying.papers import Papers
from bot.replying.posting import Poster
from bot.state.ledger import Ledger

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Patience:
    """``BOT_PENDING_HOURS`` and ``BOT_RATE_PER_ACCOUNT``."""

    pending_hours: float
    rate_per_account: int


class AnswerQueue:
    def __init__(
        self,
        ledger: Ledger,
        papers: Papers,
        poster: Poster,
        posting: Pause,
        patience: Patience,
        clock: Clock,
        should_stop: Callable[[], bool],
    ) -> None:
        self._ledger = ledger
        self._papers = papers
        self._poster = poster
        self._posting = posting
        self._patience = patience
        self._clock = clock
        self._should_stop = should_stop

    def work(self, report: CycleReport) -> None:
        queue = self._expire(self._ledger.pending(), report)
        if not queue:
            return
        if not self._posting.ready():  # a post failed a moment ago: the queue waits
            report.waiting += len(queue)
            log.debug(
                "posting_paused", waiting=len(queue), retry_in=round(self._posting.retry_in(), 1)
            )
            return
        found = self._papers.get([r.arxiv_id for request in queue for r in request.refs])
        report.arxiv_requests += found.requests
        if found.error is not None:
            report.errors.append(f"arxiv:{type(found.error).__name__}")
            report.api_error("arxiv", found.error)
        papers, refused = found.papers, found.refused
        poster = self._poster
        poster.plan(len(queue))
        posted_before = poster.posts_sent
        try:
            for request in queue:
                if self._should_stop():
                    return
                if any(
                    r.arxiv_id not in papers and r.arxiv_id not in refused for r in request.refs
                ):
                    report.waiting += 1  # arXiv is away, or does not know a paper yet
                    continue
                if self._held_by_cap(request):
                    report.waiting += 1
                    continue
                present = [(r, papers[r.arxiv_id]) for r in request.refs if r.arxiv_id in papers]
                if request.kind in ("hashtag", "mention") and not present:
                    poster.give_up(request, "no_such_paper")
                    report.drop("no_such_paper")
                    continue
                try:
                    if request.kind == "delete":
                        poster.delete(request)
                        continue
                    outcome = poster.answer(request, present, self._papers.tldrs)
                except RejectedError as exc:
                    poster.give_up(request, f"rejected_{exc.status}", error=exc)
                    report.drop(f"rejected_{exc.status}")
                    report.api_error("mastodon", exc)
                    continue
                except TransientError as exc:
                    report.errors.append(f"post:{type(exc).__name__}")
                    report.api_error("mastodon", exc)
                    self._posting.failed_with(exc, "post_failed", status_id=request.status.id)
                    report.waiting += 1
                    return
                self._posting.succeeded()
                if outcome == "answered":
                    report.replied += 1
                elif outcome == "thread_cap":
                    report.drop("thread_cap")
                elif outcome == "out_of_posts":
                    report.waiting += 1
                    return
        finally:
            report.posts += poster.posts_sent - posted_before

    def _held_by_cap(self, request: Request) -> bool:
        """A paper request waits while its account has had its answers for the hour."""
        if request.kind not in ("hashtag", "mention") or request.posted_reply_ids:
            return False
        account = request.status.account.id
        since = self._clock.now() - timedelta(hours=1)
        answered = self._ledger.answers_since([account], since).get(account, 0)
        return over_rate(answered, self._patience.rate_per_account)

    def _expire(self, queue: list[Request], report: CycleReport) -> list[Request]:
        """Drop what waited ``BOT_PENDING_HOURS`` with nothing posted."""
        horizon = self._clock.now() - timedelta(hours=self._patience.pending_hours)
        kept = []
        for request in queue:
            if request.first_seen < horizon and not request.posted_reply_ids:
                missed = self._papers.unknown_lately([r.arxiv_id for r in request.refs])
                reason = "no_such_paper" if missed else "expired"
                self._poster.give_up(request, reason)
                report.drop(reason)
            else:
                kept.append(request)
        return kept
