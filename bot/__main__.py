"""The command line: thin commands over plain functions.

Each command imports what it needs when it runs, so ``healthcheck`` (once a minute in every
container) and ``--help`` load no client library and no settings model.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import __version__

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
        from bot.ops.health import main as healthcheck

        return healthcheck()
    from bot.config import ReplySettings, Settings, SettingsError, load_settings

    try:
        if args.command == "preview":
            from bot.app import build_preview_librarian, setup_logging
            from bot.clock import SystemClock
            from bot.ops.preview import preview

            reply_settings, clock = load_settings(ReplySettings), SystemClock()
            setup_logging(reply_settings)
            return preview(
                args, reply_settings, lambda: build_preview_librarian(reply_settings, clock), clock
            )
        settings = load_settings(Settings)
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"arxiv-bot: bad setting: {line}", file=sys.stderr)
        return EXIT_SETTINGS
    if args.command == "run":
        from bot.app import setup_logging
        from bot.errors import BotError
        from bot.scheduler import run

        setup_logging(settings)
        try:
            return run(settings, once=args.once)
        except BotError as exc:
            print(f"arxiv-bot: {exc}", file=sys.stderr)
            return EXIT_FAILED
    from bot.app import build_mastodon, build_stream_openers
    from bot.ops.check import check

    return check(settings, build_mastodon(settings), build_stream_openers(settings))


if __name__ == "__main__":
    sys.exit(main())
