"""Following the live streams: a fast hint beside the polls, never the record.

Mastodon pushes new posts and notifications over its streaming API as they arrive, but
lossily: whatever is sent while a stream is down is gone, and a connection can look healthy
while nothing flows (``../shared/FACTS-streaming.md``). So a streamed status only goes into
an inbox that the cycle drains into the same intake as a polled one (where a status decided
before is not decided again), and rings the doorbell so that happens at once. Polling stays:
after every connect the cycle polls to catch up on what the stream missed, and while every
stream is healthy it polls ``BOT_STREAM_POLL_FACTOR`` times less often.

Each stream runs in a thread of its own, in a loop: connect, read until the stream fails,
back off with jitter, connect again. A connection that carries no heartbeat or event for
``BOT_STREAM_DEAD_SECONDS`` is dead (the read times out then, not after five minutes). A
server that refuses a stream (404, 401) leaves it to polling, said once, and is asked again
every ``BOT_STREAM_RETRY_SECONDS``.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from bot.errors import StreamRefused
from bot.models import Status, StreamSpec, StreamView
from bot.pacing import Backoff
from bot.ports import StreamConnection, StreamOpener
from bot.servers import Server
from bot.sources import carries_a_watched_tag

RECONNECT_BASE_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 300.0
INBOX_LIMIT = 1_000
"""Streamed statuses kept for the cycle. Past it (a burst faster than the cycle can decide)
the oldest go and a catch-up poll is due: the timeline still has them."""
log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """Which streams to open, or why none (for the one log line that says so)."""

    specs: tuple[StreamSpec, ...]
    unavailable: str | None = None
    notes: tuple[str, ...] = ()


def plan_streams(
    server: Server,
    hashtags: Sequence[str],
    *,
    has_token: bool,
    mode: str,
    hashtag_feeds: str = "public",
) -> StreamPlan:
    """The streams worth opening on ``server`` (pure)."""
    if mode == "off":
        return StreamPlan((), "BOT_STREAMING=off")
    if not has_token:
        return StreamPlan((), "every stream needs an access token (Mastodon 4.2 and later)")
    if not server.genuine_mastodon and server.software != "unknown":
        return StreamPlan(
            (),
            f"{server.software} streams over WebSocket only, and Mastodon.py's server-sent "
            "events client cannot use that",
        )
    specs = [StreamSpec("user")]
    notes: list[str] = []
    if hashtag_feeds == "disabled":
        notes.append("hashtag feeds are switched off on this server: hashtags are polled")
    else:
        specs.extend(StreamSpec("hashtag", tag) for tag in hashtags)
    return StreamPlan(tuple(specs), notes=tuple(notes))


def streams_to_json(views: Sequence[StreamView]) -> str:
    return json.dumps(
        [
            {
                "stream": v.name,
                "connected": v.connected,
                "last_event_at": v.last_event_at.isoformat() if v.last_event_at else None,
                "refused": v.refused,
            }
            for v in views
        ]
    )


class _State:
    def __init__(self, spec: StreamSpec) -> None:
        self.spec = spec
        self.connected = False
        self.alive_at = float("-inf")  # monotonic
        self.alive_wall: datetime | None = None
        self.refused: str | None = None
        self.connection: StreamConnection | None = None


class Streams:
    """The live streams of one bot: their threads, their inbox, and what they say about health."""

    def __init__(
        self,
        opener: StreamOpener,
        *,
        dead_after: float,
        retry_after_refusal: float,
        ring: Callable[[], None] = lambda: None,
        worth_a_look: Callable[[Status], bool] = lambda _: True,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self._opener = opener
        self._dead_after = dead_after
        self._retry_after_refusal = retry_after_refusal
        self._ring = ring
        self._worth_a_look = worth_a_look
        self._passed_over = 0
        self._monotonic = monotonic
        self._now = now
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not secrets
        self._lock = threading.Lock()
        self._inbox: deque[tuple[bool, Status]] = deque(maxlen=INBOX_LIMIT)
        self._states: list[_State] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._catch_up = False
        self._overflowing = False
        self._own_id: str | None = None
        self._watched: frozenset[str] = frozenset()
        self._fallback_said = False

    # --- for the cycle --------------------------------------------------------------------

    def start(self, plan: StreamPlan, own_account_id: str | None, hashtags: Sequence[str]) -> None:
        """Open the planned streams (once); log why there are none, once."""
        if self._threads or self._stopping.is_set():
            return
        for note in plan.notes:
            log.info("streaming_limited", reason=note)
        if not plan.specs:
            log.info("streaming_unavailable", reason=plan.unavailable, mode="polling only")
            return
        self._own_id = own_account_id
        self._watched = frozenset(t.lower() for t in hashtags)
        for spec in plan.specs:
            state = _State(spec)
            self._states.append(state)
            thread = threading.Thread(
                target=self._follow, args=(state,), name=f"stream-{spec.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def take(self) -> list[tuple[bool, Status]]:
        """The statuses streamed since the last take, oldest first: (is a mention, status)."""
        with self._lock:
            taken = list(self._inbox)
            self._inbox.clear()
            self._overflowing = False
        return taken

    def take_passed_over(self) -> int:
        """Hashtag posts streamed since the last call that point to no paper: seen, and
        decided on the spot, without waking the cycle."""
        with self._lock:
            count, self._passed_over = self._passed_over, 0
        return count

    def take_catch_up(self) -> bool:
        """Whether a stream (re)connected since the last call: then the cycle polls at once."""
        with self._lock:
            due, self._catch_up = self._catch_up, False
        return due

    def healthy(self) -> bool:
        """Every planned stream connected and heard from within ``BOT_STREAM_DEAD_SECONDS``."""
        now = self._monotonic()
        with self._lock:
            return bool(self._states) and all(
                s.connected and now - s.alive_at <= self._dead_after for s in self._states
            )

    def views(self) -> list[StreamView]:
        with self._lock:
            return [
                StreamView(s.spec.name, s.connected, s.alive_wall, s.refused) for s in self._states
            ]

    def stop(self, join_seconds: float = 1.0) -> None:
        """Stop every stream: wake blocked reads, and wait briefly for the threads (they are
        daemons: one still stuck in a read cannot hold the process)."""
        self._stopping.set()
        with self._lock:
            connections = [s.connection for s in self._states if s.connection is not None]
        for connection in connections:
            connection.interrupt()
        deadline = time.monotonic() + join_seconds
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        self._opener.close()

    # --- each stream's thread -------------------------------------------------------------

    def _follow(self, state: _State) -> None:
        backoff = Backoff(RECONNECT_BASE_SECONDS, RECONNECT_MAX_SECONDS, self._rng)
        name = state.spec.name
        while not self._stopping.is_set():
            began = self._monotonic()
            try:
                connection = self._opener.open(state.spec)
                with self._lock:
                    state.connection = connection
                connection.run(_Events(self, state), self._dead_after)
                reason = "ended by the server"
            except StreamRefused as exc:
                self._refused(state, exc)
                self._stopping.wait(self._retry_after_refusal)
                continue
            except Exception as exc:  # noqa: BLE001 -- the stream's boundary: any failure means reconnect
                reason = f"{type(exc).__name__}: {exc}"
            was_connected = self._disconnected(state)
            if self._stopping.is_set():
                break
            if self._monotonic() - began > self._dead_after:
                backoff.succeeded()  # it ran for a while: start the backoff again from 1 s
            delay = backoff.failed(self._monotonic())
            (log.warning if was_connected else log.debug)(
                "stream_dropped" if was_connected else "stream_connect_failed",
                stream=name,
                reason=reason,
                retry_in=round(delay, 1),
            )
            self._stopping.wait(delay)
        log.debug("stream_stopped", stream=name)

    def _refused(self, state: _State, exc: StreamRefused) -> None:
        self._disconnected(state)
        with self._lock:
            first = state.refused is None
            state.refused = str(exc)
            all_refused = all(s.refused is not None for s in self._states)
            say_fallback = all_refused and not self._fallback_said
            self._fallback_said = self._fallback_said or say_fallback
        if first:
            log.warning(
                "stream_refused",
                stream=state.spec.name,
                status=exc.status,
                error=str(exc),
                retry_in=self._retry_after_refusal,
            )
        if say_fallback:
            log.warning(
                "streaming_unavailable",
                reason="the server refused every stream",
                mode="polling only",
                retry_in=self._retry_after_refusal,
            )

    def _disconnected(self, state: _State) -> bool:
        with self._lock:
            was, state.connected, state.connection = state.connected, False, None
        return was

    # --- from the events of a stream ------------------------------------------------------

    def _connected(self, state: _State) -> None:
        with self._lock:
            state.connected = True
            state.alive_at = self._monotonic()
            state.alive_wall = self._now()
            back = state.refused is not None
            state.refused = None
            self._fallback_said = False
            self._catch_up = True
        log.info("stream_connected", stream=state.spec.name, after_refusal=back)
        self._ring()  # the catch-up poll, at once

    def _alive(self, state: _State) -> None:
        with self._lock:
            state.alive_at = self._monotonic()
            state.alive_wall = self._now()

    def _status(self, state: _State, status: Status, mention: bool) -> None:
        if mention:
            if self._own_id is not None and self._own_id not in status.mention_ids:
                return
        else:
            if not carries_a_watched_tag(status, self._watched):
                return
            if not self._worth_a_look(status.reblog or status):
                with self._lock:
                    self._passed_over += 1
                return
        with self._lock:
            overflow = len(self._inbox) == INBOX_LIMIT
            self._inbox.append((mention, status))
            if overflow:
                self._catch_up = True
                first_overflow, self._overflowing = not self._overflowing, True
        if overflow and first_overflow:
            log.warning("stream_inbox_full", limit=INBOX_LIMIT, then="a catch-up poll")
        log.debug("status_streamed", stream=state.spec.name, status_id=status.id)
        self._ring()


class _Events:
    """One stream's events, into the supervisor (called on the stream's thread)."""

    def __init__(self, streams: Streams, state: _State) -> None:
        self._streams = streams
        self._state = state

    def connected(self) -> None:
        self._streams._connected(self._state)

    def alive(self) -> None:
        self._streams._alive(self._state)

    def status(self, status: Status) -> None:
        self._streams._status(self._state, status, mention=False)

    def mention(self, status: Status) -> None:
        self._streams._status(self._state, status, mention=True)
