"""Posting exactly once: the reply thread for one request, each post recorded as it goes.

Before each post the intent is recorded; after a crash or a lost answer, the bot looks in the
thread for its own reply before posting again, and every retry carries the same
idempotency key. A post the server refuses as too long is composed again under the strictest
count and tried once more (the one place that happens). A request is finished (answered, or
given up with a reason) in the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import structlog

from bot.clients.ports import MastodonPort
from bot.clock import Clock, Wait
from bot.deciding.asked import Parser
from bot.deciding.policy import idempotency_key, reply_visibility, thread_room
from bot.errors import RejectedError
from bot.limits.budget import POST_WINDOW_SECONDS, posts_left
from bot.limits.server_info import ServerInfo
from bot.models import Identity, Paper, PaperRef, Post, ReplyMode, Request, Visibility
from bot.state.ledger import Ledger
from bot.state.meta import POSTS_SHORT, Meta
from bot.text.compose import REPLY_LANGUAGE, ComposedPost, posts_for
from bot.text.messages import EXTRACTIVE
from bot.text.summary import SUMMARY_MAX

log = structlog.get_logger()
_TOO_LONG = re.compile(r"charact|chars|limit|max_length|too long", re.IGNORECASE)


def too_long(exc: RejectedError) -> bool:
    """Whether a refused post was refused for its length: servers say so with 400 or 422 and
    words such as "character limit" (Mastodon, Akkoma), "exceed max chars" (GoToSocial) or
    ``MAX_LENGTH`` (Sharkey)."""
    return exc.status in (400, 422) and _TOO_LONG.search(str(exc)) is not None


Outcome = Literal["answered", "stopped", "thread_cap", "out_of_posts"]
"""How a request's turn ended: all posted, stopped half-way (SIGTERM), dropped at the thread
cap, or halted because the account's posts for the 3-hour window are spent."""


@dataclass(frozen=True, slots=True)
class Manners:
    """The settings posting follows."""

    reply_visibility: Visibility = "unlisted"
    reply_mode: ReplyMode = "summary"
    summary_max_characters: int = SUMMARY_MAX
    """At most this many characters (and three sentences) of summary; 0: as much as fits."""
    how_made: str = EXTRACTIVE
    """What writes the summaries, in the help text's words."""
    max_replies_per_thread: int = 6
    rate_per_account: int = 10
    """For the hourly notice's words."""
    posts_per_3h: int = 300
    post_gap_seconds: float = 3.0
    dry_run: bool = False


class Poster:
    def __init__(
        self,
        ledger: Ledger,
        meta: Meta,
        mastodon: MastodonPort,
        server: ServerInfo,
        parse: Parser,
        manners: Manners,
        me: Identity,
        clock: Clock,
        *,
        should_stop: Callable[[], bool],
        wait: Wait,
    ) -> None:
        self._ledger = ledger
        self._meta = meta
        self._mastodon = mastodon
        self._server = server
        self._parse = parse
        self._manners = manners
        self._me = me
        self._clock = clock
        self._should_stop = should_stop
        self._wait = wait
        self._last_post_at: float | None = None
        self.posts_sent = 0
        """Posts sent (or, on a dry run, logged) since this poster was made."""
        self.posts_left: int | None = None
        """Posts it may still make now (the cycle sets it from the 3-hour budget)."""

    def plan(self, queued: int) -> None:
        """Spend no more than the 3-hour post budget allows; say so once when the queue needs
        more than it allows, and once when it allows again."""
        since = self._clock.now() - timedelta(seconds=POST_WINDOW_SECONDS)
        per_window = self._manners.posts_per_3h
        self.posts_left = posts_left(self._ledger.posts_since(since), per_window)
        short = queued > self.posts_left
        was_short = self._meta.get(POSTS_SHORT) == "1"
        if short and not was_short:
            log.warning(
                "post_budget",
                queued=queued,
                posts_left=self.posts_left,
                per_3h=per_window,
                action="pacing: the rest wait for the window",
            )
        elif was_short and not short:
            log.info("post_budget_restored", posts_left=self.posts_left)
        if short != was_short:
            self._meta.set(POSTS_SHORT, "1" if short else "0")

    def give_up(self, item: Request, reason: str, error: Exception | None = None) -> None:
        self._ledger.finish(item, reason)
        log.warning(
            "status_dropped",
            status_id=item.status.id,
            paper_ids=[str(r) for r in item.refs],
            reason=reason,
            error=error,
        )

    def delete(self, item: Request) -> None:
        """Delete the reply ``item``'s mention answers (checked when it was queued)."""
        target = item.status.in_reply_to_id or ""
        facts = {"status_id": item.status.id, "reply_id": target}
        if self._manners.dry_run:
            log.info("would_delete", **facts)
        else:
            self._mastodon.delete(target)
            self._ledger.forget_reply(target)
            log.info("reply_deleted", **facts)
        self._ledger.finish(item, "deleted")

    def answer(
        self,
        item: Request,
        present: Sequence[tuple[PaperRef, Paper]],
        tldrs: Callable[[Sequence[Paper]], dict[str, str]],
    ) -> Outcome:
        """Post what is left of the request's thread. Mastodon errors propagate: the posts
        already sent are recorded, so the next cycle carries on after them. A refusal as too
        long, where the count was Mastodon's, is tried once more under the strict count."""
        try:
            return self._answer(item, present, tldrs)
        except RejectedError as exc:
            if not (too_long(exc) and self._server.count_strictly(exc)):
                raise
            return self._answer(item, present, tldrs)

    def _answer(
        self,
        item: Request,
        present: Sequence[tuple[PaperRef, Paper]],
        tldrs: Callable[[Sequence[Paper]], dict[str, str]],
    ) -> Outcome:
        status = item.status
        manners = self._manners
        papers_asked = item.kind in ("hashtag", "mention")
        room, already = self._thread_facts(item) if papers_asked else (0, {})
        if papers_asked and room == 0:
            self.give_up(item, "thread_cap")
            return "thread_cap"
        posts = posts_for(
            item,
            present,
            self._server.limits,
            mode=manners.reply_mode,
            per_hour=manners.rate_per_account,
            summary_max=manners.summary_max_characters,
            how_made=manners.how_made,
            tldrs=tldrs([paper for _, paper in present]) if papers_asked else None,
            already=already,
        )
        if papers_asked:
            posts = posts[: len(item.posted_reply_ids) + room]
        refs = {ref.arxiv_id: ref for ref, _ in present}
        visibility = reply_visibility(status.visibility, manners.reply_visibility)
        reply_ids = list(item.posted_reply_ids)
        for position, composed in enumerate(posts):
            if position < len(reply_ids):
                continue  # posted before a crash or an error; carry on after it
            if self._should_stop():
                return "stopped"  # the rest follows on the next start
            if self.posts_left is not None and self.posts_left <= 0:
                return "out_of_posts"  # the rest follows when the window allows
            ref = refs.get(composed.paper_id)
            parent = reply_ids[-1] if reply_ids else status.id
            post = Post(
                text=composed.text,
                visibility=visibility,
                in_reply_to_id=parent,
                idempotency_key=idempotency_key(item.key, position, [ref] if ref else []),
                spoiler_text=status.spoiler_text,
                language=REPLY_LANGUAGE,  # the reply's text's, never the asker's
            )
            reply_ids.append(self._post_once(item.key, position, post, composed, ref))
            self._ledger.record_reply(item.key, position, composed.paper_id, reply_ids[-1])
            self.posts_sent += 1
            if self.posts_left is not None:
                self.posts_left -= 1
        self._ledger.finish(item, "answered")
        log.info(
            "replied",
            status_id=status.id,
            status_url=status.url,
            kind=item.kind,
            paper_ids=[str(r) for r, _ in present],
            reply_ids=reply_ids,
            visibility=visibility,
            dry_run=manners.dry_run,
        )
        return "answered"

    def _post_once(
        self,
        key: str,
        position: int,
        post: Post,
        composed: ComposedPost,
        ref: PaperRef | None,
    ) -> str:
        parent = post.in_reply_to_id or key
        recovered = self._already_posted(key, position, parent)
        if recovered is not None:
            return recovered
        if self._manners.dry_run:
            log.info(
                "would_post",
                status_id=key,
                paper_id=str(ref) if ref else None,
                visibility=post.visibility,
                machine_written=composed.machine_written,
                text=post.text,
            )
            return f"dry-run:{key}:{position}"
        self._pace()
        self._ledger.record_intent(key, position, parent, post.idempotency_key)
        self._last_post_at = self._clock.monotonic()
        return self._mastodon.post(post)

    def _pace(self) -> None:
        """Where the server sends no rate-limit headers (Akkoma, Iceshrimp, Friendica…), keep
        ``BOT_POST_GAP_SECONDS`` between posts: their limits are unannounced and short."""
        gap = self._manners.post_gap_seconds
        if gap <= 0 or self._last_post_at is None or self._mastodon.rate_limit() is not None:
            return
        left = self._last_post_at + gap - self._clock.monotonic()
        if left > 0:
            self._wait(left)  # the stop event's wait: SIGTERM ends it at once

    def _thread_facts(self, item: Request) -> tuple[int, dict[str, str]]:
        """Room left for the bot in this conversation, and papers it already summarised there."""
        cap = self._manners.max_replies_per_thread
        if self._me.account_id is None:
            return cap, {}
        mine = [
            s
            for s in self._mastodon.thread(item.status.id)
            if s.account.id == self._me.account_id and s.id not in item.posted_reply_ids
        ]
        already: dict[str, str] = {}
        for status in mine:
            for ref in self._parse(status).refs:
                already.setdefault(ref.arxiv_id, status.url or status.id)
        return thread_room(len(mine), cap), already

    def _already_posted(self, key: str, position: int, parent: str) -> str | None:
        """After a crash or a lost answer: the reply the bot did post, found in the thread
        (one it has on record for something else, such as a notice, does not count)."""
        intended = self._ledger.intent(key, position)
        if intended is None or self._me.account_id is None or intended != parent:
            return None
        found = [
            reply_id
            for reply_id in self._mastodon.replies_by(self._me.account_id, parent)
            if not self._ledger.is_reply(reply_id)
        ]
        if found:
            log.info("reply_recovered", status_id=key, position=position, reply_id=found[0])
            return found[0]
        return None
