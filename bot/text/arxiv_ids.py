"""arXiv's identifiers and the links that carry them (pure).

Every candidate is validated by arXiv's identifier rules before it is returned: one malformed
id fails a whole batch at the arXiv API, so nothing doubtful leaves this module. The hosts
and paths that count as a paper's link are listed here once; :mod:`bot.text.arxiv_links`
finds them in a status.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, unquote, urlsplit

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

_ID_FULL = re.compile(
    r"(?:(?P<yymm>\d{4})\.(?P<num>\d{4,5})"
    r"|(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subject>[a-z]{2}))?/(?P<oyymm>\d{4})(?P<onum>\d{3}))"
    r"(?:v(?P<version>\d{1,3}))?",
    re.IGNORECASE,
)
URL_HOSTS = (
    b"arxiv.org", b"ar5iv.org", b"alphaxiv.org", b"huggingface.co", b"hf.co", b"scirate.com",
    b"semanticscholar.org", b"doi.org", b"arxiv-sanity-lite.com",
)  # fmt: skip
"""The registered domains a paper's link can be on (subdomains are read with them)."""
# The pre-filter: a text without one of these cannot hold a paper. Derived from the hosts
# scanned for, so a host added there is never rejected here (tests hold PAPER_FORMS to it).
_MARKERS = ("arxiv", "10.48550", *(host.decode("ascii") for host in URL_HOSTS))

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


def has_marker(text: str) -> bool:
    """Whether ``text`` could hold a paper at all: the cheap test every finder begins with."""
    low = text.lower()
    return any(marker in low for marker in _MARKERS)


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
