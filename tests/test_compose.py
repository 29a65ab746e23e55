"""The reply text: golden replies from real-format feeds, Mastodon's counting, properties."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.clients.arxiv_api import ArxivGateway
from bot.models import Paper, PaperRef, ServerLimits
from bot.text.compose import (
    MACHINE_LABEL,
    abstract_posts,
    compose_paper_post,
    compose_thread,
    defuse,
    format_authors,
)
from bot.text.counting import grapheme_length, mastodon_length
from bot.text.markup import readable
from bot.text.summary import sentences
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.mastodon import mastodon_count

WHEN = datetime(2025, 4, 25, tzinfo=UTC)
STOCK = ServerLimits(500, 23)


@pytest.fixture(scope="module", params=[False, True], ids=["2026-format", "legacy-format"])
def papers(request: pytest.FixtureRequest) -> Iterator[dict[str, Paper]]:
    """The fixture papers as the real arxiv client parses them from either serialisation."""
    server = FakeArxiv(legacy=request.param)
    client = ArxivGateway(server.api_url, delay_seconds=0)
    try:
        yield client.fetch(
            ["1706.03762", "hep-th/9711200", "2504.18412", "2101.00042", "1903.01234", "2104.12255"]
        )
    finally:
        client.close()
        server.close()


GOLDEN = {
    ("2504.18412", None): (
        "@alice@science.example 📄 Inelastic effects in Landauer-Büttiker probes: a O(n log n) method\n"
        "Ada Example, Grace Sample\n"
        "cond-mat.mes-hall · 2025-04-25\n"
        "https://arxiv.org/abs/2504.18412\n\n"
        "We extend the Landauer-Büttiker probe formalism to the high bias regime and reach 95% of "
        "the coherent current at O(n log n) cost. Contact @\u200balice or see #\u200bphysics and "
        "http\u200b://example.org/probes for the code. The method is exact in the linear response limit."
    ),
    ("hep-th/9711200", 2): (
        "@alice@science.example 📄 The Large N Limit of Superconformal Field Theories and Supergravity\n"
        "Juan M. Maldacena\n"
        "hep-th · 1997-11-27 · v2 (latest v3)\n"
        "https://arxiv.org/abs/hep-th/9711200v2\n\n"
        "We show that the large N limit of certain conformal field theories in various dimensions "
        "include in their Hilbert space a sector describing supergravity on the product of "
        "Anti-deSitter spacetimes, spheres and other compact manifolds."
    ),
    ("2101.00042", None): (
        "@alice@science.example 📄 A Census of Everything\n"
        "Author Number1, Author Number2, Author Number3 et al.\n"
        "astro-ph.GA · 2021-01-01\n"
        "https://arxiv.org/abs/2101.00042\n\n"
        "We count everything. The count is large. We release the counts."
    ),
    ("1903.01234", None): (
        "@alice@science.example 📄 A Proof of Something Too Good to Be True\n"
        "Pat Hopeful\n"
        "math.NT · 2019-03-04 · withdrawn\n"
        "https://arxiv.org/abs/1903.01234\n\n"
        "This paper has been withdrawn by the author due to a crucial error in Lemma 3."
    ),
    ("2104.12255", 1): (
        "@alice@science.example 📄 0\n"
        "Zero Author, Nil Coauthor\n"
        "math.HO · 2021-04-25 · v1\n"
        "https://arxiv.org/abs/2104.12255v1\n\n"
        "We study the number zero. It costs $35,000 to print, and $5 to read. We show that zero is even."
    ),
}


@pytest.mark.parametrize(("arxiv_id", "version"), list(GOLDEN), ids=[i for i, _ in GOLDEN])
def test_golden_replies(papers: dict[str, Paper], arxiv_id: str, version: int | None) -> None:
    post = compose_paper_post(
        papers[arxiv_id], PaperRef(arxiv_id, version), STOCK, "@alice@science.example"
    )
    assert post.text == GOLDEN[(arxiv_id, version)]
    assert mastodon_length(post.text, STOCK) <= 500


def test_a_tight_server_keeps_the_link_and_ends_on_a_clause(papers: dict[str, Paper]) -> None:
    [post] = compose_thread(
        [(PaperRef("2504.18412"), papers["2504.18412"])],
        ServerLimits(300, 23),
        "@a_very_long_username_here@some.example",
        spoiler_text="physics",
    )
    assert mastodon_length(post.text, STOCK) + len("physics") <= 300
    assert "\nhttps://arxiv.org/abs/2504.18412\n" in post.text
    assert post.summary.endswith("high bias regime…")


def test_abstract_mode_continues_with_the_whole_abstract(papers: dict[str, Paper]) -> None:
    paper = papers["1706.03762"]
    posts = compose_thread(
        [(PaperRef("1706.03762"), paper)], ServerLimits(300, 23), "@bob", mode="abstract"
    )
    assert posts[0].text.startswith("@bob 📄 Attention Is All You Need\n")
    numbered = [p.text for p in posts[1:]]
    assert [t.split(" ", 1)[0] for t in numbered] == ["(1/4)", "(2/4)", "(3/4)", "(4/4)"]
    assert " ".join(t.split(" ", 1)[1] for t in numbered) == paper.abstract
    assert all(mastodon_length(t, STOCK) <= 300 for t in numbered)
    assert all("@bob" not in t for t in numbered)


def test_a_roomy_server_gets_a_readers_size_of_summary_not_the_whole_abstract(
    papers: dict[str, Paper],
) -> None:
    paper = papers["1706.03762"]
    stock = compose_paper_post(paper, PaperRef("1706.03762"), STOCK)
    roomy = compose_paper_post(paper, PaperRef("1706.03762"), ServerLimits(5000, 23))
    assert len(roomy.summary) > len(stock.summary)
    assert len(roomy.summary) <= 600
    assert 2 <= len(sentences(roomy.summary)) <= 3
    assert roomy.summary != paper.abstract
    assert all(s in sentences(paper.abstract) for s in sentences(roomy.summary))


def test_with_no_cap_a_roomy_server_gets_the_whole_abstract(papers: dict[str, Paper]) -> None:
    paper = papers["1706.03762"]
    roomy = compose_paper_post(paper, PaperRef("1706.03762"), ServerLimits(5000, 23), summary_max=0)
    assert roomy.summary == paper.abstract
    [in_a_thread] = compose_thread(
        [(PaperRef("1706.03762"), paper)], ServerLimits(5000, 23), summary_max=0
    )
    assert in_a_thread.summary == paper.abstract


def test_the_cap_bounds_the_summary_on_any_server(papers: dict[str, Paper]) -> None:
    paper = papers["1706.03762"]
    for cap in (100, 250, 400, 600, 1000):
        summary = compose_paper_post(
            paper, PaperRef("1706.03762"), ServerLimits(5000, 23), summary_max=cap
        ).summary
        assert 0 < len(summary) <= cap
        assert len(sentences(summary)) <= 3


def test_a_machine_written_tldr_is_labelled(papers: dict[str, Paper]) -> None:
    tldr = "The Transformer replaces recurrence with attention and trains faster."
    [post] = compose_thread(
        [(PaperRef("1706.03762"), papers["1706.03762"])], STOCK, tldrs={"1706.03762": tldr}
    )
    assert post.machine_written
    assert post.text.endswith("\n\n" + MACHINE_LABEL + tldr)
    [tight] = compose_thread(
        [(PaperRef("1706.03762"), papers["1706.03762"])],
        ServerLimits(150, 23),
        tldrs={"1706.03762": tldr},
    )
    assert not tight.machine_written, (
        "a TL;DR that does not fit gives way to the extractive summary"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("https://arxiv.org/abs/2504.18412v2", 23),
        ("see https://example.org/a/very/long/path/that/goes/on now", 4 + 23 + 4),
        ("http://a.io", 23),
        ("arxiv.org/abs/2504.18412", 24),
        ("@alice@science.example hi", 9),
        ("👩‍🔬 a scientist", 13),
        ("🇪🇺 flag", 6),
        ("e\u0301te\u0301", 3),
        ("Büttiker", 8),
        ("\r\n", 1),
    ],
)
def test_length_as_mastodon_counts(text: str, expected: int) -> None:
    assert mastodon_length(text, STOCK) == expected


def test_url_weight_follows_the_server() -> None:
    assert mastodon_length("https://x.org", ServerLimits(500, 40)) == 40


def test_defuse_stops_mentions_hashtags_and_links() -> None:
    text = defuse("contact @alice, see #physics or https://example.org and www.example.org")
    for active in ("@alice", "#physics", "https://", "www."):
        assert active not in text
    assert (
        text.replace("\u200b", "")
        == "contact @alice, see #physics or https://example.org and www.example.org"
    )
    assert defuse("email a@b and C# code") == "email a@\u200bb and C# code"


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "Person 1"),
        (4, "Person 1, Person 2, Person 3, Person 4"),
        (5, "Person 1, Person 2, Person 3 et al."),
        (30, "Person 1, Person 2, Person 3 et al."),
    ],
)
def test_authors(count: int, expected: str) -> None:
    assert format_authors([f"Person {i}" for i in range(1, count + 1)]) == expected


def paper(title: str, abstract: str, authors: int, version: int = 3) -> Paper:
    return Paper(
        arxiv_id="2504.18412",
        version=version,
        title=title,
        authors=tuple(f"Person Number{i}" for i in range(1, authors + 1)),
        abstract=abstract,
        primary_category="cs.LG",
        published=WHEN,
        updated=WHEN,
    )


_word = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=14,
)
_prose = st.lists(
    st.tuples(_word, st.sampled_from(["", "", "", ".", ",", "!", "?"])).map("".join), max_size=250
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(
    title=st.lists(_word, min_size=1, max_size=50).map(" ".join),
    abstract=_prose,
    authors=st.integers(min_value=0, max_value=40),
    limit=st.integers(min_value=300, max_value=5000),
    url_length=st.sampled_from([23, 40]),
    acct=st.from_regex(r"@[a-z_]{1,30}(@[a-z]{1,20}\.example)?", fullmatch=True),
    spoiler=st.text(max_size=40),
    mode=st.sampled_from(["summary", "abstract"]),
)
def test_no_post_exceeds_the_limit_the_link_is_intact_no_text_is_lost(
    title: str,
    abstract: str,
    authors: int,
    limit: int,
    url_length: int,
    acct: str,
    spoiler: str,
    mode: str,
) -> None:
    limits = ServerLimits(limit, url_length)
    item = paper(title, abstract, authors)
    posts = compose_thread([(PaperRef("2504.18412", 1), item)], limits, acct, spoiler, mode)  # type: ignore[arg-type]
    room = limit - grapheme_length(spoiler)
    for post in posts:
        assert mastodon_length(post.text, limits) <= room
        assert mastodon_count(post.text, url_length) <= room, "the fake server agrees"
    assert "\nhttps://arxiv.org/abs/2504.18412v1" in posts[0].text
    assert posts[0].text.startswith(acct + " ")
    if mode == "abstract":
        numbered = [p.text.split(" ", 1)[1] for p in posts[1:]]
        expected = " ".join(defuse(readable(abstract)).split())
        assert " ".join(numbered) == expected
        assert all(len(t.split()) > 1 or len(numbered) == 1 for t in numbered[-1:]), (
            "no one-word tail"
        )


def test_a_sentence_longer_than_a_post_is_split_evenly() -> None:
    sentence = " ".join(["word"] * 200) + "."
    posts = abstract_posts(paper("T", sentence, 1), ServerLimits(300, 23))
    sizes = [len(p.text) for p in posts]
    assert len(posts) == 4
    assert max(sizes) - min(sizes) < 20, sizes


# Pieces a reply is made of, and the edges Mastodon's URL and mention rules turn on.
_PIECES = st.sampled_from(
    [
        "https://arxiv.org/abs/2504.18412v2", "https://arxiv.org/abs/hep-th/9711200",
        "https://fake.example/@arxivbot/113000000000001", "https://mastodon.social/@a/1",
        "http://a.io", "https://x.org/a(b)c", "https://x.org/a_(b)", "https://x.org/?q=1&r=2",
        "https://sub.domain.example.org/path/", "https://127.0.0.1:8080/x", "https://localhost/a",
        "https://arxiv.orgx/abs", "https://ex.ample.zz/abc", "https://bücher.de/x", "xhttps://x.org/y",
        "@alice@science.example", "@bob", "@bjørn@far.example", "@under_score@a.b.org", "a@b.org",
        "/@path", "=@eq@x.org", ".", ",", ")", "(", "!", "?", "'", '"', ":", ";", "…", " ", "\n",
        "#tag", "$", "word", "Zoë", "👩‍🔬", "🇪🇺", "e\u0301", "「", "」", "\u200b", "\u00a0",
    ]
)  # fmt: skip


_CHARS = st.text(alphabet=st.sampled_from(list("ab.:/?()@#$!'\"-_ =xyz\u0301é\n🇪🇺")), max_size=8)


@given(
    st.lists(st.one_of(_PIECES, _CHARS), max_size=14).map("".join),
    st.sampled_from([0, 23, 25, 40]),
)
@settings(max_examples=500, deadline=None)
def test_the_bot_never_counts_less_than_mastodon(text: str, url_length: int) -> None:
    """The fake counts as Mastodon's source does; the bot may only ever count more."""
    limits = ServerLimits(500, url_length)
    assert mastodon_length(text, limits) >= mastodon_count(text, url_length)


@pytest.mark.parametrize(
    ("text", "mastodon"),
    [
        ("https://arxiv.org/abs/1706.03762.", 23 + 1),  # the full stop is not the URL's
        ("(https://arxiv.org/abs/1706.03762)", 1 + 23 + 1),
        ("https://x.org/a_(b)", 23),  # balanced parentheses end a URL
        ("xhttps://x.org/y", 16),  # after a letter: no URL
        ("https://fake.example/@arxivbot/1", 32),  # no such top-level domain: in full
        ("@bjørn@far.example", 18),  # a username is ASCII: no discount
        ("@under_score@a.b.org", 12),
    ],
)
def test_the_fake_counts_as_mastodons_source_says(text: str, mastodon: int) -> None:
    assert mastodon_count(text) == mastodon


def test_a_url_after_a_no_break_space_inside_an_earlier_query_is_counted_in_full() -> None:
    # Found by the property above: twitter-text's query characters take in U+00A0, so the
    # protocol-less "x.org/y?…" runs on over the arXiv URL, which is then not extracted.
    text = "xhttps://x.org/y?\u00a0https://arxiv.org/abs/2504.18412v2"
    assert mastodon_count(text, 0) == len(text)
    assert mastodon_length(text, ServerLimits(500, 0)) >= len(text)
    spaced = "xhttps://x.org/y? https://arxiv.org/abs/2504.18412v2"
    assert mastodon_length(spaced, ServerLimits(500, 0)) == mastodon_count(spaced, 0) == 18


def test_markdown_in_a_title_and_an_abstract_shows_as_words_and_a_link_stays_inert() -> None:
    when = datetime(2025, 1, 1, tzinfo=UTC)
    paper = Paper(
        "2501.00001",
        1,
        "When *not* to use $A^*$: a **study**",
        ("A. Author",),
        "We show that `a_star` **fails** on _sparse_ graphs. Code: [repo](https://example.org/r).",
        "cs.AI",
        when,
        when,
    )
    post = compose_paper_post(paper, PaperRef("2501.00001"), ServerLimits(1000, 23))
    first_line = post.text.splitlines()[0]
    assert first_line == "📄 When not to use A*: a study"
    assert post.summary == (
        "We show that a_star fails on sparse graphs. Code: repo (http\u200bs://example.org/r)."
    )
