"""A post's length as the server will count it (pure).

Mastodon (``app/validators/status_length_validator.rb``) counts the content warning and the
text together in grapheme clusters, after replacing each URL that twitter-text extracts (with
its scheme) by 23 characters (``characters_reserved_per_url``) and each ``@user@domain`` by
``@user``. This count is never below Mastodon's: a URL is given the discount only where
twitter-text would surely extract it (after a space or punctuation, a dotted host, ending on a
character a URL may end on; a trailing ``.`` or ``)`` counts in full), and a mention only in
the shape of ``Account::MENTION_RE``. Every other server counts everything at full length, in
whichever unit is largest (``strict``).
"""

from __future__ import annotations

import re

import regex

from bot.models import ServerLimits

# twitter-text: a URL may not follow a letter, digit, @, $ or #; its path runs over these
# characters (ASCII only here: a URL with others gets no discount past them) and must end
# on a letter, digit or one of =_#/+- (``valid_url_path_ending_chars``).
_URL = re.compile(
    r"(?<![A-Za-z0-9@$#＠＃])https?://"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?::\d{1,5})?"
    r"(?:/(?:[A-Za-z0-9!*';:=+,.$/%#\[\]_~&|@-]*[A-Za-z0-9=_#/+-])?)?",
    re.ASCII,
)
# Mastodon's Account::MENTION_RE: an ASCII username, then the domain.
_MENTION = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)@\w+(?:[.-]+\w+)*", re.IGNORECASE
)
_GRAPHEME = regex.compile(r"\X")


def grapheme_length(text: str) -> int:
    """User-perceived characters, as Ruby's ``grapheme_length`` counts them."""
    if text.isascii() and "\r" not in text:
        return len(text)
    return len(_GRAPHEME.findall(text))


def mastodon_length(text: str, limits: ServerLimits) -> int:
    """The length Mastodon gives a post's text (see the module's note)."""
    text = _MENTION.sub(lambda m: "@" + m.group(1), text)
    urls = len(_URL.findall(text))
    return grapheme_length(_URL.sub("", text)) + urls * limits.characters_reserved_per_url


def strict_length(text: str) -> int:
    """The strictest count any server applies: everything at full length, in whichever of
    grapheme clusters, code points and UTF-16 units is largest."""
    return max(grapheme_length(text), len(text), len(text.encode("utf-16-le")) // 2)


def post_length(text: str, limits: ServerLimits) -> int:
    """A post's length as this server counts it (see ``ServerLimits.counting``)."""
    if limits.counting == "mastodon":
        return mastodon_length(text, limits)
    return strict_length(text)


def warning_length(spoiler_text: str, limits: ServerLimits) -> int:
    """What the content warning adds: counted as it stands (no URL or mention discount)."""
    if limits.counting == "mastodon":
        return grapheme_length(spoiler_text)
    return strict_length(spoiler_text)
