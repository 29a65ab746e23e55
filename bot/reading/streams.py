"""Following the live streams: a fast hint beside the polls, never the record.

Mastodon pushes new posts and notifications over its streaming API as they arrive, but
lossily: whatever is sent while a stream is down is gone, and a connection can look healthy
while nothing flows (``../shared/FACTS-streaming.md``). So a streamed status only goes into
the inbox (``bot.reading.inbox``) that the cycle reads like any other source, through the
same intake as a polled one, and rings the doorbell so that happens at once. Polling stays:
after every connect the cycle polls to catch up on what the stream missed, and while every
stream is healthy it polls ``BOT_STREAM_POLL_FACTOR`` times less often.

Each connection (a WebSocket carrying several streams, or one stream's server-sent events,
as ``bot.limits.server_kinds`` plans) runs in a thread: connect, read until it fails, back
off with jitter, again. Nothing heard for ``BOT_STREAM_DEAD_SECONDS``: dead. A refused
stream (404, 401, a policy close) is left to polling, said once, asked again every
``BOT_STREAM_RETRY_SECONDS``; a refused upgrade where server-sent events serve (Mastodon
behind a proxy that does not upgrade) is followed over those instead.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from bot.clients.ports import StreamConnection, StreamOpener
from bot.clock import Clock
from bot.errors import StreamRefused
from bot.limits.backoff import Backoff
from bot.limits.server_kinds import StreamPlan
from bot.models import Identity, Status, StreamChannel, StreamView
from bot.reading.inbox import StreamInbox
from bot.reading.sources import carries_a_watched_tag

RECONNECT_BASE_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 300.0
log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class StreamTimes:
    """``BOT_STREAM_DEAD_SECONDS`` and ``BOT_STREAM_RETRY_SECONDS``."""

    dead_after: float
    retry_after_refusal: float


NO_UPGRADE = frozenset({400, 404, 405, 426, 501})
"""A refused WebSocket upgrade that says "no WebSocket here" (not "not you": 401, 403)."""


class _State:
    def __init__(self, channel: StreamChannel) -> None:
        self.channel = channel
        self.connected = False
        self.alive_at = float("-inf")  # monotonic
        self.alive_wall: datetime | None = None  # for the healthcheck
        self.refused: str | None = None
        self.said: str | None = None  # the refusal logged; cleared once heard, not on connect
        self.connection: StreamConnection | None = None


class Streams:
    """The live streams of one bot: their threads, and what they say about health."""

    def __init__(
        self,
        openers: Mapping[str, StreamOpener],
        inbox: StreamInbox,
        times: StreamTimes,
        clock: Clock,
        *,
        ring: Callable[[], None] = lambda: None,
        worth_a_look: Callable[[Status], bool] = lambda _: True,
        rng: random.Random | None = None,
    ) -> None:
        self._openers = openers
        """By transport: ``websocket``, ``sse``."""
        self._inbox = inbox
        self._dead_after = times.dead_after
        self._retry_after_refusal = times.retry_after_refusal
        self._clock = clock
        self._ring = ring
        self._worth_a_look = worth_a_look
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not secrets
        self._lock = threading.Lock()
        self._states: list[_State] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._own_id: str | None = None
        self._watched: frozenset[str] = frozenset()
        self._fallback_said = False
        self._fallback: tuple[StreamChannel, ...] = ()

    # --- for the cycle --------------------------------------------------------------------

    def start(self, plan: StreamPlan, me: Identity, hashtags: Sequence[str]) -> None:
        """Open the planned streams (once); log why there are none, once."""
        if self._threads or self._stopping.is_set():
            return
        for note in plan.notes:
            log.info("streaming_limited", reason=note)
        if not plan.channels:
            log.info("streaming_unavailable", reason=plan.unavailable, mode="polling only")
            return
        self._own_id = me.account_id
        self._watched = frozenset(t.lower() for t in hashtags)
        self._fallback = plan.fallback
        log.info(
            "streaming",
            transport=plan.transport,
            connections=len(plan.channels),
            streams=[s.name for s in plan.specs],
        )
        self._open(plan.channels)

    def _open(self, channels: Sequence[StreamChannel]) -> None:
        for channel in channels:
            state = _State(channel)
            with self._lock:
                self._states.append(state)
            thread = threading.Thread(
                target=self._follow, args=(state,), name=f"stream-{channel.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def healthy(self) -> bool:
        """Every planned stream connected and heard from within ``BOT_STREAM_DEAD_SECONDS``."""
        now = self._clock.monotonic()
        with self._lock:
            return bool(self._states) and all(
                s.connected and now - s.alive_at <= self._dead_after for s in self._states
            )

    def views(self) -> list[StreamView]:
        """Each stream, as the connection that carries it stands."""
        with self._lock:
            return [
                StreamView(spec.name, s.connected, s.alive_wall, s.refused)
                for s in self._states
                for spec in s.channel.specs
            ]

    def stop(self, join_seconds: float = 1.0) -> None:
        """Wake blocked reads, wait briefly for the threads (daemons: none can hold the exit)."""
        self._stopping.set()
        with self._lock:
            connections = [s.connection for s in self._states if s.connection is not None]
        for connection in connections:
            connection.interrupt()
        deadline = time.monotonic() + join_seconds
        for thread in list(self._threads):
            thread.join(max(deadline - time.monotonic(), 0))
        for opener in self._openers.values():
            opener.close()

    # --- each stream's thread -------------------------------------------------------------

    def _follow(self, state: _State) -> None:
        backoff = Backoff(RECONNECT_BASE_SECONDS, RECONNECT_MAX_SECONDS, self._rng)
        name = state.channel.name
        opener = self._openers[state.channel.transport]
        while not self._stopping.is_set():
            began = self._clock.monotonic()
            try:
                connection = opener.open(state.channel)
                with self._lock:
                    state.connection = connection
                connection.run(_Events(self, state), self._dead_after)
                reason = "ended by the server"
            except StreamRefused as exc:
                if self._fall_back(state, exc):
                    return
                self._refused(state, exc)
                self._stopping.wait(self._retry_after_refusal)
                continue
            except Exception as exc:  # noqa: BLE001 -- the stream's boundary: any failure means reconnect
                reason = f"{type(exc).__name__}: {exc}"
            was_connected = self._disconnected(state)
            if self._stopping.is_set():
                break
            if self._clock.monotonic() - began > self._dead_after:
                backoff.succeeded()  # it ran for a while: start the backoff again from 1 s
            delay = backoff.failed(self._clock.monotonic())
            (log.warning if was_connected else log.debug)(
                "stream_dropped" if was_connected else "stream_connect_failed",
                stream=name,
                reason=reason,
                retry_in=round(delay, 1),
            )
            self._stopping.wait(delay)
        log.debug("stream_stopped", stream=name)

    def _fall_back(self, state: _State, exc: StreamRefused) -> bool:
        """A WebSocket upgrade refused where server-sent events may serve: those instead."""
        fallback = self._fallback
        if state.channel.transport != "websocket" or not fallback or exc.status not in NO_UPGRADE:
            return False
        self._fallback = ()
        with self._lock:
            self._states.remove(state)
        streams = [s.name for c in fallback for s in c.specs]
        reason = f"the WebSocket upgrade was refused ({exc})"
        log.warning("streaming_fell_back", transport="sse", reason=reason, streams=streams)
        self._open(fallback)
        return True

    def _refused(self, state: _State, exc: StreamRefused) -> None:
        self._disconnected(state)
        with self._lock:
            first = state.said is None
            state.refused = state.said = str(exc)
            all_refused = all(s.refused is not None for s in self._states)
            say_fallback = all_refused and not self._fallback_said
            self._fallback_said = self._fallback_said or say_fallback
        if first:
            log.warning(
                "stream_refused",
                stream=state.channel.name,
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
            state.alive_at = self._clock.monotonic()
            state.alive_wall = self._clock.now()
            back = state.refused is not None
            state.refused = None
            self._fallback_said = False
        self._inbox.ask_catch_up()
        log.info(
            "stream_connected",
            stream=state.channel.name,
            transport=state.channel.transport,
            after_refusal=back,
        )
        self._ring()  # the catch-up poll, at once

    def _alive(self, state: _State) -> None:
        with self._lock:
            state.alive_at = self._clock.monotonic()
            state.alive_wall = self._clock.now()
            state.said = None

    def _status(self, state: _State, status: Status, mention: bool) -> None:
        if mention:
            if self._own_id is not None and self._own_id not in status.mention_ids:
                return
        else:
            if not carries_a_watched_tag(status, self._watched):
                return
            if not self._worth_a_look(status.reblog or status):
                self._inbox.pass_over()
                return
        self._inbox.put(status, mention=mention)
        log.debug("status_streamed", stream=state.channel.name, status_id=status.id)
        self._ring()


class _Events:
    """One connection's events, into the supervisor (called on the connection's thread)."""

    def __init__(self, streams: Streams, state: _State) -> None:
        self._streams, self._state = streams, state

    def connected(self) -> None:
        self._streams._connected(self._state)

    def alive(self) -> None:
        self._streams._alive(self._state)

    def status(self, status: Status) -> None:
        self._streams._status(self._state, status, mention=False)

    def mention(self, status: Status) -> None:
        self._streams._status(self._state, status, mention=True)
