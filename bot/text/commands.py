"""What a mention asks in words: the text a reader sees, and the command after the bot's
handle (pure)."""

from __future__ import annotations

import html
import re
from typing import Literal

Command = Literal["help", "abstract", "stop", "start", "delete"]
COMMANDS: tuple[Command, ...] = ("help", "abstract", "stop", "start", "delete")
_TAGS = re.compile(r"<[^<>]*>")
_BREAKS = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)
_WORD = re.compile(r"[^\s]+")


def status_text(content_html: str) -> str:
    """A status's HTML as the words a reader sees (inline tags vanish, breaks become spaces)."""
    return html.unescape(_TAGS.sub("", _BREAKS.sub(" ", content_html)))


def strip_tags(content_html: str) -> str:
    """HTML without its tags, entities read (``#<span>nobot</span>`` becomes ``#nobot``)."""
    return html.unescape(_TAGS.sub("", content_html))


def command_in(text: str, bot_username: str) -> Command | None:
    """The first word after the bot's handle (or after the leading mentions), if a command."""
    words = [w.strip(".,:;!?()[]\"'").lower() for w in _WORD.findall(text)]
    handle = "@" + bot_username.lower()
    after = next(
        (i + 1 for i, w in enumerate(words) if w == handle or w.startswith(handle + "@")), None
    )
    if after is None:
        after = next((i for i, w in enumerate(words) if not w.startswith("@")), len(words))
    while after < len(words) and words[after].startswith("@"):
        after += 1
    word = words[after] if after < len(words) else ""
    return next((c for c in COMMANDS if c == word), None)
