"""The extractive summary: the contribution sentence, standing on its own, within budget."""

from __future__ import annotations

import pytest

from bot.summary import acceptable_tldr, key_sentence, sentences, standalone, summarise, truncate

ABSTRACT = (
    "Deep networks are widely used in vision. However, they are expensive to train. "
    "In this paper, we propose a cheap training method called Thrift that halves the cost. "
    "It works on any architecture. Experiments on ImageNet show a 2x speed-up."
)


def test_the_contribution_sentence_is_chosen_and_stands_alone() -> None:
    assert (
        key_sentence(ABSTRACT)
        == "We propose a cheap training method called Thrift that halves the cost."
    )


def test_a_dangling_sentence_is_not_chosen_alone() -> None:
    abstract = "Graphs are everywhere. This makes them hard to study. We show that graphs are hard."
    assert key_sentence(abstract) == "We show that graphs are hard."


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("In this work, we study X.", "We study X."),
        ("Here, we show Y.", "We show Y."),
        ("To this end, we build Z.", "We build Z."),
        ("We propose W.", "We propose W."),
    ],
)
def test_lead_ins_are_removed(sentence: str, expected: str) -> None:
    assert standalone(sentence) == expected


def test_the_summary_fits_the_budget() -> None:
    assert (
        summarise(ABSTRACT, 80)
        == "We propose a cheap training method called Thrift that halves the cost."
    )
    short = summarise(ABSTRACT, 40)
    assert len(short) <= 40
    assert short.endswith("…")
    assert summarise(ABSTRACT, 0) == ""


def test_a_roomy_budget_gives_more_and_a_whole_abstract_when_it_fits() -> None:
    assert summarise(ABSTRACT, 5000) == ABSTRACT
    long_abstract = ABSTRACT + " " + " ".join(f"Detail number {i} follows here." for i in range(40))
    roomy = summarise(long_abstract, 700)
    assert roomy.startswith("We propose a cheap training method")
    assert "It works on any architecture." in roomy
    assert len(roomy) <= 700
    assert len(roomy) > 400


def test_sentences_keep_abbreviations_initials_and_quotes() -> None:
    text = (
        'We use e.g. Adam (Kingma et al. 2014). J. Smith said "it works." Results in Fig. 2 agree.'
    )
    assert sentences(text) == [
        "We use e.g. Adam (Kingma et al. 2014).",
        'J. Smith said "it works."',
        "Results in Fig. 2 agree.",
    ]


def test_truncate_counts_with_the_given_length() -> None:
    assert truncate("one two three four", 12) == "one two…"
    assert truncate("short", 10) == "short"
    assert truncate("abc", 1) == ""


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("We propose Thrift, a training method that halves the cost of training.", "ok"),
        ("TL;DR: We propose Thrift, a training method that halves the cost.", "ok"),
        ('"We propose Thrift, a training method that halves the cost."', "ok"),
        (
            "We propose Thrift. It halves the cost of training deep networks.",
            "more_than_one_sentence",
        ),
        (
            "We propose Thrift; see https://thrift.example for code and more.",
            "mention_hashtag_or_link",
        ),
        (
            "We propose Thrift, thanks @alice, which halves training costs.",
            "mention_hashtag_or_link",
        ),
        (
            "We propose Thrift which halves training costs #MachineLearning",
            "mention_hashtag_or_link",
        ),
        ("We propose Thrift.\nIt is great and halves training costs.", "mention_hashtag_or_link"),
        ("Thrift.", "too_short"),
        ("We propose " + "very " * 60 + "cheap training.", "too_long"),
    ],
)
def test_machine_tldrs_are_checked(answer: str, expected: str) -> None:
    text, verdict = acceptable_tldr(answer, 220)
    assert verdict == expected
    assert (text is not None) == (expected == "ok")
    if text:
        assert not text.startswith(("TL;DR", '"'))
