"""How each server counts a post's length, written from the servers' own source (see
``FACTS-fediverse.md``), not from the bot's code: a bot that counts differently fails here.

Mastodon (``app/validators/status_length_validator.rb``): the content warning joined to the
text, in grapheme clusters, after every URL that twitter-text extracts (with Mastodon's
overrides in ``config/initializers/twitter_regex.rb``, and only with a protocol) is replaced
by ``characters_reserved_per_url`` characters and every mention (``Account::MENTION_RE``) by
``@username``; overlapping entities are dropped, the earlier one kept.

Simplified here, on purpose and on the strict side for a bot: twitter-text accepts only the
IANA top-level domains; this fake accepts any alphabetic one but the reserved names
(``example``, ``test``, ``invalid``, ``localhost``, ``local``), which are never in that list.
"""

from __future__ import annotations

import re

import regex

RESERVED_TLDS = ("example", "test", "invalid", "localhost", "local")
_PROTOCOL = r"(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"
# twitter-text's valid_url_preceding_chars: not a letter, digit, @, $, # or an invalid char
_BEFORE = r"(?<![A-Za-z0-9@＠$#＃\ufffe\ufeff\uffff])"
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_TLD = rf"(?!(?:{'|'.join(RESERVED_TLDS)})(?![^\W_]))[^\W\d_]{{2,}}(?![^\W_]|@)"
_DOMAIN = rf"(?:{_LABEL}\.)+{_TLD}"
# Mastodon's overrides: a path runs over anything but white space, <, >, (, ) and ?; it
# ends on a character that is not one of these, or on balanced parentheses.
_PATH_CHAR = r"[^\s<>()?]"
_PATH_END = r"[^\s()?!*\"'「」<>;:=,.$%\[\]~&|@]"
_BALANCED = rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
_PATH = (
    rf"(?:{_PATH_CHAR}*(?:{_BALANCED}{_PATH_CHAR}*)*(?:{_PATH_END}|{_BALANCED})"
    rf"|{_PATH_CHAR}+/)"
)
_UCHARS = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0010fffd"
_QUERY = rf"\?[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]*[a-z0-9_&=#/\-{_UCHARS}]"
URL = re.compile(
    rf"{_BEFORE}(?P<protocol>{_PROTOCOL})?{_DOMAIN}(?::\d+)?(?:/{_PATH}*)?(?:{_QUERY})?",
    re.IGNORECASE,
)
"""twitter-text's valid_url. Mastodon extracts only the matches with a protocol, but a match
without one still takes its text out of the scan (``extract_url_without_protocol: false``)."""
# Account::MENTION_RE
MENTION = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@\w+(?:[.-]+\w+)*)?", re.IGNORECASE
)
_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def mastodon_countable(text: str, url_length: int = 23) -> str:
    """The text as Mastodon measures it: URLs as placeholders, mentions without domains."""
    urls = (m for m in URL.finditer(text) if m["protocol"])
    entities = [(m.start(), m.end(), "x" * url_length) for m in urls]
    entities += [(m.start(), m.end(), "@" + m.group(1)) for m in MENTION.finditer(text)]
    out, at = [], 0
    for start, end, replacement in sorted(entities):
        if start < at:
            continue  # overlaps an earlier entity: dropped
        out += [text[at:start], replacement]
        at = end
    return "".join([*out, text[at:]])


def mastodon_count(text: str, url_length: int = 23, spoiler_text: str = "") -> int:
    return graphemes(spoiler_text + mastodon_countable(text, url_length))


def count(counting: str, text: str, spoiler_text: str, url_length: int) -> tuple[int, int]:
    """(the text's length, the content warning's) in the server's unit."""
    if counting == "mastodon":
        return graphemes(mastodon_countable(text, url_length)), graphemes(spoiler_text)
    if counting == "graphemes":  # Akkoma, Pleroma: String.length of the trimmed text
        return graphemes(text.strip()), graphemes(spoiler_text)
    if counting == "codepoints":  # GoToSocial: runes
        return len(text), len(spoiler_text)
    if counting == "utf16":  # Sharkey, Iceshrimp: JavaScript / .NET string lengths
        return len(text.encode("utf-16-le")) // 2, len(spoiler_text.encode("utf-16-le")) // 2
    return 0, 0  # Friendica, snac2: no check
