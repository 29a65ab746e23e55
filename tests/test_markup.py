"""Markdown-style marks in titles and abstracts become plain words; TeX, identifiers and
mathematics keep their asterisks and underscores.

The cases are the forms arXiv abstracts use (arXiv renders a little Markdown, so authors
write it), each with the exact text the reply must show.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text.markup import plain_markdown, readable

RENDERED = [
    # emphasis and strong, as CommonMark renders them
    ("We investigate the use of LLMs to *replace* mental health providers.",
     "We investigate the use of LLMs to replace mental health providers."),
    ("Models **do not** generalise beyond the training range.",
     "Models do not generalise beyond the training range."),
    ("an _a priori_ bound on the error", "an a priori bound on the error"),
    ("a __strongly__ convex loss", "a strongly convex loss"),
    ("the ***only*** case", "the only case"),
    ("(*see* the appendix)", "(see the appendix)"),
    ("the *k*-means objective", "the k-means objective"),
    ("it is *fast*, *simple* and *exact*.", "it is fast, simple and exact."),
    ("**_Both_** marks", "Both marks"),
    ("_**Both**_ marks", "Both marks"),
    # inline code keeps its text exactly
    ("call `fit_transform()` once", "call fit_transform() once"),
    ("the ``--no-cache`` flag", "the --no-cache flag"),
    ("code `a*b*c` inside", "code a*b*c inside"),
    # links keep their text and their address (made inert later, like every address)
    ("Code is at [our repository](https://github.com/example/repo).",
     "Code is at our repository (https://github.com/example/repo)."),
    ("see [the demo](www.example.org/demo)", "see the demo (www.example.org/demo)"),
]  # fmt: skip

UNTOUCHED = [
    "the product a*b of two numbers and c*d",
    "x**2 + y**2 as Python writes it",
    "the A* search algorithm and B* trees",
    "*Equal contribution. Work done at a lab",
    "* a list item",
    "significant at p < 0.05* in two cases",
    "2 * 3 * 4 = 24",
    "the snake_case_name of a variable",
    "subscripts x_i and y_j in prose",
    "the $A^*$ operator and the $*$-product",
    "the $a_i$ and $b_i$ terms of $\\sum_{i} a_i b_i$",
    "escaped \\*marks\\* stay",
    "LaTeX ``quotes'' and `single' quotes",
    "an interval [0,1](x) is no link",
    "the file_name_here and __init__.py",
]


@pytest.mark.parametrize(("raw", "expected"), RENDERED)
def test_markdown_marks_become_plain_words(raw: str, expected: str) -> None:
    assert plain_markdown(raw) == expected


@pytest.mark.parametrize("raw", UNTOUCHED)
def test_mathematics_identifiers_and_tex_keep_their_marks(raw: str) -> None:
    assert plain_markdown(raw) == raw


def test_the_reply_shows_formulas_rendered_and_markdown_gone() -> None:
    raw = "We *prove* that $\\|x_i^*\\| \\le 1$ and `run_all` **always** halts."
    assert readable(raw) == "We prove that ‖xᵢ*‖ ≤ 1 and run_all always halts."


def test_a_title_with_no_marks_is_returned_as_it_was() -> None:
    title = "Attention Is All You Need"
    assert plain_markdown(title) is title


_PIECES = st.sampled_from(
    ["*", "**", "_", "__", "`", "``", "[", "](", ")", "$", "\\", " ", "x", "ab", "k-", ".py",
     "https://e.org/a", "(", "'", "a_i", "é"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=30).map("".join))
def test_only_marks_go_no_letter_or_digit_is_lost_or_moved(text: str) -> None:
    def letters(s: str) -> str:
        return re.sub(r"[\W_]", "", s)

    assert letters(plain_markdown(text)) == letters(text)
