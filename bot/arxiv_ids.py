"""Find the arXiv papers a status points to (pure).

Links are read from each anchor's ``href`` (Mastodon truncates the visible text), text forms
such as ``arXiv:2504.18412`` from the text outside links. Every candidate is validated by
arXiv's identifier rules before it is returned: one malformed id fails a whole batch at the
arXiv API, so nothing doubtful leaves this module.

All regular expressions here are free of nested quantifiers, so time is linear in the input.
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

OLD_ARCHIVES = frozenset(
    {
        "astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph",
        "nlin", "nucl-ex", "nucl-th", "physics", "quant-ph", "math", "cs", "q-bio", "q-fin",
        "stat", "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an",
        "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th",
        "patt-sol", "plasm-ph", "solv-int", "supr-con",
    }
)  # fmt: skip

_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z]+(?:-[a-z]+)?(?:\.[a-z]{2})?/\d{7}"
_ID = rf"(?:{_NEW_ID}|{_OLD_ID})(?:v\d{{1,3}})?"
_ID_FULL = re.compile(
    r"(?:(?P<yymm>\d{4})\.(?P<num>\d{4,5})"
    r"|(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subject>[a-z]{2}))?/(?P<oyymm>\d{4})(?P<onum>\d{3}))"
    r"(?:v(?P<version>\d{1,3}))?",
    re.IGNORECASE,
)

# A cheap first look: a status that mentions none of these cannot point to a paper.
_MARKERS = re.compile(r"arxiv|huggingface|hf\.co|scirate|semanticscholar|10\.48550", re.IGNORECASE)
_TEXT_FORMS = re.compile(
    rf"(?<![\w.-])(?:arxiv\s?[:：]?\s?|10\.48550/arxiv\.)(?P<id>{_ID})(?![\w/-]|\.\d)",
    re.IGNORECASE,
)
_BARE_NEW_ID = re.compile(rf"(?<![\w.$€£/:+-]){_NEW_ID}(?:v\d{{1,3}})?(?![\w/-]|\.\d|,\d)")
_URL_IN_TEXT = re.compile(r"(?:https?://)?[^\s<>\"'()\[\]{}]+")

_ARXIV_HOSTS = frozenset({"arxiv.org", "export.arxiv.org", "lanl.arxiv.org"})
_ARXIV_PATHS = frozenset({"abs", "pdf", "html", "format", "src", "ps", "e-print", "tb", "bibtex"})
# host -> the path prefixes under which an id follows
_OTHER_HOSTS: dict[str, tuple[str, ...]] = {
    "ar5iv.labs.arxiv.org": ("html", "abs"),
    "ar5iv.org": ("html", "abs"),
    "alphaxiv.org": ("abs", "overview"),
    "huggingface.co": ("papers",),
    "hf.co": ("papers",),
    "scirate.com": ("arxiv",),
    "semanticscholar.org": ("arxiv",),
    "api.semanticscholar.org": ("arxiv",),
}
_DOI_HOSTS = frozenset({"doi.org", "dx.doi.org"})
_SANITY_HOSTS = frozenset({"arxiv-sanity-lite.com"})

_INLINE_TAGS = frozenset({"span", "em", "strong", "b", "i", "u", "s", "del", "code", "small"})
_PARSERS = threading.local()  # lxml parsers must not be shared between threads
_TAG = re.compile(r"<[^<>]*>")


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
        prefix = "10.48550/arxiv."
        if doi[: len(prefix)].lower() != prefix:
            return None
        return normalise_id(doi[len(prefix) :], today)
    if host in _ARXIV_HOSTS:
        prefixes: Iterable[str] = _ARXIV_PATHS
    else:
        prefixes = _OTHER_HOSTS.get(host, ())
    if len(segments) < 2 or segments[0].lower() not in prefixes:
        return None
    rest = "/".join(segments[1:])
    if rest.lower().endswith(".pdf"):
        rest = rest[:-4]
    return normalise_id(rest, today)


def papers_in_text(text: str, today: date, *, bare_ids: bool = False) -> list[PaperRef]:
    """Papers named in plain text: URLs, ``arXiv:ID`` forms, the arXiv DOI, and bare ids if asked."""
    return _dedupe(_refs_in_text(text, today, bare_ids=bare_ids))


def papers_in_status(
    content_html: str,
    today: date,
    *,
    card_url: str | None = None,
    bare_ids: bool = False,
) -> list[PaperRef]:
    """The ordered, de-duplicated papers a status's HTML content (and link card) points to."""
    if (
        not bare_ids
        and _MARKERS.search(content_html) is None
        and (card_url is None or _MARKERS.search(card_url) is None)
    ):
        return []
    refs = list(_refs_in_html(content_html, today, bare_ids=bare_ids))
    if card_url:
        ref = paper_in_url(card_url, today)
        if ref is not None:
            refs.append(ref)
    return _dedupe(refs)


def _refs_in_html(content_html: str, today: date, *, bare_ids: bool) -> Iterator[PaperRef]:
    if not content_html.strip():
        return
    parser = _parser()
    try:
        root = etree.fromstring(f"<div>{content_html}</div>", parser)
        too_deep = any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)
    except (etree.ParserError, ValueError):
        root, too_deep = None, True
    if root is None or too_deep:
        # Markup no real server sends (nested thousands deep): read it as text.
        yield from _refs_in_text(
            html.unescape(_TAG.sub(" ", content_html)), today, bare_ids=bare_ids
        )
        return
    chunks: list[str] = []
    anchor_depth = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag == "a":
                if anchor_depth == 0:
                    yield from _flush(chunks, today, bare_ids)
                    href = el.get("href")
                    if href and not _is_mention_or_tag(el):
                        ref = paper_in_url(href, today)
                        if ref is not None:
                            yield ref
                anchor_depth += 1
                continue
            if anchor_depth == 0:
                if tag not in _INLINE_TAGS:
                    chunks.append(" ")
                if el.text:
                    chunks.append(el.text)
        else:
            if tag == "a":
                anchor_depth -= 1
            elif anchor_depth == 0 and tag not in _INLINE_TAGS:
                chunks.append(" ")
            if anchor_depth == 0 and el.tail:
                chunks.append(el.tail)
    yield from _flush(chunks, today, bare_ids)


def _parser() -> etree.HTMLParser:
    parser: etree.HTMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = etree.HTMLParser(
            recover=True, no_network=True, remove_comments=True, huge_tree=True
        )
        _PARSERS.parser = parser
    return parser


def _flush(chunks: list[str], today: date, bare_ids: bool) -> Iterator[PaperRef]:
    if chunks:
        text = "".join(chunks)
        chunks.clear()
        yield from _refs_in_text(text, today, bare_ids=bare_ids)


def _is_mention_or_tag(anchor: etree._Element) -> bool:
    classes = (anchor.get("class") or "").lower().split()
    return "mention" in classes or "hashtag" in classes or anchor.get("rel") == "tag"


def _refs_in_text(text: str, today: date, *, bare_ids: bool) -> Iterator[PaperRef]:
    if not bare_ids and _MARKERS.search(text) is None:
        return
    found: list[tuple[int, PaperRef]] = []
    url_spans = _Spans()
    for m in _URL_IN_TEXT.finditer(text):
        token = m.group().rstrip(".,;:!?…")
        if "/" not in token or _MARKERS.search(token) is None:
            continue
        url = token if "://" in token[:8] else f"https://{token}"
        ref = paper_in_url(url, today)
        if ref is not None:
            found.append((m.start(), ref))
            url_spans.add(m.start(), m.end())
    form_spans = _Spans()
    for m in _TEXT_FORMS.finditer(text):
        ref = normalise_id(m["id"], today)
        if ref is not None and not url_spans.covers(m.start()):
            found.append((m.start(), ref))
            form_spans.add(m.start(), m.end())
    if bare_ids:
        for m in _BARE_NEW_ID.finditer(text):
            ref = normalise_id(m.group(), today)
            if ref is not None and not (
                url_spans.covers(m.start()) or form_spans.covers(m.start())
            ):
                found.append((m.start(), ref))
    found.sort(key=lambda pair: pair[0])
    for _, ref in found:
        yield ref


class _Spans:
    """Non-overlapping spans added in increasing order; membership by binary search."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        self._starts.append(start)
        self._ends.append(end)

    def covers(self, position: int) -> bool:
        i = bisect_right(self._starts, position) - 1
        return i >= 0 and position < self._ends[i]


def _dedupe(refs: Iterable[PaperRef]) -> list[PaperRef]:
    seen: set[str] = set()
    out: list[PaperRef] = []
    for ref in refs:
        if ref.arxiv_id not in seen:
            seen.add(ref.arxiv_id)
            out.append(ref)
    return out
