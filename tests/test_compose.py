"""The reply text: counted as Mastodon counts, within the limit, inert paper text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compose import compose_paper_post, compose_thread, defuse, format_authors, mastodon_length
from bot.models import Paper, PaperRef, ServerLimits
from bot.summary import sentences, summarise, truncate
from tests.fakes.mastodon import mastodon_count

WHEN = datetime(2025, 4, 25, tzinfo=UTC)


def paper(title: str = "A Title", abstract: str = "One. Two.", authors: int = 2) -> Paper:
    return Paper(
        arxiv_id="2504.18412",
        version=2,
        title=title,
        authors=tuple(f"Person {i}" for i in range(1, authors + 1)),
        abstract=abstract,
        primary_category="cs.LG",
        published=WHEN,
        updated=WHEN,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("https://arxiv.org/abs/2504.18412v2", 23),
        ("see https://example.org/a/very/long/path/that/goes/on/and/on now", 4 + 23 + 4),
        ("http://a.io", 23),
        ("arxiv.org/abs/2504.18412", 24),
        ("@alice@science.example hi", 9),
        ("@alice hi", 9),
        ("mail me: alice@science.example", 30),
    ],
)
def test_length_as_mastodon_counts(text: str, expected: int) -> None:
    assert mastodon_length(text, ServerLimits()) == expected


def test_url_weight_follows_the_server() -> None:
    assert mastodon_length("https://x.org", ServerLimits(500, 40)) == 40


def test_defuse_stops_mentions_hashtags_and_links() -> None:
    text = defuse("contact @alice, see #physics or https://example.org and http://x.io")
    for active in ("@alice", "#physics", "https://", "http://"):
        assert active not in text
    assert (
        text.replace("\u200b", "")
        == "contact @alice, see #physics or https://example.org and http://x.io"
    )
    assert defuse("email a@b and C# code") == "email a@\u200bb and C# code"


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "Person 1"),
        (3, "Person 1, Person 2, Person 3"),
        (4, "Person 1, Person 2, Person 3 et al."),
        (30, "Person 1, Person 2, Person 3 et al."),
    ],
)
def test_authors(count: int, expected: str) -> None:
    assert format_authors([f"Person {i}" for i in range(1, count + 1)]) == expected


def test_post_layout() -> None:
    post = compose_paper_post(paper(), PaperRef("2504.18412", 2), ServerLimits(), "@bob")
    assert post.text == (
        "@bob 📄 A Title\nPerson 1, Person 2\nhttps://arxiv.org/abs/2504.18412v2\n\nOne. Two."
    )
    assert post.summary == "One. Two."


def test_no_version_links_the_latest() -> None:
    post = compose_paper_post(paper(), PaperRef("2504.18412"), ServerLimits())
    assert "https://arxiv.org/abs/2504.18412\n" in post.text


def test_summary_takes_whole_sentences_that_fit() -> None:
    abstract = "First sentence here. Second one is here too. Third is very long " + "x" * 600 + "."
    assert summarise(abstract, 60) == "First sentence here. Second one is here too."
    assert summarise(abstract, 25) == "First sentence here."
    assert (
        summarise("A single very long sentence with many words in it.", 20) == "A single very long…"
    )


def test_sentences_keep_abbreviations() -> None:
    assert sentences("We use e.g. Adam. Results in Fig. 2 show it. Done!") == [
        "We use e.g. Adam.",
        "Results in Fig. 2 show it.",
        "Done!",
    ]


def test_truncate_never_exceeds() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("one two three four", 12) == "one two…"
    assert truncate("abc", 1) == ""


def test_a_huge_title_is_shortened_not_the_link() -> None:
    post = compose_paper_post(paper(title="word " * 200), PaperRef("2504.18412"), ServerLimits(300))
    assert mastodon_length(post.text, ServerLimits(300)) <= 300
    assert "https://arxiv.org/abs/2504.18412" in post.text
    assert "…" in post.text.split("\n")[0]


def test_content_warning_counts_against_the_limit() -> None:
    long_abstract = " ".join(f"Sentence number {i} is here." for i in range(100))
    cw = "x" * 100
    [post] = compose_thread(
        [(PaperRef("2504.18412"), paper(abstract=long_abstract))], ServerLimits(500), None, cw
    )
    assert mastodon_length(post.text, ServerLimits()) + len(cw) <= 500
    assert mastodon_length(post.text, ServerLimits()) > 300, "the rest of the room is used"


_words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(
    title=st.lists(_words, min_size=1, max_size=60).map(" ".join),
    abstract=st.lists(_words, max_size=300).map(" ".join),
    authors=st.integers(min_value=0, max_value=40),
    limit=st.integers(min_value=300, max_value=5000),
    url_length=st.sampled_from([23, 40]),
    acct=st.from_regex(r"@[a-z_]{1,30}(@[a-z]{1,20}\.example)?", fullmatch=True),
)
def test_never_over_the_limit_and_the_link_is_intact(
    title: str, abstract: str, authors: int, limit: int, url_length: int, acct: str
) -> None:
    limits = ServerLimits(limit, url_length)
    post = compose_paper_post(
        paper(title, abstract, authors), PaperRef("2504.18412", 1), limits, acct
    )
    assert mastodon_length(post.text, limits) <= limit
    assert mastodon_count(post.text, url_length) <= limit, "the fake server's count agrees"
    assert "\nhttps://arxiv.org/abs/2504.18412v1" in post.text
    assert post.text.startswith(acct + " ")
