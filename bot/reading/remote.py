"""Hashtags read from other servers, and the posts found there resolved on the bot's own.

A remote source is another server's public tag timeline read **anonymously** (the bot's
token never leaves its own server), paged forward from its own cursor and swept for late
arrivals like any timeline. What it finds is not decided there: each new post with a paper
is kept by its URI (``bot.deciding.remote``), then :class:`Resolver` asks the bot's own
server for it (``/api/v2/search?resolve=true``), one request per post, and decides the copy
it gets like a post read at home — same consent rules, caps, visibility and exactly-once
ledger, under the home server's id.

A server that refuses anonymous reads (401, 403, 404, an API switched off) is a refusal of
that source alone: logged once, asked again after ``REFUSED_RETRY_SECONDS``. Errors and
429s pause that server alone, never the bot's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import structlog

from bot.clients.ports import MastodonPort
from bot.clock import Clock
from bot.deciding.remote import RemoteIntake
from bot.errors import AuthError, RejectedError, TransientError
from bot.limits.pauses import Pause
from bot.models import Decided, Page, RemoteTag
from bot.reading.pages import Decide
from bot.reading.sources import HashtagSource, carries_a_watched_tag
from bot.state.remote import RemotePosts

log = structlog.get_logger()

REFUSED_RETRY_SECONDS = 6 * 3600.0
"""How long a server that refused anonymous tag reads is left alone before it is asked again."""
REMOTE_MIN_INTERVAL_SECONDS = 60.0
"""The most often one remote tag timeline is read (and never more often than home's poll)."""
RESOLVES_PER_CYCLE = 20
"""The most posts resolved on the bot's own server in one cycle (one request each)."""
NOT_FOUND_ATTEMPTS = 4
"""How often a post the bot's own server cannot show is looked up (1, 2, 4 minutes apart)
before it is dropped: its server may have been briefly unreachable from there."""


class RemoteTagSource(HashtagSource):
    """One hashtag on another server's public tag timeline, read without a token."""

    def __init__(self, remote: MastodonPort, tag: RemoteTag) -> None:
        super().__init__(remote, (tag.tag,))
        self.port = remote
        self.remote = tag
        self.key = tag.key

    def page(self, cursor: str, limit: int) -> Page:
        with self._login_is_a_refusal():
            return super().page(cursor, limit)

    def newest(self) -> str | None:
        with self._login_is_a_refusal():
            return super().newest()

    @contextmanager
    def _login_is_a_refusal(self) -> Iterator[None]:
        """A 401 here is no fault of the bot's token (none is sent): the server shows its
        tags to its own users only."""
        try:
            yield
        except AuthError as exc:
            raise RejectedError(
                f"{self.remote.server} needs a login to read #{self.remote.tag}", 401
            ) from exc


@dataclass
class RemoteRead:
    """What one remote source is allowed now: its server's pause and when it was last read."""

    source: RemoteTagSource
    pause: Pause
    interval: float
    read_at: float | None = None
    refused: str | None = None
    """Why the server refused anonymous reads, while it does (logged once)."""

    def due(self, now: float) -> bool:
        if not self.pause.ready():
            return False
        return self.read_at is None or now - self.read_at >= self.interval

    def read(self, now: float) -> None:
        """Read: due again after the interval, or after the server's rate limit resets when
        it is nearly spent (its own X-RateLimit-* headers, where it sends them)."""
        self.read_at = now
        limit = self.source.port.rate_limit()
        if limit is not None and limit.remaining <= max(limit.limit // 20, 1):
            self.read_at = now - self.interval + max(limit.reset_in, self.interval)
        self.pause.succeeded()
        if self.refused is not None:
            log.info("remote_source_readable", source=self.source.key)
            self.refused = None

    def refuse(self, exc: RejectedError, now: float) -> None:
        """Refused anonymous reads: said once, asked again hours later."""
        self.read_at = now - self.interval + REFUSED_RETRY_SECONDS
        if self.refused is None:
            log.warning(
                "remote_source_refused",
                source=self.source.key,
                error=str(exc),
                status=exc.status,
                retry_in=REFUSED_RETRY_SECONDS,
                hint="the server shows this tag to its own users only, or not at all",
            )
        self.refused = str(exc)


@dataclass
class ResolveCounts:
    resolved: int = 0
    queued: int = 0
    dropped: int = 0
    waiting: int = 0


class Resolver:
    """Looks up on the bot's own server the posts found elsewhere, and decides the copies."""

    def __init__(
        self,
        home: MastodonPort,
        remote: RemotePosts,
        record_resolved: Callable[[str, str, Decided], int],
        watched: Sequence[str],
        clock: Clock,
        give_up_after: timedelta,
    ) -> None:
        self._home = home
        self._remote = remote
        self._record = record_resolved
        self._watched = frozenset(t.lower() for t in watched)
        self._clock = clock
        self._give_up_after = give_up_after
        self._refused_said = False

    def work(self, decide: Decide, should_stop: Callable[[], bool]) -> ResolveCounts:
        """Resolve what is due. TransientError (the bot's own server failing) propagates after
        the post is set to be tried again; the rest waits for the next cycle."""
        counts = ResolveCounts()
        now = self._clock.now()
        for waiting in self._remote.due(now, RESOLVES_PER_CYCLE):
            if should_stop():
                break
            if now - waiting.found_at > self._give_up_after:
                self._drop(waiting.uri, waiting.source, "not_resolved_in_time", counts)
                continue
            try:
                status = self._home.resolve(waiting.uri)
            except TransientError:
                self._remote.retry_at(waiting.uri, now + _backoff(waiting.attempts))
                raise
            except RejectedError as exc:
                if exc.status in (401, 403):  # the token lacks read:search: every one would fail
                    self._remote.postpone_all(now + timedelta(hours=1))
                    if not self._refused_said:
                        self._refused_said = True
                        log.warning("resolve_refused", uri=waiting.uri, error=str(exc))
                    break
                self._drop(waiting.uri, waiting.source, f"refused_{exc.status}", counts)
                continue
            self._refused_said = False
            if status is None:
                if waiting.attempts + 1 >= NOT_FOUND_ATTEMPTS:
                    self._drop(waiting.uri, waiting.source, "not_found_on_home", counts)
                else:
                    self._remote.retry_at(waiting.uri, now + _backoff(waiting.attempts))
                    counts.waiting += 1
                continue
            if not carries_a_watched_tag(status, self._watched):
                self._drop(waiting.uri, waiting.source, "no_watched_tag_on_home_copy", counts)
                continue
            counts.resolved += 1
            counts.queued += self._record(waiting.uri, status.id, decide(False, [status]))
            log.info(
                "remote_post_resolved",
                source=waiting.source,
                uri=waiting.uri,
                status_id=status.id,
                attempts=waiting.attempts + 1,
            )
        return counts

    def _drop(self, uri: str, source: str, reason: str, counts: ResolveCounts) -> None:
        self._remote.drop(uri, reason)
        counts.dropped += 1
        log.info("remote_post_dropped", source=source, uri=uri, reason=reason)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60.0 * 2**attempts, 3600.0))


@dataclass
class Remote:
    """The remote sources, what finds posts in them, and what resolves those posts."""

    reads: Sequence[RemoteRead]
    intake: RemoteIntake
    resolver: Resolver
