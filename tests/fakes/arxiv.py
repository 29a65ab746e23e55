"""A fake arXiv API: Atom feeds in either live serialisation, errors and throttling on demand."""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from tests.fakes.http import LoopbackServer, Request, Response
from tests.fixtures.papers import ALL, PaperRecord

ATOM = "application/atom+xml; charset=utf-8"
_WELL_FORMED = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?")


def feed_2026(records: Iterable[PaperRecord], query: str) -> bytes:
    """The 2026 serialisation: single-quoted XML declaration, one-line summaries, https links."""
    records = list(records)
    entries = "".join(_entry_2026(r) for r in records)
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>https://arxiv.org/api/fake</id>\n"
        f"  <title>arXiv Query: {escape(query)}</title>\n"
        "  <updated>2026-11-26T00:00:00Z</updated>\n"
        f"  <opensearch:itemsPerPage>{max(len(records), 1)}</opensearch:itemsPerPage>\n"
        f"  <opensearch:totalResults>{len(records)}</opensearch:totalResults>\n"
        "  <opensearch:startIndex>0</opensearch:startIndex>\n"
        f"{entries}</feed>\n"
    ).encode()


def _entry_parts(r: PaperRecord, ns: str) -> tuple[str, str, str]:
    """Authors, the arxiv: extras and the categories; ``ns`` declares the namespace inline
    (the legacy serialisation does that on every element)."""
    authors = "".join(
        f"    <author>\n      <name>{escape(a)}</name>\n"
        + "".join(
            f"      <arxiv:affiliation{ns}>{escape(af)}</arxiv:affiliation>\n"
            for af in r.affiliations.get(a, ())
        )
        + "    </author>\n"
        for a in r.authors
    )
    extras = "".join(
        f"    <arxiv:{tag}{ns}>{escape(value)}</arxiv:{tag}>\n"
        for tag, value in (("comment", r.comment), ("journal_ref", r.journal_ref), ("doi", r.doi))
        if value
    )
    categories = "".join(
        f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>\n'
        for c in r.categories or (r.primary_category,)
    )
    return authors, extras, categories


def _entry_2026(r: PaperRecord) -> str:
    versioned = f"{r.arxiv_id}v{r.version}"
    authors, extras, categories = _entry_parts(r, "")
    return (
        "  <entry>\n"
        f"    <id>http://arxiv.org/abs/{versioned}</id>\n"
        f"    <title>{escape(r.title)}</title>\n"
        f"    <updated>{r.updated}</updated>\n"
        f'    <link href="https://arxiv.org/abs/{versioned}" rel="alternate" type="text/html"/>\n'
        f'    <link href="https://arxiv.org/pdf/{versioned}" rel="related" type="application/pdf" title="pdf"/>\n'
        f"    <summary>{escape(r.summary)}</summary>\n"
        f"{categories}"
        f"    <published>{r.published}</published>\n"
        f"{extras}"
        f'    <arxiv:primary_category term="{r.primary_category}"/>\n'
        f"{authors}"
        "  </entry>\n"
    )


def feed_legacy(records: Iterable[PaperRecord], query: str) -> bytes:
    """The legacy serialisation: inline namespaces, hard-wrapped summaries, http links."""
    records = list(records)
    os_ns = 'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
    entries = "".join(_entry_legacy(r) for r in records)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f'  <link href={quoteattr("http://arxiv.org/api/query?" + query)} rel="self" type="application/atom+xml"/>\n'
        f'  <title type="html">ArXiv Query: {escape(query)}</title>\n'
        "  <id>http://arxiv.org/api/fake</id>\n"
        "  <updated>2026-11-26T00:00:00-05:00</updated>\n"
        f"  <opensearch:totalResults {os_ns}>{len(records)}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex {os_ns}>0</opensearch:startIndex>\n"
        f"  <opensearch:itemsPerPage {os_ns}>{max(len(records), 1)}</opensearch:itemsPerPage>\n"
        f"{entries}</feed>\n"
    ).encode()


def _wrap(text: str, width: int = 78) -> str:
    lines: list[str] = []
    line = ""
    for word in " ".join(text.split()).split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def _entry_legacy(r: PaperRecord) -> str:
    versioned = f"{r.arxiv_id}v{r.version}"
    ns = ' xmlns:arxiv="http://arxiv.org/schemas/atom"'
    title = _wrap(r.title, 70).replace("\n", "\n  ")
    authors, extras, categories = _entry_parts(r, ns)
    return (
        "  <entry>\n"
        f"    <id>http://arxiv.org/abs/{versioned}</id>\n"
        f"    <updated>{r.updated}</updated>\n"
        f"    <published>{r.published}</published>\n"
        f"    <title>{escape(title)}</title>\n"
        f"    <summary>  {escape(_wrap(r.summary))}\n</summary>\n"
        f"{authors}"
        f"{extras}"
        f'    <link href="http://arxiv.org/abs/{versioned}" rel="alternate" type="text/html"/>\n'
        f'    <link title="pdf" href="http://arxiv.org/pdf/{versioned}" rel="related" type="application/pdf"/>\n'
        f'    <arxiv:primary_category{ns} term="{r.primary_category}" scheme="http://arxiv.org/schemas/atom"/>\n'
        f"{categories}"
        "  </entry>\n"
    )


def error_feed(bad_id: str) -> bytes:
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>https://arxiv.org/</id>\n  <title>arXiv Search Results</title>\n"
        "  <updated>2026-11-26T00:00:00Z</updated>\n"
        "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        "  <opensearch:startIndex>0</opensearch:startIndex>\n"
        "  <entry>\n"
        f"    <id>https://arxiv.org/api/errors#incorrect_id_format_for_{escape(bad_id)}</id>\n"
        "    <title>Error</title>\n    <updated>2026-11-26T00:00:00Z</updated>\n"
        f"    <summary>incorrect id format for {escape(bad_id)}</summary>\n"
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        "  </entry>\n</feed>\n"
    ).encode()


RATE_EXCEEDED = Response(200, b"Rate exceeded.", "text/plain")
HTML_PAGE = Response(200, b"<!DOCTYPE html><html><body>Service busy</body></html>", "text/html")


class FakeArxiv(LoopbackServer):
    """Answers ``/api/query?id_list=...`` from known papers, in reverse order of the request."""

    def __init__(self, papers: Iterable[PaperRecord] = ALL, legacy: bool = False) -> None:
        self.papers = {p.arxiv_id: p for p in papers}
        self.legacy = legacy
        self.refused: set[str] = set()
        """Well-formed ids this server answers with HTTP 400 anyway, failing their whole batch."""
        super().__init__(self._handle)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/query"

    def id_lists(self) -> list[list[str]]:
        """The id lists of the query requests received, in order."""
        return [
            r.query.get("id_list", [""])[0].split(",")
            for r in self.requests
            if r.path == "/api/query"
        ]

    def _handle(self, request: Request) -> Response:
        if request.path != "/api/query":
            return Response(404, b"not found", "text/plain")
        ids = [i for i in request.query.get("id_list", [""])[0].split(",") if i]
        for arxiv_id in ids:
            if _WELL_FORMED.fullmatch(arxiv_id) is None or arxiv_id in self.refused:
                return Response(400, error_feed(arxiv_id), ATOM)
        found = []
        for arxiv_id in reversed(ids):
            base = re.sub(r"v\d+$", "", arxiv_id)
            base = re.sub(r"\.[A-Z]{2}/", "/", base)
            if base in self.papers:
                found.append(self.papers[base])
        query = "&".join(f"{k}={v[0]}" for k, v in request.query.items())
        writer = feed_legacy if self.legacy else feed_2026
        return Response(200, writer(found, query), ATOM)
