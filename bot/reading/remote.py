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
from functools import partial

import structlog

from bot.clients.ports import MastodonPort
from bot.clock import Clock
from bot.deciding.remote import RemoteIntake
from bot.errors import AuthError, RejectedError, TransientError
from bot.limits.budget import RateLimit, stretched_gap
from bot.limits.pauses import Pause
from bot.models import CycleReport, Decided, Page, RemoteTag
from bot.reading.pages import Decide, ReadCounts, Record, read_source
from bot.reading.sources import HashtagSource, carries_a_watched_tag
from bot.reading.sweeps import Sweeps
from bot.state.cursors import Cursors
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
        self.remote = tag
        self.key = tag.key

    def rate_limit(self) -> RateLimit | None:
        """What the remote server's last X-RateLimit-* headers said."""
        return self._mastodon.rate_limit()

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

    def may_ask(self) -> bool:
        """Neither paused after a failure nor refused."""
        return self.pause.ready() and self.refused is None

    def due(self, now: float) -> bool:
        """Whether its live read is due: not paused, and an interval since the last read (or
        the refusal's wait over)."""
        if not self.pause.ready():
            return False
        return self.read_at is None or now - self.read_at >= self.interval

    def read(self, now: float) -> None:
        """Read: due again after the interval, stretched as home's polls are when the
        server's own X-RateLimit-* headers say its budget runs low (until the reset, when
        it is nearly spent)."""
        gap = stretched_gap(self.source.rate_limit(), 1, self.interval)
        self.read_at = now - self.interval + gap
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
                self._drop(waiting.uri, waiting.source, "not_resolved_in_time")
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
                self._drop(waiting.uri, waiting.source, f"refused_{exc.status}")
                continue
            self._refused_said = False
            if status is None:
                if waiting.attempts + 1 >= NOT_FOUND_ATTEMPTS:
                    self._drop(waiting.uri, waiting.source, "not_found_on_home")
                else:
                    self._remote.retry_at(waiting.uri, now + _backoff(waiting.attempts))
                continue
            if not carries_a_watched_tag(status, self._watched):
                self._drop(waiting.uri, waiting.source, "no_watched_tag_on_home_copy")
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

    def _drop(self, uri: str, source: str, reason: str) -> None:
        self._remote.drop(uri, reason)
        log.info("remote_post_dropped", source=source, uri=uri, reason=reason)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60.0 * 2**attempts, 3600.0))


class Remote:
    """The remote sources read on their own pace (no server streams them anonymously, so
    they are polled even while home's streams slow home's polls), swept with home's sweeps,
    and what they found resolved on the bot's own server."""

    def __init__(
        self,
        reads: Sequence[RemoteRead],
        intake: RemoteIntake,
        resolver: Resolver,
        *,
        cursors: Cursors,
        record: Record,
        sweeps: Sweeps,
        clock: Clock,
        should_stop: Callable[[], bool],
    ) -> None:
        self.reads = reads
        self._intake = intake
        self._resolver = resolver
        self._cursors = cursors
        self._record = record
        self._sweeps = sweeps
        self._clock = clock
        self._should_stop = should_stop

    def read(self, report: CycleReport) -> None:
        """Each remote tag timeline whose live read is due."""
        now = self._clock.monotonic()
        for read in self.reads:
            if self._should_stop():
                return
            if read.due(now):
                counts = ReadCounts()
                self._guarded(read, report, now, partial(self._live, read, counts, now))
                report.seen += counts.seen
                report.found_remote += counts.queued

    def sweep(self, report: CycleReport) -> None:
        """The sweeps of the remote tag timelines that may be asked now."""
        now = self._clock.monotonic()
        for read in self.reads:
            if self._should_stop():
                return
            if read.may_ask():
                self._guarded(read, report, now, partial(self._swept, read, report))

    def resolve(self, decide: Decide, report: CycleReport) -> None:
        """What was found, looked up on the bot's own server and decided. TransientError
        propagates: the bot's own server is failing."""
        counts = self._resolver.work(decide, self._should_stop)
        report.resolved += counts.resolved
        report.queued += counts.queued

    def _live(self, read: RemoteRead, counts: ReadCounts, now: float) -> None:
        decide = self._intake.decider(read.source.key)
        read_source(read.source, self._cursors, decide, self._record, self._should_stop, counts)
        self._sweeps.note(read.source)
        read.read(now)

    def _swept(self, read: RemoteRead, report: CycleReport) -> None:
        decide = self._intake.decider(read.source.key)
        swept = self._sweeps.sweep(read.source, decide, self._record, self._should_stop)
        report.swept += swept.seen
        report.found_remote += swept.queued

    @staticmethod
    def _guarded(
        read: RemoteRead, report: CycleReport, now: float, step: Callable[[], None]
    ) -> None:
        """One remote server's step: a failure pauses that server alone, a refusal is said
        once and asked again hours later."""
        try:
            step()
        except RejectedError as exc:
            read.refuse(exc, now)
        except TransientError as exc:
            report.errors.append(f"remote:{type(exc).__name__}")
            read.pause.failed_with(exc, "remote_poll_failed", source=read.source.key)
