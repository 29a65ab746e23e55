"""The one builder: settings in, every room built and wired, a running bot out.

Settings are read once, by ``__main__``; each room gets its collaborators and the small slice
of the settings it follows, never the whole model. Nothing else builds a room. The rooms that
depend on who the bot is and which server it is on are built by :func:`_begin`, here too,
when the first cycle has learnt that from the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from bot import slices
from bot.clients.arxiv_api import ArxivGateway, RequestGate
from bot.clients.llm_api import LlmGateway
from bot.clients.mastodon_rest import MastodonGateway
from bot.clients.mastodon_sse import MastodonStreams
from bot.clients.mastodon_ws import WebSocketStreams
from bot.clients.ports import StreamOpener
from bot.clock import Clock, SystemClock, Wait
from bot.config import ReplySettings, Settings
from bot.cycle import Cycle, Rooms
from bot.deciding.asked import Parser
from bot.deciding.facts import Facts
from bot.deciding.intake import Intake
from bot.deciding.remote import RemoteIntake
from bot.doorbell import Doorbell
from bot.limits.budget import budget_warning, remote_budget_warnings, tag_groups
from bot.limits.pauses import Pause, Retry
from bot.limits.poll_pace import PollPace
from bot.limits.server_info import ServerInfo
from bot.limits.server_kinds import plan_streams
from bot.logs import configure_logging
from bot.models import Identity, Status
from bot.ops.metrics import Metrics
from bot.ops.reporting import CycleReporter
from bot.reading.inbox import StreamedSource, StreamInbox
from bot.reading.remote import (
    REMOTE_MIN_INTERVAL_SECONDS,
    Remote,
    RemoteRead,
    RemoteTagSource,
    Resolver,
)
from bot.reading.sources import HashtagSource, MentionSource, Source
from bot.reading.streams import Streams
from bot.reading.sweeps import Sweeps
from bot.replying.papers import Papers
from bot.replying.posting import Poster
from bot.replying.queue import AnswerQueue
from bot.state.meta import ARXIV_LAST_REQUEST
from bot.state.store import Store
from bot.text.arxiv_links import may_point_to_a_paper

log = structlog.get_logger()


def setup_logging(settings: ReplySettings) -> None:
    configure_logging(level=settings.log_level, fmt=settings.log_format, secrets=settings.secrets)


def _token(settings: Settings) -> str | None:
    token = settings.mastodon_access_token
    return token.get_secret_value() if token is not None else None


def build_mastodon(settings: Settings) -> MastodonGateway:
    return MastodonGateway(
        settings.mastodon_base_url, _token(settings), timeout=settings.mastodon_timeout
    )


def build_stream_openers(settings: Settings) -> dict[str, StreamOpener]:
    """The stream clients, by transport."""
    token, timeout = _token(settings), settings.mastodon_timeout
    return {
        "websocket": WebSocketStreams(token, timeout=timeout),
        "sse": MastodonStreams(settings.mastodon_base_url, token, timeout=timeout),
    }


@dataclass
class Librarian:
    """Papers and the clients behind them: all that ``preview`` needs, and part of the bot."""

    papers: Papers
    store: Store
    arxiv: ArxivGateway
    llm: LlmGateway | None
    arxiv_pause: Pause

    def close(self) -> None:
        self.arxiv.close()
        if self.llm is not None:
            self.llm.close()
        self.store.close()


def build_librarian(settings: ReplySettings, store: Store, retry: Retry, clock: Clock) -> Librarian:
    previous = store.meta.get(ARXIV_LAST_REQUEST)  # the gap holds across restarts too
    gate = RequestGate(settings.arxiv_delay_seconds, previous=float(previous) if previous else None)
    arxiv = ArxivGateway(api_url=settings.arxiv_api_url, timeout=settings.arxiv_timeout, gate=gate)
    llm = None
    if settings.bot_summarizer == "llm" and settings.llm_base_url and settings.llm_model:
        key = settings.llm_api_key
        llm = LlmGateway(
            settings.llm_base_url,
            settings.llm_model,
            key.get_secret_value() if key is not None else None,
            timeout=settings.llm_timeout,
        )
    pause = Pause("arxiv", store.meta, retry, clock)
    papers = Papers(store.papers, store.meta, arxiv, pause, llm=llm)
    return Librarian(papers, store, arxiv, llm, pause)


def build_preview_librarian(settings: ReplySettings, clock: Clock) -> Librarian:
    """The bot's own way to papers and TL;DRs, with a state that keeps nothing and no
    backoff (``arxiv-bot preview`` asks once)."""
    return build_librarian(settings, Store.in_memory(clock), Retry(0, 0), clock)


@dataclass
class Bot:
    cycle: Cycle
    librarian: Librarian
    mastodon: MastodonGateway
    doorbell: Doorbell
    streams: Streams | None = None
    inbox: StreamInbox | None = None
    remote_servers: list[MastodonGateway] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.librarian.store

    def close(self) -> None:
        if self.streams is not None:
            self.streams.stop()
        self.mastodon.close()
        for gateway in self.remote_servers:
            gateway.close()
        self.librarian.close()


@contextmanager
def built(
    settings: Settings,
    stop: threading.Event | None = None,
    *,
    clock: Clock | None = None,
    sweep_on_start: bool = True,
    metrics: Metrics | None = None,
    wait: Wait | None = None,
    streaming: bool = False,
) -> Iterator[Bot]:
    """Everything the running bot needs, built from settings in one place, and closed after.

    Setting ``stop`` makes the cycle end at the next step boundary. ``clock`` is the one clock
    (tests move theirs). With ``streaming`` (a running bot, not ``run --once``) the live
    streams are followed as ``BOT_STREAMING`` says.
    """
    stop = stop or threading.Event()
    clock = clock or SystemClock()
    store = Store.open(settings.state_path, clock)
    retry = slices.retry(settings)
    librarian = build_librarian(settings, store, retry, clock)
    mastodon = build_mastodon(settings)
    doorbell = Doorbell()
    inbox = StreamInbox() if streaming else None
    streams = None
    if inbox is not None:
        streams = Streams(
            build_stream_openers(settings),
            inbox,
            slices.stream_times(settings),
            clock,
            ring=doorbell.ring,
            worth_a_look=_worth_a_look(settings),
        )
    pause = Pause("mastodon", store.meta, retry, clock)
    posting = Pause("posting", store.meta, retry.for_posting(), clock)
    sweeps = Sweeps(
        store.cursors, store.meta, slices.lookback(settings), clock, on_start=sweep_on_start
    )
    remote, remote_servers = _remote(settings, store, mastodon, sweeps, retry, clock, stop.is_set)
    server = ServerInfo(mastodon.server, store.meta, clock)
    reporter = CycleReporter(
        store.meta,
        store.ledger,
        {"mastodon": pause, "posting": posting, "arxiv": librarian.arxiv_pause},
        clock,
        health_max_age=settings.health_max_age_seconds,
        streams=streams,
        metrics=metrics,
    )
    cycle = Cycle(
        begin=lambda: _begin(
            settings, store, mastodon, librarian.papers, server, posting, clock,
            should_stop=stop.is_set, wait=wait or stop.wait, streams=streams, inbox=inbox,
        ),
        store=store,
        mastodon=mastodon,
        pause=pause,
        server=server,
        pace=PollPace(store.meta, slices.pacing(settings), clock),
        sweeps=sweeps,
        upkeep=slices.upkeep(settings),
        clock=clock,
        should_stop=stop.is_set,
        report_to=reporter,
        waits_on=(posting, librarian.arxiv_pause),
        streams=streams,
        inbox=inbox,
        remote=remote,
    )  # fmt: skip
    bot = Bot(cycle, librarian, mastodon, doorbell, streams, inbox, remote_servers)
    try:
        yield bot
    finally:
        bot.close()


def _remote(
    settings: Settings,
    store: Store,
    mastodon: MastodonGateway,
    sweeps: Sweeps,
    retry: Retry,
    clock: Clock,
    should_stop: Callable[[], bool],
) -> tuple[Remote | None, list[MastodonGateway]]:
    """The hashtags read from other servers (``tag@server``): one anonymous client and one
    pause per server, the finding of posts, and their resolving on the bot's own server;
    and the clients, to close."""
    tags = settings.remote_hashtags
    if not tags:
        return None, []
    gateways: dict[str, MastodonGateway] = {}
    pauses: dict[str, Pause] = {}
    reads = []
    interval = max(settings.bot_poll_interval, REMOTE_MIN_INTERVAL_SECONDS)
    for tag in tags:
        if tag.base_url not in gateways:
            gateways[tag.base_url] = MastodonGateway.anonymous(
                tag.base_url, settings.mastodon_timeout
            )
            pauses[tag.base_url] = Pause(f"remote {tag.server}", store.meta, retry, clock)
        source = RemoteTagSource(gateways[tag.base_url], tag)
        reads.append(RemoteRead(source, pauses[tag.base_url], interval))
    servers = [t.base_url for t in tags]
    for base_url, warning in remote_budget_warnings(
        servers, interval, settings.bot_sweep_seconds
    ).items():
        log.warning("request_budget", server=base_url, message=warning)
    watched = [*settings.home_hashtags, *(t.tag for t in tags)]
    resolver = Resolver(
        mastodon,
        store.remote,
        store.record_resolved,
        watched,
        clock,
        give_up_after=timedelta(hours=settings.bot_pending_hours),
    )
    intake = RemoteIntake(Parser(clock, bare_ids=settings.bot_bare_ids), store.remote.known_among)
    remote = Remote(
        reads, intake, resolver, cursors=store.cursors, record=store.record_page,
        sweeps=sweeps, clock=clock, should_stop=should_stop,
    )  # fmt: skip
    return remote, list(gateways.values())


def _begin(
    settings: Settings,
    store: Store,
    mastodon: MastodonGateway,
    papers: Papers,
    server: ServerInfo,
    posting: Pause,
    clock: Clock,
    *,
    should_stop: Callable[[], bool],
    wait: Wait,
    streams: Streams | None,
    inbox: StreamInbox | None,
) -> Rooms:
    """Learn who the bot is (so it never answers itself) and what the server allows, then
    build the rooms that depend on it, and open the live streams the server offers."""
    me = _identity(mastodon) if settings.has_token else Identity()
    server.refresh()
    per_request = server.server.tags_per_request
    warning = budget_warning(
        settings.bot_poll_interval,
        len(settings.home_hashtags),
        mentions=settings.has_token,
        sweep_seconds=settings.bot_sweep_seconds,
        per_request=per_request,
        limit=server.server.request_limit,
        software=server.server.software,
    )
    if warning is not None:
        log.warning("request_budget", message=warning)
    polled: list[Source] = [
        HashtagSource(mastodon, group) for group in tag_groups(settings.home_hashtags, per_request)
    ]
    if settings.has_token:
        polled.append(MentionSource(mastodon, me.account_id))
    parse = Parser(clock, bare_ids=settings.bot_bare_ids, username=me.username)
    facts = Facts(
        store.ledger,
        store.consent,
        mastodon,
        clock,
        parse,
        me=me,
        followers_only=settings.bot_hashtag_policy == "followers",
    )
    poster = Poster(
        store.ledger, store.meta, mastodon, server, parse, slices.manners(settings), me, clock,
        should_stop=should_stop, wait=wait,
    )  # fmt: skip
    queue = AnswerQueue(
        store.ledger, papers, poster, posting, slices.patience(settings), clock, should_stop
    )
    streamed: list[Source] = []
    if streams is not None and inbox is not None:
        plan = plan_streams(
            server.server, settings.home_hashtags, has_token=settings.has_token,
            mode=settings.bot_streaming, base_url=settings.mastodon_base_url,
        )  # fmt: skip
        streams.start(plan, me, settings.home_hashtags)
        streamed = [StreamedSource(inbox, mentions=False), StreamedSource(inbox, mentions=True)]
    intake = Intake(
        facts, parse, slices.rules(settings), me, clock,
        remember_uris=bool(settings.remote_hashtags),
    )  # fmt: skip
    return Rooms(intake.decide, queue, polled, streamed)


def _identity(mastodon: MastodonGateway) -> Identity:
    account = mastodon.me()
    log.info("account_verified", account=account.acct, account_id=account.id, bot_flag=account.bot)
    if not account.bot:
        log.warning(
            "bot_flag_not_set",
            account=account.acct,
            hint="tick 'This is an automated account' in the profile",
        )
    return Identity(account.id, account.acct.split("@")[0])


def _worth_a_look(settings: Settings) -> Callable[[Status], bool]:
    """The cheap test a streamed post must pass to wake the cycle (most posts fail it)."""
    return lambda s: may_point_to_a_paper(s.content, s.card_url, bare_ids=settings.bot_bare_ids)
