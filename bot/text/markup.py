"""Markdown-style markup in titles and abstracts made plain words, then LaTeX made readable
(pure).

arXiv renders a little Markdown in abstracts, so authors write ``*replace*``, ``**not**``,
``_a priori_``, ```code``` and ``[text](https://…)``; in a post the marks would show. Only
what CommonMark would render is taken: an emphasis mark opens after a space, a bracket or
punctuation and before a letter, and closes after a letter and before a space or
punctuation, so ``a*b``, ``snake_case`` and ``x_i`` stay as they are; formulas (``$…$``,
``\\(…\\)``, ``\\[…\\]``) and escaped marks (``\\*``, ``\\_``) are never touched; the text of
an inline code span is kept as it was. A link keeps its text and its address, which the
reply then makes inert like every address from a paper.
"""

from __future__ import annotations

import re

from bot.text.latex import MATH_SPANS, latex_to_text

_CODE = re.compile(r"(?<![`\\])(`{1,2})(?!\s)([^`]+?)(?<!\s)\1(?!`)")
"""An inline code span; its text may not end a LaTeX quote (`` `word' ``, ````word''``)."""
_LINK = re.compile(r"(?<![!\\\]])\[([^\[\]]+)\]\(((?:https?://|www\.)[^\s()]+)\)")
_BEFORE = r"(?:(?<=^)|(?<=[\s(\[{\"'“‘/–—-]))"
_AFTER = r"(?=$|[\s)\]}\"'”’.,;:!?/–—-])"
_AFTER_UNDERSCORE = r"(?=$|[\s)\]}\"'”’,;:!?]|[./–—-](?![^\W_]))"
"""Not before ``.py`` or ``-like``: ``__init__.py`` is a file name, whatever CommonMark says."""
_EMPHASIS = tuple(
    re.compile(_BEFORE + mark + r"(?=\S)(.+?)(?<=[^\s\\])" + mark + after)
    for mark, after in (
        (r"\*\*\*", _AFTER),
        (r"\*\*", _AFTER),
        (r"__", _AFTER_UNDERSCORE),
        (r"\*", _AFTER),
        (r"_", _AFTER_UNDERSCORE),
    )
)
_PLACEHOLDER = 0xF000  # private use, as far from the LaTeX converter's placeholders as can be


def readable(raw: str) -> str:
    """A title or an abstract as the reply shows it: Markdown marks gone, LaTeX readable."""
    return latex_to_text(plain_markdown(raw))


def plain_markdown(text: str) -> str:
    """``text`` without Markdown emphasis, strong, code and link marks, formulas untouched."""
    if not any(mark in text for mark in "*_`["):
        return text
    kept: list[str] = []

    def aside(match: re.Match[str]) -> str:
        kept.append(match[0] if match.re is MATH_SPANS else match[2])
        return chr(_PLACEHOLDER + len(kept) - 1)

    text = text.translate({c: None for c in range(_PLACEHOLDER, _PLACEHOLDER + 0x800)})
    text = MATH_SPANS.sub(aside, text)
    text = _CODE.sub(aside, text)
    text = _LINK.sub(r"\1 (\2)", text)
    previous = None
    while previous != text:  # nested, outside in: **_both_**, _**both**_
        previous = text
        for pattern in _EMPHASIS:
            text = pattern.sub(r"\1", text)
    for i in reversed(range(len(kept))):  # a code span may hold a formula's placeholder
        text = text.replace(chr(_PLACEHOLDER + i), kept[i])
    return text
