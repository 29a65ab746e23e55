"""A post's length as the server will count it (pure).

Mastodon (``app/validators/status_length_validator.rb``) counts the content warning and the
text together in grapheme clusters, after replacing each URL that twitter-text extracts (with
its protocol, and Mastodon's own path rules) by ``characters_reserved_per_url`` characters and
each ``@user@domain`` by ``@user``. This count is never below Mastodon's, whatever the text:
a URL gets the discount only where twitter-text surely extracts it (after a space or
punctuation, a common top-level domain, as far as it surely reaches); anything else that
starts with a protocol is weighed as a URL *and* counted in full, which is more than any
reading of it can come to. Every other server counts everything at full length, in
whichever unit is largest (``strict``).
"""

from __future__ import annotations

import re

import regex

from bot.models import ServerLimits

_TLDS = (
    "com org net edu gov mil int info biz name pro io ai app dev social science xyz online "
    "site club space tech cloud network zone town party cafe blog page link website world "
    "academy institute university eu uk de fr nl ch at be se no dk fi is ie es pt it "
    "pl cz sk hu ro bg gr tr ua ru jp kr cn tw hk sg in au nz ca us br mx ar cl co za me tv cc"
)
# Surely a URL to twitter-text: after an ASCII space or at the start (anything else may be
# taken into what it reads before: a mention, or a link without a protocol, whose query runs
# on over a no-break space and other non-ASCII spaces), on a common IANA
# top-level domain (another one gets no discount), over these characters (ASCII only here:
# a URL with others gets no discount past them), ending on a letter, digit or one of _#/+-
# (Mastodon's ``valid_url_path_ending_chars``).
_URL = re.compile(
    r"(?:(?<=[ \t\n\r\f\v])|^)https?://"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    rf"(?:{'|'.join(_TLDS.split())})(?![\w@-])(?::\d{{1,5}})?"
    r"(?:/(?:[A-Za-z0-9!*';:=+,.$/%#\[\]_~&|@-]*[A-Za-z0-9_#/+-])?)?",
    re.IGNORECASE,
)
# Mastodon's Account::MENTION_RE: an ASCII username, then the domain.
_MENTION = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)@\w+(?:[.-]+\w+)*", re.IGNORECASE
)
_PROTOCOL = re.compile(r"(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://", re.IGNORECASE)
"""Every protocol twitter-text takes a URL with, as Mastodon configures it."""
_GRAPHEME = regex.compile(r"\X")


def grapheme_length(text: str) -> int:
    """User-perceived characters, as Ruby's ``grapheme_length`` counts them."""
    if text.isascii() and "\r" not in text:
        return len(text)
    return len(_GRAPHEME.findall(text))


def mastodon_length(text: str, limits: ServerLimits) -> int:
    """The length Mastodon gives a post's text, or more (see the module's note)."""
    placeholder = "x" * limits.characters_reserved_per_url
    # (start, end, what stands for it): mentions, sure URLs, and perhaps-URLs, which weigh a
    # URL and their protocol in full (the rest of them is counted as text).
    found = [(m.start(), m.end(), "@" + m.group(1)) for m in _MENTION.finditer(text)]
    for protocol in _PROTOCOL.finditer(text):
        sure = _URL.match(text, protocol.start())
        if sure is not None:
            found.append((sure.start(), sure.end(), placeholder))
        else:
            found.append((protocol.start(), protocol.end(), placeholder + protocol.group()))
    pieces: list[str] = []
    at = 0
    for start, end, stand_in in sorted(found):
        if start < at:
            continue  # overlaps an earlier one: as Mastodon does, the earlier one counts
        pieces += [text[at:start], stand_in]
        at = end
    return grapheme_length("".join([*pieces, text[at:]]))


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
