"""LaTeX to readable Unicode: pylatexenc's traps avoided, nothing lost, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.latex import latex_to_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (r"Landauer-B\"uttiker probes", "Landauer-Büttiker probes"),
        (r"an $O(n \log n)$ method", "an O(n log n) method"),
        (r"{\"o} and $\tilde{O}(\varepsilon^{-2})$", "ö and Õ(ε⁻²)"),
        ("reach 95% of the current at $O(n)$ cost", "reach 95% of the current at O(n) cost"),
        (r"costs $35,000 and then $5 more", "costs $35,000 and then $5 more"),
        (r"an unbalanced $x here", "an unbalanced $x here"),
        (r"see \href{http://x.org}{the code} now", "see the code now"),
        (r"$\mathbfθ$ estimates", "θ estimates"),
        (r"as shown \cite{foo} and \emph{bar}", "as shown and bar"),
        (r"$\{1, \dots, n\}$", "{1, …, n}"),
        ("--- and -- and ``quotes''", "— and – and “quotes”"),
        (r"$\omega$Test: testing", "ωTest: testing"),
        (r"H$_2$O and 10$^{-3}$ and $x^2$", "H₂O and 10⁻³ and x²"),
        (r"50\% off", "50% off"),
        (r"$\alpha$-helix", "α-helix"),
        ("a title\n  wrapped  by the legacy\tformat", "a title wrapped by the legacy format"),
        ("0", "0"),
        ("plain text stays exactly as it is.", "plain text stays exactly as it is."),
        (
            "{an unclosed group with words that must survive",
            "an unclosed group with words that must survive",
        ),
        (r"\url{https://github.com/x/y} has it", "https://github.com/x/y has it"),
        ("", ""),
    ],
)
def test_table(raw: str, expected: str) -> None:
    assert latex_to_text(raw) == expected


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"ab $%\\{}^_~#&@-'`\"θ1\n", "\\frac", "\\href", "\\cite", "\\emph{"]),
        max_size=60,
    ).map("".join)
)
def test_never_raises_and_stays_on_one_line(raw: str) -> None:
    assert "\n" not in latex_to_text(raw)


@pytest.mark.xfail(
    strict=True,
    reason="pylatexenc reads a backslash before a non-ASCII letter as a macro and drops the "
    "word after it; found while making the property above honest, left for the LaTeX issue",
)
def test_a_backslash_before_a_greek_letter_keeps_the_word_after_it() -> None:
    assert "a" in latex_to_text("\\θa")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[A-Za-z]{1,10}", fullmatch=True), min_size=1, max_size=30))
def test_plain_prose_is_untouched(words: list[str]) -> None:
    text = " ".join(words)
    assert latex_to_text(text) == text
