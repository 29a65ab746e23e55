"""``arxiv-bot check``: the settings, the token, the server, each timeline and the streams,
tried for real, one line each."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from bot.clients.mastodon_rest import MastodonGateway
from bot.clients.ports import StreamOpener
from bot.config import Settings
from bot.errors import AuthError, BotError, StreamRefused
from bot.limits.budget import tag_groups
from bot.limits.server_kinds import Server, plan_streams
from bot.models import StreamChannel
from bot.reading.streams import NO_UPGRADE

EXIT_OK, EXIT_FAILED = 0, 1


def check(
    settings: Settings, mastodon: MastodonGateway, streams: Mapping[str, StreamOpener]
) -> int:
    """Print what works and what does not; exit 1 if anything but streaming failed. Closes
    the two clients."""
    print(
        f"settings: ok (hashtags: {', '.join('#' + t for t in settings.bot_hashtags)}; "
        f"every {settings.bot_poll_interval:g} s; state: {settings.state_path})"
    )
    problems = 0
    try:
        if settings.has_token:
            try:
                me = mastodon.me()
                print(
                    f"token: ok, posting as @{me.acct}"
                    + ("" if me.bot else " (warning: the account's bot flag is not set)")
                )
            except BotError as exc:
                print(f"token: FAILED: {exc}")
                problems += 1
        else:
            print("token: none (dry run)")
        per_request = 1
        server = None
        try:
            server, limits = mastodon.server()
            per_request = server.tags_per_request
            url = (
                f"a URL counts as {limits.characters_reserved_per_url}"
                if limits.counting == "mastodon"
                else "URLs and handles count in full"
            )
            print(
                f"server: {settings.mastodon_base_url}: {server}, posts up to "
                f"{limits.max_characters} characters, {url}"
            )
            for adaptation in server.adaptations():
                print(f"  adapted: {adaptation}")
        except BotError as exc:
            print(f"server: FAILED: {exc}")
            problems += 1
        if settings.has_token:
            try:
                mastodon.mention_page(None, limit=1)
                print("mentions: readable")
            except BotError as exc:
                print(f"mentions: FAILED: {exc} (does the token have read:notifications?)")
                problems += 1
            scopes = mastodon.app_scopes()
            if scopes is not None and not {"read", "read:notifications"} & set(scopes):
                print(
                    "  warning: the token lacks read:notifications: mentions are neither read "
                    "nor streamed (the user stream leaves them out without a word)"
                )
        if server is not None:
            print("streaming: " + _streaming_check(settings, server, streams))
        for group in tag_groups(settings.home_hashtags, per_request):
            try:
                page = mastodon.tag_page(group, None, limit=1)
                unused = [t for t in group if t in mastodon.unused_tags]
                if page.size:
                    state = "has posts"
                elif unused:
                    state = f"no posts under {' '.join('#' + t for t in unused)} yet"
                else:
                    state = "empty (or the server hides it from this client)"
                print(f"timeline {' '.join('#' + t for t in group)}: readable, {state}")
            except BotError as exc:
                print(f"timeline {' '.join('#' + t for t in group)}: FAILED: {exc}")
                problems += 1
        problems += _remote_check(settings, mastodon)
    finally:
        mastodon.close()
        for opener in streams.values():
            opener.close()
    return EXIT_OK if problems == 0 else EXIT_FAILED


def _remote_check(settings: Settings, mastodon: MastodonGateway) -> int:
    """Each remote tag read as the bot reads it (anonymously), and whether the bot's own
    server resolves posts for it; how many failed."""
    if not settings.remote_hashtags:
        return 0
    problems = 0
    try:
        mastodon.resolve("arxiv-bot check")  # not a URL: nothing is fetched, the scope is
        print("resolving posts from other servers: ok")
    except BotError as exc:
        print(f"resolving posts from other servers: FAILED: {exc}")
        problems += 1
    for tag in settings.remote_hashtags:
        name = f"remote #{tag.tag}@{tag.server}"
        remote = MastodonGateway.anonymous(tag.base_url, settings.mastodon_timeout)
        try:
            page = remote.tag_page((tag.tag,), None, limit=1)
            if page.size:
                print(f"{name}: readable without a login, has posts")
            else:
                print(
                    f"{name}: readable without a login, no posts (a quiet tag, or a server "
                    "that shows its tag pages to its own users only: Mastodon 4.5 then "
                    "answers an empty list)"
                )
        except AuthError:
            print(
                f"{name}: REFUSED: it needs a login to read tags (GoToSocial and Takahē "
                "always do); the bot's token is never sent to another server"
            )
            problems += 1
        except BotError as exc:
            print(f"{name}: FAILED: {exc}")
            problems += 1
        finally:
            remote.close()
    return problems


def _streaming_check(
    settings: Settings, server: Server, openers: Mapping[str, StreamOpener]
) -> str:
    """Whether the live streams work here, and over what: the plan's reason if none are
    planned, else its first connection opened for a moment (and, should the WebSocket upgrade
    be refused, the server-sent events it falls back to). Never a failure: polling is the
    record."""
    plan = plan_streams(
        server,
        settings.home_hashtags,
        has_token=settings.has_token,
        mode=settings.bot_streaming,
        base_url=settings.mastodon_base_url,
    )
    if not plan.channels:
        return f"off, polling only ({plan.unavailable})"
    notes = "".join(f"; {n}" for n in plan.notes)
    failure = _probe(plan.channels[0], openers, settings.mastodon_timeout)
    if failure is None:
        return f"works ({_described(plan.channels, server, settings)}){notes}"
    upgrade_refused = isinstance(failure, StreamRefused) and failure.status in NO_UPGRADE
    if plan.fallback and upgrade_refused:
        if (fallback := _probe(plan.fallback[0], openers, settings.mastodon_timeout)) is None:
            described = _described(plan.fallback, server, settings)
            return f"works ({described}; the WebSocket upgrade was refused: {failure}){notes}"
        failure = fallback
    why = f"refused ({failure})" if isinstance(failure, StreamRefused) else str(failure)
    return f"unavailable, polling only: {why}"


def _described(channels: Sequence[StreamChannel], server: Server, settings: Settings) -> str:
    names = ", ".join(s.name for c in channels for s in c.specs)
    if channels[0].transport == "websocket":
        many = "one connection" if len(channels) == 1 else f"{len(channels)} connections"
        return f"WebSocket, {many} to {channels[0].url}: {names}"
    where = server.streaming_url or settings.mastodon_base_url
    return f"server-sent events from {where}: {names}"


def _probe(
    channel: StreamChannel, openers: Mapping[str, StreamOpener], timeout: float
) -> Exception | None:
    """None when the connection opens; else why it did not."""
    connection = openers[channel.transport].open(channel)
    connected = threading.Event()
    answered = threading.Event()
    failure: list[Exception] = []

    class Probe:
        def connected(self) -> None:
            connected.set()
            answered.set()

        def alive(self) -> None: ...
        def status(self, status: object) -> None: ...
        def mention(self, status: object) -> None: ...

    def probe() -> None:
        try:
            connection.run(Probe(), timeout)
        except Exception as exc:  # noqa: BLE001 -- any failure is the answer to print
            failure.append(exc)
        answered.set()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    answered.wait(timeout)
    if connected.is_set():  # a policy close comes right after the upgrade: give it a second
        thread.join(min(1.0, timeout))
    connection.interrupt()
    if connected.is_set():  # any other failure after connecting is the probe's own hang-up
        return next((f for f in failure if isinstance(f, StreamRefused)), None)
    return failure[0] if failure else TimeoutError("no answer in time")
