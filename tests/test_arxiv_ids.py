"""Finding arXiv papers in statuses: a table of real-world shapes, then properties."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import PaperRef
from bot.text.arxiv_ids import PAPER_FORMS, normalise_id, paper_in_url
from bot.text.arxiv_links import (
    MAX_CANDIDATES,
    papers_in_reference,
    papers_in_status,
    papers_in_text,
)
from tests.conftest import hashtag, link, mention, post_html

TODAY = date(2026, 11, 26)


def ids(refs: list[PaperRef]) -> list[str]:
    return [str(r) for r in refs]


SUPPORTED = [
    # Every link form the bot reads as a paper: (url, the id with version). This one table
    # drives every way a post can carry a link (below), and the README's list.
    ("https://arxiv.org/abs/2504.18412", "2504.18412"),
    ("https://arxiv.org/abs/2504.18412v2", "2504.18412v2"),
    ("http://arxiv.org/abs/1706.03762", "1706.03762"),
    ("https://www.arxiv.org/abs/1706.03762v7", "1706.03762v7"),
    ("https://export.arxiv.org/abs/1706.03762", "1706.03762"),
    ("https://lanl.arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
    ("https://arxiv.org/pdf/2504.18412", "2504.18412"),
    ("https://arxiv.org/pdf/2504.18412v2.pdf", "2504.18412v2"),
    ("https://arxiv.org/pdf/2504.18412.pdf", "2504.18412"),
    ("https://arxiv.org/pdf/hep-th/9711200v3", "hep-th/9711200v3"),
    ("https://arxiv.org/html/2504.18412v1", "2504.18412v1"),
    ("https://arxiv.org/format/2504.18412", "2504.18412"),
    ("https://arxiv.org/src/2504.18412", "2504.18412"),
    ("https://arxiv.org/ps/hep-th/9711200", "hep-th/9711200"),
    ("https://arxiv.org/e-print/2504.18412", "2504.18412"),
    ("https://arxiv.org/tb/2504.18412", "2504.18412"),
    ("https://arxiv.org/bibtex/2504.18412", "2504.18412"),
    ("https://arxiv.org/abs/2504.18412?context=cs.LG", "2504.18412"),
    ("https://arxiv.org/abs/2504.18412#S3", "2504.18412"),
    ("https://arxiv.org/abs/2504.18412/", "2504.18412"),
    ("HTTPS://ARXIV.ORG/abs/2504.18412", "2504.18412"),
    ("https://arxiv.org/abs/math.GT/0309136", "math/0309136"),
    ("https://arxiv.org/abs/math/0309136v2", "math/0309136v2"),
    ("https://arxiv.org/abs/cond-mat/0102536", "cond-mat/0102536"),
    ("https://arxiv.org/abs/astro-ph/0601001", "astro-ph/0601001"),
    ("https://ar5iv.labs.arxiv.org/html/1706.03762", "1706.03762"),
    ("https://ar5iv.org/abs/1706.03762", "1706.03762"),
    ("https://www.alphaxiv.org/abs/2504.18412", "2504.18412"),
    ("https://alphaxiv.org/overview/2504.18412v1", "2504.18412v1"),
    ("https://huggingface.co/papers/2504.18412", "2504.18412"),
    ("https://arxiv-sanity-lite.com/?pid=2504.18412", "2504.18412"),
    ("https://scirate.com/arxiv/2504.18412", "2504.18412"),
    ("https://www.semanticscholar.org/arxiv/2504.18412", "2504.18412"),
    ("https://doi.org/10.48550/arXiv.2504.18412", "2504.18412"),
    ("https://dx.doi.org/10.48550/ARXIV.1706.03762", "1706.03762"),
    ("https://hf.co/papers/1706.03762", "1706.03762"),
    ("https://api.semanticscholar.org/arxiv/1706.03762", "1706.03762"),
    ("https://ar5iv.labs.arxiv.org/abs/1706.03762v2", "1706.03762v2"),
    ("https://ar5iv.org/html/hep-th/9711200", "hep-th/9711200"),
    # arXiv's own mirrors serve every path arxiv.org does
    *(
        (f"https://{host}.arxiv.org/{path}/1706.03762v2", "1706.03762v2")
        for host in ("export", "lanl")
        for path in ("pdf", "html", "format", "src", "ps", "e-print", "tb", "bibtex")
    ),
]
NOT_PAPERS = [
    ("https://arxiv.org/list/cs.AI/recent", None),
    ("https://arxiv.org/a/vaswani_a_1", None),
    ("https://arxiv.org.evil.example/abs/2504.18412", None),
    ("https://evilarxiv.org/abs/2504.18412", None),
    ("https://arxiv.org/abs/2504.1841", None),
    ("https://arxiv.org/abs/2413.18412", None),
    ("https://arxiv.org/abs/2612.18412", None),
    ("https://arxiv.org/abs/1412.12345", None),
    ("https://arxiv.org/abs/1501.1234", None),
    ("https://arxiv.org/abs/0703.1234", None),
    ("https://arxiv.org/abs/2504.00000", None),
    ("https://arxiv.org/abs/2504.18412v0", None),
    ("https://arxiv.org/abs/hep-th/0704001", None),
    ("https://arxiv.org/abs/hep-th/9106001", None),
    ("https://arxiv.org/abs/fake-arch/9901001", None),
    ("https://arxiv.org/abs/hep-th/9913001", None),
    ("https://www.biorxiv.org/content/10.1101/2024.01.01.573838v1", None),
    ("https://www.medrxiv.org/content/10.1101/2020.03.19.20039354v1", None),
    ("https://doi.org/10.1101/2024.01.01.573838", None),
    ("https://huggingface.co/2504.18412", None),
    ("ftp://arxiv.org/abs/2504.18412", None),
    ("https://example.com/abs/2504.18412", None),
    ("https://arxiv.org/", None),
    ("https://[::1/abs/x", None),
]


@pytest.mark.parametrize(("url", "expected"), [*SUPPORTED, *NOT_PAPERS])
def test_urls(url: str, expected: str | None) -> None:
    ref = paper_in_url(url, TODAY)
    assert (None if ref is None else str(ref)) == expected


# --- every supported form, every way a post can carry it -------------------------------------


def plain_anchor(url: str) -> str:
    """A link as GoToSocial, Pleroma or a bridge sends it: one anchor, the URL as its text."""
    return f'<a href="{html.escape(url)}" rel="nofollow noopener">{html.escape(url)}</a>'


def akkoma_anchor(url: str) -> str:
    """Akkoma: no ``<p>``, ``rel="ugc"``, the full URL as the text."""
    return f'<a href="{html.escape(url)}" rel="ugc">{html.escape(url)}</a>'


def schemeless_anchor(url: str) -> str:
    """Sharkey and Iceshrimp: the scheme stripped from the link's text."""
    shown = re.sub("^https?://", "", url, flags=re.IGNORECASE)
    return f'<a href="{html.escape(url)}">{html.escape(shown)}</a>'


CARRIERS: dict[str, Callable[[str], list[PaperRef]]] = {
    "plain text": lambda url: papers_in_text(f"New paper: {url} (via a friend)", TODAY),
    "text without a scheme": lambda url: papers_in_text(
        f"New paper: {re.sub('^https?://', '', url, flags=re.IGNORECASE)}.", TODAY
    ),
    "preview argument": lambda url: papers_in_reference(url, TODAY),
    "preview text": lambda url: papers_in_reference(f"look at {url} today", TODAY),
    "Mastodon anchor": lambda url: papers_in_status(post_html("Read", link(url)), TODAY),
    "plain anchor": lambda url: papers_in_status(post_html("Read", plain_anchor(url)), TODAY),
    "Akkoma anchor": lambda url: papers_in_status(f"Read {akkoma_anchor(url)}<br>", TODAY),
    "scheme-less anchor": lambda url: papers_in_status(
        post_html("Read", schemeless_anchor(url)), TODAY
    ),
    "link card": lambda url: papers_in_status(post_html("Read this"), TODAY, card_url=url),
}


@pytest.mark.parametrize("carrier", CARRIERS)
@pytest.mark.parametrize(("url", "expected"), SUPPORTED)
def test_every_supported_form_is_found_however_the_post_carries_it(
    carrier: str, url: str, expected: str
) -> None:
    assert ids(CARRIERS[carrier](url)) == [expected]


def test_the_table_covers_every_form_the_parser_accepts() -> None:
    assert {form(url) for url, _ in SUPPORTED} == PAPER_FORMS


def form(url: str) -> tuple[str, str]:
    """A link's form: its host (``www.`` aside) and what says "paper" there (the first path
    segment, or the query's key)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    first = next((s for s in parts.path.split("/") if s), "")
    return host, (first.lower() if first else "?" + parts.query.split("=", 1)[0])


def test_the_readme_lists_exactly_the_supported_forms() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### Links it understands", 1)[1].split("\n#", 1)[0]
    listed: set[tuple[str, str]] = set()
    for row in re.findall(r"^\| (`.+?) \| (`.+?) \|", section, re.MULTILINE):
        hosts, paths = (re.findall(r"`([^`]+)`", cell) for cell in row)
        listed |= {(h, p.strip("/")) for h in hosts for p in paths}
    assert listed == PAPER_FORMS


TEXTS = [
    ("arXiv:2504.18412", ["2504.18412"]),
    ("see arXiv: 2504.18412v3.", ["2504.18412v3"]),
    ("arXiv 1706.03762", ["1706.03762"]),
    ("arxiv:hep-th/9711200", ["hep-th/9711200"]),
    ("ArXiv：1706.03762", ["1706.03762"]),
    ("(arXiv:math.GT/0309136)", ["math/0309136"]),
    ("doi 10.48550/arXiv.2504.18412", ["2504.18412"]),
    ("arxiv.org/abs/2504.18412 without a scheme", ["2504.18412"]),
    (
        "two: arXiv:1706.03762 and https://arxiv.org/abs/hep-th/9711200",
        ["1706.03762", "hep-th/9711200"],
    ),
    ("same twice arXiv:1706.03762 arxiv.org/pdf/1706.03762v2", ["1706.03762"]),
    ("Python 3.12.4 is out", []),
    ("it costs $2504.18 or 1234.5678 euros", []),
    ("call 2504.18412 now", []),
    ("on 2025.04.12 at 10.0.0.1", []),
    ("bioRxiv 2024.01.01.573838", []),
    ("arXiv:2504.18412.3", []),
    ("arXiv:2413.00001", []),
    ("myarxiv:2504.18412", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), TEXTS)
def test_text(text: str, expected: list[str]) -> None:
    assert ids(papers_in_text(text, TODAY)) == expected


def test_bare_ids_only_when_asked() -> None:
    text = "read 2504.18412 and 1706.03762v2, not 3.12.4 or 10.0.0.1 or $1234.5678"
    assert papers_in_text(text, TODAY) == []
    assert ids(papers_in_text(text, TODAY, bare_ids=True)) == ["2504.18412", "1706.03762v2"]


HTML = [
    # Mastodon: the link text is cut into spans; the href is the truth.
    (post_html("New:", link("https://arxiv.org/abs/2504.18412v2")), ["2504.18412v2"]),
    (
        '<p><a href="https://arxiv.org/abs/2504.18412" rel="nofollow noopener" target="_blank">'
        '<span class="invisible">https://</span><span class="ellipsis">arxiv.org/abs/25</span>'
        '<span class="invisible">04.18412</span></a></p>',
        ["2504.18412"],
    ),
    # The visible text says another id: only the href counts.
    (
        '<p><a href="https://arxiv.org/abs/1706.03762">arxiv.org/abs/2504.18412</a></p>',
        ["1706.03762"],
    ),
    # Entities are decoded in hrefs.
    (
        '<p><a href="https://arxiv-sanity-lite.com/?q=x&amp;pid=2504.18412">x</a></p>',
        ["2504.18412"],
    ),
    # Mentions and hashtags are not papers, even when they look like it.
    (post_html(mention("arxiv"), hashtag("arxiv"), "nothing else"), []),
    (
        '<p><a href="https://arxiv.org/abs/2504.18412" class="mention hashtag" rel="tag">#x</a></p>',
        [],
    ),
    # Text forms outside links.
    (post_html("Read arXiv:hep-th/9711200 today", hashtag("physics")), ["hep-th/9711200"]),
    ("<p>first line arXiv:<br>1706.03762</p>", []),
    ("<p>arXiv:1706.03762<br />arXiv:2504.18412</p>", ["1706.03762", "2504.18412"]),
    # Order follows first appearance, links and text mixed.
    (
        post_html(
            "arXiv:2504.18412", link("https://arxiv.org/abs/1706.03762"), "arXiv:hep-th/9711200"
        ),
        ["2504.18412", "1706.03762", "hep-th/9711200"],
    ),
    # GoToSocial and Akkoma: plain anchors without span wrapping.
    (
        '<p>look <a href="https://arxiv.org/abs/2504.18412" rel="nofollow noreferrer noopener">https://arxiv.org/abs/2504.18412</a></p>',
        ["2504.18412"],
    ),
    (
        'see <a class="hashtag" data-tag="ml" href="https://akkoma.example/tag/ml">#ml</a> '
        '<a href="https://huggingface.co/papers/2504.18412">hf</a>',
        ["2504.18412"],
    ),
    # Broken markup still works.
    ('<p><a href="https://arxiv.org/abs/2504.18412">unclosed <b>tags', ["2504.18412"]),
    ("<<<>>>arXiv:1706.03762<</p>", ["1706.03762"]),
]


@pytest.mark.parametrize(("content", "expected"), HTML)
def test_status_html(content: str, expected: list[str]) -> None:
    assert ids(papers_in_status(content, TODAY)) == expected


def test_the_card_counts_too_after_the_content() -> None:
    content = post_html("arXiv:1706.03762")
    refs = papers_in_status(content, TODAY, card_url="https://arxiv.org/abs/2504.18412")
    assert ids(refs) == ["1706.03762", "2504.18412"]
    assert ids(
        papers_in_status("<p>nothing</p>", TODAY, card_url="https://arxiv.org/abs/2504.18412")
    ) == ["2504.18412"]


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("0704.0001", "0704.0001"),
        ("1412.9999", "1412.9999"),
        ("1501.00001", "1501.00001"),
        ("2611.00001", "2611.00001"),
        ("2612.00001", None),
        ("0703.0001", None),
        ("9107.0001", None),
        ("hep-th/9107001", "hep-th/9107001"),
        ("hep-th/9106999", None),
        ("math/0703999", "math/0703999"),
        ("math/0704001", None),
        ("MATH.GT/0309136", "math/0309136"),
        ("math.gt/0309136v1", "math/0309136v1"),
        ("supr-con/9608001", "supr-con/9608001"),
        ("acc-phys/9502001", "acc-phys/9502001"),
        ("hep-th/9901000", None),
        ("1706.03762v123", "1706.03762v123"),
        ("1706.03762v1234", None),
    ],
)
def test_id_validity(candidate: str, expected: str | None) -> None:
    ref = normalise_id(candidate, TODAY)
    assert (None if ref is None else str(ref)) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500))
def test_never_raises_and_returns_only_valid_ids_on_any_text(text: str) -> None:
    for ref in papers_in_status(text, TODAY) + papers_in_text(text, TODAY, bare_ids=True):
        assert normalise_id(str(ref), TODAY) == ref


_fragments = st.sampled_from(
    [
        "<p>", "</p>", "<br>", "<a href='https://arxiv.org/abs/2504.18412'>", "</a>", "arXiv:",
        "1706.03762", "hep-th/9711200", "&amp;", "<span class='invisible'>", "</span>",
        "https://arxiv.org/pdf/", "v2", ".pdf", " ", "#", "@", "<a class='mention' href='https://arxiv.org/abs/1706.03762'>",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_fragments | st.text(max_size=5), max_size=40))
def test_never_raises_on_html_made_of_tricky_pieces(pieces: list[str]) -> None:
    refs = papers_in_status("".join(pieces), TODAY)
    assert len({r.arxiv_id for r in refs}) == len(refs), "de-duplicated"
    for ref in refs:
        assert normalise_id(str(ref), TODAY) == ref


@given(st.permutations(["1706.03762", "2504.18412", "hep-th/9711200"]))
def test_order_follows_first_appearance(order: list[str]) -> None:
    content = post_html(*(link(f"https://arxiv.org/abs/{i}") for i in order))
    assert ids(papers_in_status(content, TODAY)) == order


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (post_html(link("https://arxiv.org/abs/2504.18412")) * 10_000, ["2504.18412"]),
        ("<span>" * 5_000 + "arXiv:1706.03762" + "</span>" * 5_000, ["1706.03762"]),
        ("arXiv " * 20_000, []),
        ("a" * 99_900 + " arxiv:1706.03762", ["1706.03762"]),
        ("a" * 100_000 + " arxiv:1706.03762", []),  # past MAX_CONTENT_CHARS: not read
        ("<p>" + "arxiv.org/abs/" * 7_000 + "</p>", []),
    ],
    ids=[
        "link-x10000",
        "nested-5000",
        "arxiv-word-x20000",
        "100kB-text",
        "past-the-cap",
        "prefix-x7000",
    ],
)
def test_adversarial_inputs(content: str, expected: list[str]) -> None:
    # How fast these are is measured by bench/arxiv_ids.py, not asserted here.
    assert ids(papers_in_status(content, TODAY)) == expected


MORE_TEXTS = [
    # entities decoded in text and hrefs alike
    ("<p>arXiv&#58;1706.03762</p>", ["1706.03762"]),
    ("<p>https://arxiv-sanity-lite.com/?q=a&amp;pid=2504.18412</p>", ["2504.18412"]),
    # punctuation around a URL in text
    (
        "<p>(see arxiv.org/abs/2504.18412), or [https://arxiv.org/abs/1706.03762].</p>",
        ["2504.18412", "1706.03762"],
    ),
    # an e-mail address is not a host
    ("<p>mail me at someone@arxiv.org/abs/2504.18412</p>", []),
    # lookalike hosts in text
    ("<p>notarxiv.org/abs/2504.18412 and arxiv.org.evil.example/abs/1706.03762</p>", []),
    (
        "<p>ar5iv.labs.arxiv.org/html/1706.03762 export.arxiv.org/abs/2504.18412</p>",
        ["1706.03762", "2504.18412"],
    ),
    # the DOI read once, not also as "arxiv.ID"
    (
        "<p>https://doi.org/10.48550/arXiv.2504.18412 (10.48550/arXiv.2504.18412)</p>",
        ["2504.18412"],
    ),
    # a private-use character in the post does not confuse anchor places
    ('<p>\ue0000\ue001 <a href="https://arxiv.org/abs/1706.03762">x</a></p>', ["1706.03762"]),
]


@pytest.mark.parametrize(("content", "expected"), MORE_TEXTS)
def test_more_status_shapes(content: str, expected: list[str]) -> None:
    assert ids(papers_in_status(content, TODAY)) == expected


def test_only_the_first_candidates_are_examined() -> None:
    many = "".join(f"arXiv:2504.{n:05d} " for n in range(1, 300))
    found = papers_in_status(f"<p>{many}</p>", TODAY)
    assert 0 < len(found) <= MAX_CANDIDATES
    assert ids(found)[:2] == ["2504.00001", "2504.00002"]
