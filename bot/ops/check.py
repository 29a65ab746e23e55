"""``arxiv-bot check``: the settings, the token, the server, each timeline and the streams,
tried for real, one line each."""

from __future__ import annotations

import threading

from bot.clients.mastodon_rest import MastodonGateway
from bot.clients.ports import StreamOpener
from bot.config import Settings
from bot.errors import BotError, StreamRefused
from bot.limits.budget import tag_groups
from bot.limits.server_kinds import Server, plan_streams

EXIT_OK, EXIT_FAILED = 0, 1


def check(settings: Settings, mastodon: MastodonGateway, streams: StreamOpener) -> int:
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
        for group in tag_groups(settings.bot_hashtags, per_request):
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
    finally:
        mastodon.close()
        streams.close()
    return EXIT_OK if problems == 0 else EXIT_FAILED


def _streaming_check(settings: Settings, server: Server, opener: StreamOpener) -> str:
    """Whether the live streams work here: the plan's reason if none are planned, else one
    stream opened for a moment. Streaming is never a failure: polling is the record."""
    plan = plan_streams(
        server, settings.bot_hashtags, has_token=settings.has_token, mode=settings.bot_streaming
    )
    if not plan.specs:
        return f"off, polling only ({plan.unavailable})"
    connection = opener.open(plan.specs[0])
    connected = threading.Event()
    answered = threading.Event()
    failure: list[str] = []

    class Probe:
        def connected(self) -> None:
            connected.set()
            answered.set()

        def alive(self) -> None: ...
        def status(self, status: object) -> None: ...
        def mention(self, status: object) -> None: ...

    def probe() -> None:
        try:
            connection.run(Probe(), settings.mastodon_timeout)
        except StreamRefused as exc:
            failure.append(f"refused ({exc})")
        except Exception as exc:  # noqa: BLE001 -- any failure is the answer to print
            failure.append(str(exc))
        answered.set()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    answered.wait(settings.mastodon_timeout)
    works = connected.is_set()  # a failure after connecting is the probe's own hang-up
    connection.interrupt()
    opener.close()
    where = server.streaming_url or settings.mastodon_base_url
    notes = "".join(f"; {n}" for n in plan.notes)
    if not works:
        why = failure[0] if failure else "no answer in time"
        return f"unavailable, polling only: {why}"
    names = ", ".join(s.name for s in plan.specs)
    return f"works (server-sent events from {where}: {names}){notes}"
