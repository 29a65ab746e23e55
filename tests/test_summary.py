"""The extractive summary: the contribution sentence, standing on its own, within budget."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.models import Paper, PaperRef, ServerLimits
from bot.text.compose import compose_paper_post
from bot.text.sentence_model import (
    FEATURES,
    SentenceModel,
    load_model,
    sentence_features,
    shipped_model,
)
from bot.text.summary import (
    finding_sentence,
    key_sentence,
    sentences,
    standalone,
    summarise,
    truncate,
)
from bot.text.tldr import acceptable_tldr

# A real abstract (arXiv:2504.18412), the example of a reply that said what the paper
# studies and left out what it found.
THERAPIST_TITLE = (
    "Expressing stigma and inappropriate responses prevents LLMs from safely replacing "
    "mental health providers"
)
THERAPIST_SENTENCES = (
    "Should a large language model (LLM) be used as a therapist?",
    "In this paper, we investigate the use of LLMs to *replace* mental health providers, a use "
    "case promoted in the tech startup and research space.",
    "We conduct a mapping review of therapy guides used by major medical institutions to "
    "identify crucial aspects of therapeutic relationships, such as the importance of a "
    "therapeutic alliance between therapist and client.",
    "We then assess the ability of LLMs to reproduce and adhere to these aspects of therapeutic "
    "relationships by conducting several experiments investigating the responses of current "
    "LLMs, such as `gpt-4o`.",
    "Contrary to best practices in the medical community, LLMs 1) express stigma toward those "
    "with mental health conditions and 2) respond inappropriately to certain common (and "
    "critical) conditions in naturalistic therapy settings -- e.g., LLMs encourage clients' "
    "delusional thinking, likely due to their sycophancy.",
    "This occurs even with larger and newer LLMs, indicating that current safety practices may "
    "not address these gaps.",
    "Furthermore, we note foundational and practical barriers to the adoption of LLMs as "
    "therapists, such as that a therapeutic alliance requires human characteristics (e.g., "
    "identity and stakes).",
    "For these reasons, we conclude that LLMs should not replace therapists, and we discuss "
    "alternative roles for LLMs in clinical therapy.",
)
THERAPIST = " ".join(THERAPIST_SENTENCES)
THERAPIST_KEY = (
    "We investigate the use of LLMs to *replace* mental health providers, a use case promoted "
    "in the tech startup and research space."
)
THERAPIST_CONCLUSION = (
    "We conclude that LLMs should not replace therapists, and we discuss alternative roles for "
    "LLMs in clinical therapy."
)

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
    roomy = summarise(THERAPIST, 700, title=THERAPIST_TITLE)
    assert roomy.startswith(THERAPIST_KEY)
    assert THERAPIST_SENTENCES[3] in roomy  # what follows the key sentence, in order
    assert roomy.endswith(THERAPIST_CONCLUSION)
    assert 400 < len(roomy) <= 700


def test_the_finding_follows_the_key_sentence_when_it_fits_whole() -> None:
    # The example: on a 500-character server the reply leaves about 300 characters
    # for the summary; the conclusion fits after the key sentence.
    summary = summarise(THERAPIST, 300, title=THERAPIST_TITLE)
    assert summary == f"{THERAPIST_KEY} {THERAPIST_CONCLUSION}"
    # Too little room for it whole: the key sentence alone, never a cut conclusion.
    assert summarise(THERAPIST, len(THERAPIST_KEY) + 40, title=THERAPIST_TITLE) == THERAPIST_KEY


def test_a_finding_is_only_looked_for_after_the_key_sentence() -> None:
    found = sentences(THERAPIST)
    assert finding_sentence(found, 1) == len(found) - 1
    assert finding_sentence(found, len(found) - 1) is None
    assert finding_sentence(["We propose X.", "It is fast."], 0) is None
    assert finding_sentence(["We propose X.", "X is 3.5x faster on GPUs.", "Code is out."], 0) == 1
    assert finding_sentence(["We propose X.", "X cuts errors by 12 %.", "Code is out."], 0) == 1


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


def test_the_shipped_model_is_small_matches_the_features_and_is_read_once() -> None:
    model = shipped_model()
    assert len(model.weights) == len(FEATURES)
    assert shipped_model() is model
    assert all(len(f) == len(FEATURES) for f in sentence_features(sentences(THERAPIST)))


def test_a_model_trained_on_other_features_is_refused() -> None:
    with pytest.raises(ValueError, match="retrain"):
        load_model(json.dumps({"features": ["position"], "weights": [1.0], "runner_up_margin": 0}))


def test_the_choice_is_the_models() -> None:
    # A model that only likes the last sentence picks it: the shipped weights, not rules,
    # decide, and the same input always gives the same choice.
    last = SentenceModel(tuple(1.0 if f == "last" else 0.0 for f in FEATURES))
    assert key_sentence(ABSTRACT, model=last) == "Experiments on ImageNet show a 2x speed-up."
    assert key_sentence(ABSTRACT) == key_sentence(ABSTRACT)


def test_the_therapist_reply_on_a_500_character_server_ends_with_the_conclusion() -> None:
    when = datetime(2025, 4, 25, tzinfo=UTC)
    authors = ("Jared Moore", "Declan Grabb", "William Agnew", "Kevin Klyman", "Nick Haber")
    paper = Paper("2504.18412", 1, THERAPIST_TITLE, authors, THERAPIST, "cs.CL", when, when)
    post = compose_paper_post(paper, PaperRef("2504.18412"), ServerLimits(500), "@ada@example.org")
    plain_key = THERAPIST_KEY.replace("*replace*", "replace")  # arXiv's Markdown, as words
    assert post.summary == f"{plain_key} {THERAPIST_CONCLUSION}"
    assert post.text.endswith(post.summary)
    assert len(post.text) <= 500


FIRST = SentenceModel(tuple(1.0 if f == "first" else 0.0 for f in FEATURES))
"""A model that always takes the first sentence: the key sentence is known in these tests."""
LONG_AIM = (
    "We study whether large language models can take the place of trained clinicians in "
    "a wide range of settings, from intake interviews to long-term care, by mapping what "
    "the guidelines ask of a clinician."
)
MIDDLE = "We then run a series of experiments with several commercial and open models."
FINDING_WHOLE = "We conclude that they should not replace clinicians."


def test_where_only_one_sentence_fits_the_aim_is_cut_unless_a_whole_finding_is_asked_for() -> None:
    # The whole finding was measured and lowers ROUGE-1 on SciTLDR-A dev: it is not the default.
    abstract = f"{LONG_AIM} {MIDDLE} {FINDING_WHOLE}"
    budget = len(FINDING_WHOLE) + 20  # the finding fits whole; the aim would be cut
    assert summarise(abstract, budget, model=FIRST, prefer_whole_finding=True) == FINDING_WHOLE
    cut = summarise(abstract, budget, model=FIRST)
    assert cut.endswith("…")
    assert cut.startswith("We study whether")


def test_the_aim_is_cut_when_no_finding_fits_whole() -> None:
    abstract = f"{LONG_AIM} {MIDDLE} {FINDING_WHOLE}"
    budget = len(FINDING_WHOLE) - 5
    summary = summarise(abstract, budget, model=FIRST, prefer_whole_finding=True)
    assert summary.startswith("We study whether")
    assert summary.endswith("…")
    assert len(summary) <= budget


def test_the_aim_stays_when_it_fits_and_the_finding_follows() -> None:
    abstract = f"{MIDDLE} {LONG_AIM} {FINDING_WHOLE}"
    summary = summarise(abstract, len(MIDDLE) + len(FINDING_WHOLE) + 1, model=FIRST)
    assert summary == f"{MIDDLE} {FINDING_WHOLE}"


def test_a_sentence_cap_holds_on_a_roomy_budget_and_a_short_abstract_stays_whole() -> None:
    many = " ".join(f"We measure quantity number {i} across the whole sample." for i in range(8))
    capped = summarise(many, 5000, model=FIRST, max_sentences=3)
    assert len(sentences(capped)) == 3
    assert len(sentences(summarise(many, 5000, model=FIRST))) == 8, "no cap: all that fits"
    short = f"{MIDDLE} {FINDING_WHOLE}"
    assert summarise(short, 600, model=FIRST, max_sentences=3) == short
