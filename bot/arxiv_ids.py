"""Find the arXiv papers a status points to (pure).

Links are read from each anchor's ``href`` (Mastodon truncates the visible text); text forms
such as ``arXiv:2504.18412``, the arXiv DOI and bare URLs from the text outside links. Every
candidate is validated by arXiv's identifier rules before it is returned: one malformed id
fails a whole batch at the arXiv API, so nothing doubtful leaves this module.

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
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import etree

from bot.models import PaperRef

MAX_CONTENT_CHARS = 100_000
MAX_CANDIDATES = 100

OLD_ARCHIVES = frozenset(
    {
        "astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph",
        "nlin", "nucl-ex", "nucl-th", "physics", "quant-ph", "math", "cs", "q-bio", "q-fin",
        "stat", "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an",
        "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th",
        "patt-sol", "plasm-ph", "solv-int", "supr-con",
    }
)  # fmt: skip

_ID_FULL = re.compile(
    r"(?:(?P<yymm>\d{4})\.(?P<num>\d{4,5})"
    r"|(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subject>[a-z]{2}))?/(?P<oyymm>\d{4})(?P<onum>\d{3}))"
    r"(?:v(?P<version>\d{1,3}))?",
    re.IGNORECASE,
)

# Byte patterns, matched against ASCII-lower-cased UTF-8 (bytes.lower keeps every offset).
_ID = rb"(?:\d{4}\.\d{4,5}|[a-z]++(?:-[a-z]++)?(?:\.[a-z]{2})?/\d{7})(?:v\d{1,3})?+"
_ID_END = rb"(?![a-z0-9_/-]|\.\d)"
_WORD_BYTE = re.compile(rb"[a-z0-9_.\-@\x80-\xff]")
_TEXT_FORM_AT = re.compile(rb"arxiv[ \t]?(?::|\xef\xbc\x9a)?[ \t]?(" + _ID + rb")" + _ID_END)
_DOI_AT = re.compile(rb"10\.48550/arxiv\.(" + _ID + rb")" + _ID_END)
_BARE_BEFORE = re.compile(rb"[a-z0-9_.$/:+\-\x80-\xff]")  # a version, a price, a path, a time
_BARE_ID = re.compile(rb"\d{4}\.\d{4,5}(?:v\d{1,3})?+(?![a-z0-9_/-]|[.,]\d)")
_URL_REST = rb"(?:[/?][^\s<>\"'()\[\]{}\x00\x80-\xff]*)?"
_URL_HOSTS = (
    b"arxiv.org", b"ar5iv.org", b"alphaxiv.org", b"huggingface.co", b"hf.co", b"scirate.com",
    b"semanticscholar.org", b"doi.org", b"arxiv-sanity-lite.com",
)  # fmt: skip
_URL_AT = {host: re.compile(re.escape(host) + _URL_REST) for host in _URL_HOSTS}
_URL_PREFIX = re.compile(rb"(?:https?://)?((?:www|export|lanl|dx|api|ar5iv\.labs)\.)?\Z")
# An anchor's place in the text: its index between two private-use characters.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(_OPEN.encode() + rb"(\d+)" + _CLOSE.encode())
# The pre-filter: a text without one of these cannot hold a paper. Derived from the hosts
# scanned for, so a host added there is never rejected here (tests hold PAPER_HOSTS to it).
_MARKERS = ("arxiv", "10.48550", *(host.decode("ascii") for host in _URL_HOSTS))

_ARXIV_HOSTS = frozenset({"arxiv.org", "export.arxiv.org", "lanl.arxiv.org"})
_ARXIV_PATHS = frozenset({"abs", "pdf", "html", "format", "src", "ps", "e-print", "tb", "bibtex"})
# host -> the path prefixes under which an id follows
_OTHER_HOSTS: dict[str, frozenset[str]] = {
    "ar5iv.labs.arxiv.org": frozenset({"html", "abs"}),
    "ar5iv.org": frozenset({"html", "abs"}),
    "alphaxiv.org": frozenset({"abs", "overview"}),
    "huggingface.co": frozenset({"papers"}),
    "hf.co": frozenset({"papers"}),
    "scirate.com": frozenset({"arxiv"}),
    "semanticscholar.org": frozenset({"arxiv"}),
    "api.semanticscholar.org": frozenset({"arxiv"}),
}
_DOI_HOSTS = frozenset({"doi.org", "dx.doi.org"})
_SANITY_HOSTS = frozenset({"arxiv-sanity-lite.com"})
_DOI_PREFIX = "10.48550/arxiv."
PAPER_FORMS = frozenset(
    {(host, path) for host in _ARXIV_HOSTS for path in _ARXIV_PATHS}
    | {(host, path) for host, paths in _OTHER_HOSTS.items() for path in paths}
    | {(host, "10.48550") for host in _DOI_HOSTS}
    | {(host, "?pid") for host in _SANITY_HOSTS}
)
"""Every link form :func:`paper_in_url` reads as a paper: (host without ``www.``, the first
path segment, or ``?key`` for a query)."""

_BLOCK_TAGS = ("p", "br", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6")
_TAG = re.compile(r"<[^<>]*>")
# Characters lxml refuses in text, and the private-use pair that marks anchors' places.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f" + _OPEN + _CLOSE + "]")
_PARSERS = threading.local()  # lxml parsers must not be shared between threads


def normalise_id(candidate: str, today: date) -> PaperRef | None:
    """The candidate as a valid arXiv id (subject class dropped, archive lower-cased), or None."""
    m = _ID_FULL.fullmatch(candidate)
    if m is None:
        return None
    version = int(m["version"]) if m["version"] else None
    if version == 0:
        return None
    if m["yymm"]:
        year, month = 2000 + int(m["yymm"][:2]), int(m["yymm"][2:])
        digits = 4 if year < 2015 else 5
        if not 1 <= month <= 12 or len(m["num"]) != digits or int(m["num"]) == 0:
            return None
        if (year, month) < (2007, 4) or (year, month) > (today.year, today.month):
            return None
        return PaperRef(f"{m['yymm']}.{m['num']}", version)
    archive = m["archive"].lower()
    yy, month = int(m["oyymm"][:2]), int(m["oyymm"][2:])
    year = 1900 + yy if yy >= 91 else 2000 + yy
    if archive not in OLD_ARCHIVES or not 1 <= month <= 12 or int(m["onum"]) == 0:
        return None
    if not (1991, 7) <= (year, month) <= (2007, 3):
        return None
    return PaperRef(f"{archive}/{m['oyymm']}{m['onum']}", version)


def paper_in_url(url: str, today: date) -> PaperRef | None:
    """The paper a URL points to, if it is one of the known arXiv and mirror forms."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = host.removeprefix("www.")
    segments = [s for s in unquote(parts.path).split("/") if s]
    if host in _SANITY_HOSTS:
        pids = parse_qs(parts.query).get("pid", [])
        return normalise_id(pids[0], today) if pids else None
    if host in _DOI_HOSTS:
        doi = "/".join(segments)
        if doi[: len(_DOI_PREFIX)].lower() != _DOI_PREFIX:
            return None
        return normalise_id(doi[len(_DOI_PREFIX) :], today)
    prefixes = _ARXIV_PATHS if host in _ARXIV_HOSTS else _OTHER_HOSTS.get(host, frozenset())
    if len(segments) < 2 or segments[0].lower() not in prefixes:
        return None
    rest = "/".join(segments[1:])
    if rest.lower().endswith(".pdf"):
        rest = rest[:-4]
    return normalise_id(rest, today)


def papers_in_text(text: str, today: date, *, bare_ids: bool = False) -> list[PaperRef]:
    """Papers named in plain text: URLs, ``arXiv:ID`` forms, the arXiv DOI, and bare ids if asked."""
    text = text[:MAX_CONTENT_CHARS]
    if not bare_ids and not _has_marker(text):
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
    if bare_ids or _has_marker(content):
        refs.extend(_refs_in_html(content, today, bare_ids))
    if card_url and _has_marker(card_url):
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
        or _has_marker(content_html[:MAX_CONTENT_CHARS])
        or bool(card_url and _has_marker(card_url))
    )


class _Budget:
    def __init__(self, candidates: int = MAX_CANDIDATES) -> None:
        self.left = candidates

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _has_marker(text: str) -> bool:
    low = text.lower()
    return any(marker in low for marker in _MARKERS)


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
        if not _is_mention_or_tag(anchor) and _has_marker(href):
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
