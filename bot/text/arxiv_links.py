"""Finding the arXiv papers a status points to (pure).

Links are read from each anchor's ``href`` (Mastodon truncates the visible text); text forms
such as ``arXiv:2504.18412``, the arXiv DOI and bare URLs from the text outside links.
:mod:`bot.text.arxiv_ids` validates every candidate.

Time is linear in the input and bounded: the text is scanned as ASCII-lower-cased bytes with
patterns that start with a literal (so the regular-expression engine jumps from one
occurrence to the next), no pattern can backtrack catastrophically, at most
``MAX_CONTENT_CHARS`` of a status are read, and at most ``MAX_CANDIDATES`` places that look
like a reference are examined (a real post has a handful; only a hostile one has more).
"""

from __future__ import annotations

import html
import re
import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import date

from lxml import etree

from bot.models import PaperRef
from bot.text.arxiv_ids import URL_HOSTS, has_marker, normalise_id, paper_in_url

MAX_CONTENT_CHARS = 100_000
MAX_CANDIDATES = 100

# Byte patterns, matched against ASCII-lower-cased UTF-8 (bytes.lower keeps every offset).
_ID = rb"(?:\d{4}\.\d{4,5}|[a-z]++(?:-[a-z]++)?(?:\.[a-z]{2})?/\d{7})(?:v\d{1,3})?+"
_ID_END = rb"(?![a-z0-9_/-]|\.\d)"
_WORD_BYTE = re.compile(rb"[a-z0-9_.\-@\x80-\xff]")
_TEXT_FORM_AT = re.compile(rb"arxiv[ \t]?(?::|\xef\xbc\x9a)?[ \t]?(" + _ID + rb")" + _ID_END)
_DOI_AT = re.compile(rb"10\.48550/arxiv\.(" + _ID + rb")" + _ID_END)
_BARE_BEFORE = re.compile(rb"[a-z0-9_.$/:+\-\x80-\xff]")  # a version, a price, a path, a time
_BARE_ID = re.compile(rb"\d{4}\.\d{4,5}(?:v\d{1,3})?+(?![a-z0-9_/-]|[.,]\d)")
_URL_REST = rb"(?:[/?][^\s<>\"'()\[\]{}\x00\x80-\xff]*)?"
_URL_AT = {host: re.compile(re.escape(host) + _URL_REST) for host in URL_HOSTS}
_URL_PREFIX = re.compile(rb"(?:https?://)?((?:www|export|lanl|dx|api|ar5iv\.labs)\.)?\Z")
# An anchor's place in the text: its index between two private-use characters.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(_OPEN.encode() + rb"(\d+)" + _CLOSE.encode())
_BLOCK_TAGS = ("p", "br", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6")
_TAG = re.compile(r"<[^<>]*>")
# Characters lxml refuses in text, and the private-use pair that marks anchors' places.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f" + _OPEN + _CLOSE + "]")
_PARSERS = threading.local()  # lxml parsers must not be shared between threads


def papers_in_text(text: str, today: date, *, bare_ids: bool = False) -> list[PaperRef]:
    """Papers named in plain text: URLs, ``arXiv:ID`` forms, the arXiv DOI, and bare ids if asked."""
    text = text[:MAX_CONTENT_CHARS]
    if not bare_ids and not has_marker(text):
        return []
    return _dedupe(_refs_in_text(text, today, bare_ids, (), _Budget()))


def papers_in_status(
    content_html: str,
    today: date,
    *,
    card_url: str | None = None,
    bare_ids: bool = False,
) -> list[PaperRef]:
    """The ordered, de-duplicated papers a status's HTML content (then its link card) points to."""
    content = content_html[:MAX_CONTENT_CHARS]
    refs: list[PaperRef] = []
    if bare_ids or has_marker(content):
        refs.extend(_refs_in_html(content, today, bare_ids))
    if card_url and has_marker(card_url):
        ref = paper_in_url(card_url, today)
        if ref is not None:
            refs.append(ref)
    return _dedupe(refs)


def may_point_to_a_paper(
    content_html: str, card_url: str | None = None, *, bare_ids: bool = False
) -> bool:
    """Whether a status is worth parsing at all: the cheap test :func:`papers_in_status`
    begins with (most statuses fail it)."""
    return (
        bare_ids
        or has_marker(content_html[:MAX_CONTENT_CHARS])
        or bool(card_url and has_marker(card_url))
    )


def papers_in_reference(text: str, today: date, *, bare_ids: bool = False) -> list[PaperRef]:
    """What one reference names (``arxiv-bot preview REF``): an id, a URL, a post's text, or
    a post's HTML."""
    single = normalise_id(text.strip().removeprefix("arXiv:").removeprefix("arxiv:"), today)
    if single is not None:
        return [single]
    if "<" in text and ">" in text:
        return papers_in_status(text, today, bare_ids=bare_ids)
    return papers_in_text(text, today, bare_ids=bare_ids)


class _Budget:
    def __init__(self, candidates: int = MAX_CANDIDATES) -> None:
        self.left = candidates

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _parser() -> etree.HTMLParser:
    parser: etree.HTMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = etree.HTMLParser(
            recover=True, no_network=True, remove_comments=True, huge_tree=True
        )
        _PARSERS.parser = parser
    return parser


def _refs_in_html(content: str, today: date, bare_ids: bool) -> list[PaperRef]:
    """Anchors by their href, the rest as text, in document order.

    Each anchor is replaced by a placeholder in the text, so one scan of the text sees links
    and text forms in the order they appear.
    """
    budget = _Budget()
    if not content.strip():
        return []
    parser = _parser()
    content = _UNSAFE.sub(" ", content)
    try:
        root = etree.fromstring(f"<div>{content}</div>", parser)
        too_deep = any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)
    except (etree.ParserError, ValueError):
        root, too_deep = None, True
    if root is None or too_deep:
        # Markup no server sends (nested thousands deep, or unparseable): read it as text.
        text = html.unescape(_TAG.sub(" ", content))
        return list(_refs_in_text(text, today, bare_ids, (), budget))
    anchor_refs: list[PaperRef | None] = []
    seen: dict[str, PaperRef | None] = {}
    for index, anchor in enumerate(list(root.iter("a"))):
        href = anchor.get("href") or ""
        ref = None
        if not _is_mention_or_tag(anchor) and has_marker(href):
            if href not in seen and budget.take():
                seen[href] = paper_in_url(href, today)
            ref = seen.get(href)
        anchor_refs.append(ref)
        del anchor[:]
        anchor.text = f" {_OPEN}{index}{_CLOSE} "
    for block in root.iter(*_BLOCK_TAGS):
        block.tail = "\n" + (block.tail or "")
    text = etree.tostring(root, method="text", encoding="unicode")
    return list(_refs_in_text(text, today, bare_ids, anchor_refs, budget))


def _is_mention_or_tag(anchor: etree._Element) -> bool:
    classes = (anchor.get("class") or "").lower().split()
    return "mention" in classes or "hashtag" in classes or anchor.get("rel") == "tag"


def _refs_in_text(
    text: str,
    today: date,
    bare_ids: bool,
    anchor_refs: list[PaperRef | None] | tuple[()],
    budget: _Budget,
) -> Iterator[PaperRef]:
    low = text.encode("utf-8", "surrogatepass").lower()
    found: list[tuple[int, PaperRef]] = []
    if anchor_refs:
        for m in _PLACEHOLDER.finditer(low):
            ref = anchor_refs[int(m[1])] if int(m[1]) < len(anchor_refs) else None
            if ref is not None:
                found.append((m.start(), ref))
    taken = _Spans()
    for host, pattern in _URL_AT.items():
        for m in _matches(low, host, pattern, budget):
            prefix = _URL_PREFIX.search(low, max(0, m.start() - 20), m.start())
            start = prefix.start() if prefix else m.start()
            if start > 0 and _WORD_BYTE.match(low, start - 1):
                continue  # notarxiv.org, arxiv.org.evil.example's neighbours, an e-mail
            subdomain = prefix[1] if prefix and prefix[1] else b""
            url = "https://" + (subdomain + m.group()).decode("ascii").rstrip(".,;:!?")
            ref = paper_in_url(url, today)
            if ref is not None:
                found.append((start, ref))
                taken.add(start, m.end())
    for needle, pattern in ((b"arxiv", _TEXT_FORM_AT), (b"10.48550/", _DOI_AT)):
        for m in _matches(low, needle, pattern, budget):
            if m.start() > 0 and _WORD_BYTE.match(low, m.start() - 1) and needle == b"arxiv":
                continue  # "myarxiv:…", or the arxiv inside a DOI (read by the DOI pattern)
            ref = normalise_id(m[1].decode("ascii"), today)
            if ref is not None and not taken.covers(m.start()):
                found.append((m.start(), ref))
                taken.add(m.start(), m.end())
    if bare_ids:
        for m in _BARE_ID.finditer(low):
            if not budget.take():
                break
            if m.start() > 0 and _BARE_BEFORE.match(low, m.start() - 1):
                continue
            ref = normalise_id(m.group().decode("ascii"), today)
            if ref is not None and not taken.covers(m.start()):
                found.append((m.start(), ref))
    found.sort(key=lambda pair: pair[0])
    for _, ref in found:
        yield ref


def _matches(
    low: bytes, needle: bytes, pattern: re.Pattern[bytes], budget: _Budget
) -> Iterator[re.Match[bytes]]:
    """Matches of ``pattern`` at occurrences of ``needle``, examining at most the budget's worth."""
    pos = low.find(needle)
    while pos != -1 and budget.take():
        m = pattern.match(low, pos)
        if m is None:
            pos = low.find(needle, pos + 1)
            continue
        yield m
        pos = low.find(needle, max(m.end(), pos + 1))


class _Spans:
    """Spans of the text already read as a reference; membership by binary search."""

    def __init__(self) -> None:
        self._spans: list[tuple[int, int]] = []
        self._sorted = True

    def add(self, start: int, end: int) -> None:
        self._sorted = self._sorted and (not self._spans or self._spans[-1][0] <= start)
        self._spans.append((start, end))

    def covers(self, position: int) -> bool:
        if not self._sorted:
            self._spans.sort()
            self._sorted = True
        i = bisect_right(self._spans, (position, float("inf"))) - 1
        return i >= 0 and self._spans[i][0] <= position < self._spans[i][1]


def _dedupe(refs: Iterable[PaperRef]) -> list[PaperRef]:
    seen: set[str] = set()
    out: list[PaperRef] = []
    for ref in refs:
        if ref.arxiv_id not in seen:
            seen.add(ref.arxiv_id)
            out.append(ref)
    return out
