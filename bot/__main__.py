"""The command line: thin commands over plain functions.

Each command imports what it needs when it runs, so ``healthcheck`` (once a minute in every
container) and ``--help`` load no client library and no settings model.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot import __version__

if TYPE_CHECKING:
    from bot.config import ReplySettings, Settings
    from bot.models import PaperRef
    from bot.servers import Server

EXIT_OK, EXIT_FAILED, EXIT_SETTINGS = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arxiv-bot",
        description="A Mastodon bot that answers posts linking arXiv papers with a short summary.",
        epilog="Settings come from the environment and ./.env; see config/example.env.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run_cmd = commands.add_parser("run", help="poll and answer until SIGTERM/SIGINT")
    run_cmd.add_argument("--once", action="store_true", help="run one cycle and exit")

    preview = commands.add_parser(
        "preview", help="print the replies the bot would post for arXiv links, ids or post text"
    )
    preview.add_argument(
        "refs", nargs="+", metavar="REF", help="an arXiv URL, an id, or a post's text"
    )
    preview.add_argument(
        "--json", action="store_true", help="print a JSON array, one object per paper"
    )
    preview.add_argument(
        "--max-characters", type=int, default=500, help="the server's post length (500)"
    )
    preview.add_argument("--url-length", type=int, default=23, help="what one URL counts as (23)")
    preview.add_argument("--mention", default="@someone", help="who the reply is addressed to")

    commands.add_parser(
        "check", help="validate settings, the token and the server; print what was found"
    )
    commands.add_parser("healthcheck", help="exit 0 when the last good cycle is recent")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "healthcheck":
        from bot.health import main as healthcheck

        return healthcheck()
    from bot.config import ReplySettings, Settings, SettingsError, load_settings

    try:
        if args.command == "preview":
            return _preview(args, load_settings(ReplySettings))
        settings = load_settings(Settings)
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"arxiv-bot: bad setting: {line}", file=sys.stderr)
        return EXIT_SETTINGS
    if args.command == "run":
        from bot.app import run, setup_logging
        from bot.errors import BotError

        setup_logging(settings)
        try:
            return run(settings, once=args.once)
        except BotError as exc:
            print(f"arxiv-bot: {exc}", file=sys.stderr)
            return EXIT_FAILED
    return _check(settings)


def refs_in_argument(text: str, bare_ids: bool = False) -> list[PaperRef]:
    """What one REF names: an id, a URL, a post's text, or a post's HTML."""
    from bot.arxiv_ids import normalise_id, papers_in_status, papers_in_text

    today = datetime.now(UTC).date()
    single = normalise_id(text.strip().removeprefix("arXiv:").removeprefix("arxiv:"), today)
    if single is not None:
        return [single]
    if "<" in text and ">" in text:
        return papers_in_status(text, today, bare_ids=bare_ids)
    return papers_in_text(text, today, bare_ids=bare_ids)


def _preview(args: argparse.Namespace, settings: ReplySettings) -> int:
    from bot.app import build_librarian, setup_logging
    from bot.compose import compose_thread, is_withdrawn, post_length
    from bot.latex import latex_to_text
    from bot.models import ServerLimits
    from bot.pacing import Backoff
    from bot.store import Store

    refs: list[PaperRef] = []
    for text in args.refs:
        found = refs_in_argument(text, settings.bot_bare_ids)
        if not found:
            print(f"arxiv-bot: no arXiv paper in {text!r}", file=sys.stderr)
        refs.extend(r for r in found if r.arxiv_id not in {x.arxiv_id for x in refs})
    if not refs:
        return EXIT_FAILED
    setup_logging(settings)
    limits = ServerLimits(args.max_characters, args.url_length)
    # The bot's own way to papers and TL;DRs, with a store that keeps nothing.
    librarian = build_librarian(settings, Store.in_memory(), Backoff(0, 0))
    try:
        found_papers = librarian.papers.get([r.arxiv_id for r in refs])
        if found_papers.error is not None:
            print(f"arxiv-bot: arXiv: {found_papers.error}", file=sys.stderr)
            return EXIT_FAILED
        papers = found_papers.papers
        present = [(r, papers[r.arxiv_id]) for r in refs if r.arxiv_id in papers]
        tldrs = librarian.papers.tldrs([paper for _, paper in present])
    finally:
        librarian.close()
    for ref in refs:
        if ref.arxiv_id not in papers:
            print(f"arxiv-bot: arXiv does not know {ref}", file=sys.stderr)
    posts = compose_thread(
        present, limits, args.mention or None, mode=settings.bot_reply_mode, tldrs=tldrs
    )
    if args.json:
        out: list[dict[str, Any]] = []
        for ref, paper in present:
            own = [p for p in posts if p.paper_id == paper.arxiv_id]
            out.append(
                {
                    "id": paper.arxiv_id,
                    "version": ref.version,
                    "latest_version": paper.version,
                    "title": latex_to_text(paper.title),
                    "authors": list(paper.authors),
                    "url": paper.abs_url(ref.version),
                    "primary_category": paper.primary_category,
                    "published": paper.published.date().isoformat(),
                    "withdrawn": is_withdrawn(paper),
                    "summary": own[0].summary,
                    "machine_written": own[0].machine_written,
                    "posts": [p.text for p in own],
                }
            )
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for i, post in enumerate(posts, 1):
            length = post_length(post.text, limits)
            print(f"--- post {i}/{len(posts)} ({length}/{limits.max_characters} characters) ---")
            print(post.text)
    return EXIT_OK if len(present) == len(refs) else EXIT_FAILED


def _check(settings: Settings) -> int:
    from bot.app import build_mastodon
    from bot.errors import BotError
    from bot.pacing import tag_groups

    print(
        f"settings: ok (hashtags: {', '.join('#' + t for t in settings.bot_hashtags)}; "
        f"every {settings.bot_poll_interval:g} s; state: {settings.state_path})"
    )
    mastodon = build_mastodon(settings)
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
            print("streaming: " + _streaming_check(settings, server))
        for group in tag_groups(settings.bot_hashtags, per_request):
            try:
                page = mastodon.tag_page(group, None, limit=1)
                state = (
                    "has posts" if page.size else "empty (or the server hides it from this client)"
                )
                print(f"timeline {' '.join('#' + t for t in group)}: readable, {state}")
            except BotError as exc:
                print(f"timeline {' '.join('#' + t for t in group)}: FAILED: {exc}")
                problems += 1
    finally:
        mastodon.close()
    return EXIT_OK if problems == 0 else EXIT_FAILED


def _streaming_check(settings: Settings, server: Server) -> str:
    """Whether the live streams work here: the plan's reason if none are planned, else one
    stream opened for a moment. Streaming is never a failure: polling is the record."""
    import threading

    from bot.app import build_streams_opener
    from bot.errors import StreamRefused
    from bot.streams import plan_streams

    plan = plan_streams(
        server,
        settings.bot_hashtags,
        has_token=settings.has_token,
        mode=settings.bot_streaming,
        hashtag_feeds=server.hashtag_feeds,
    )
    if not plan.specs:
        return f"off, polling only ({plan.unavailable})"
    opener = build_streams_opener(settings)
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


if __name__ == "__main__":
    sys.exit(main())
