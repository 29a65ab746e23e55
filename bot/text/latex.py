"""LaTeX in titles and abstracts to readable Unicode (pure).

Formulas (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``) are rendered by
:mod:`bot.latex_math`, which keeps what they mean (colons, norms, operator spacing, moduli)
or, when unsure, leaves the formula's TeX as it was. ``pylatexenc`` converts the prose around
them; this module steers it around its known traps and never lets it lose text: a raw ``%``
is escaped (else it starts a comment), ``\\href`` (which makes it raise) becomes its text,
``\\texttt`` and its kin keep their argument, a macro glued to a Unicode letter gets a space
so it cannot swallow the letter, a backslash before a Unicode letter is dropped, dollar signs
that are money rather than math are escaped, citations are dropped. Any exception, or an
output that lost most of the input, falls back to the raw text with whitespace tidied.
"""

from __future__ import annotations

import functools
import re

from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from bot.text.latex_math import math_to_text

_HREF = re.compile(r"\\href\s*\{[^{}]*\}\s*\{([^{}]*)\}")
_URL = re.compile(r"\\url\s*\{([^{}]*)\}")
_CITE = re.compile(r"\s*~?\\(?:cite[a-z]*|ref|eqref|label)\*?\s*(?:\[[^\]]*\]\s*)*\{[^{}]*\}")
_GLUED_MACRO = re.compile(r"(\\[A-Za-z]+)(?=[^\x00-\x7f])")
MATH_SPANS = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL
)
_BACKSLASHED_UNICODE = re.compile(r"\\(?=[^\x00-\x7f])")
_PLACEHOLDER = 0xE000  # private use: pylatexenc passes these through untouched
_MARKUP = re.compile(r"\\[A-Za-z]+|[{}$\\^_~]")
_PERCENT = re.compile(r"(?<!\\)%")
_LATEX_HINT = re.compile(r"[\\$^_{}~]|--|``")


def latex_to_text(raw: str) -> str:
    """Readable Unicode for a title or an abstract; whitespace normalised; never raises."""
    text = " ".join(raw.split())
    if _LATEX_HINT.search(text) is None:
        return text
    prepared, formulas = _set_math_aside(_prepare(text))
    try:
        converted = " ".join(_converter().latex_to_text(prepared).split())
    except Exception:  # noqa: BLE001 -- pylatexenc raises many kinds on odd input; raw text is the answer
        return text
    words = len(_MARKUP.sub("", prepared).split())
    if len(converted.split()) < words // 2:
        return text  # it swallowed text (an unclosed group, say): better raw than lost
    for i, formula in enumerate(formulas):
        converted = converted.replace(chr(_PLACEHOLDER + i), formula)
    return " ".join(converted.split())


def _set_math_aside(text: str) -> tuple[str, list[str]]:
    """The text with each formula replaced by a placeholder, and the formulas as Unicode (or,
    when a formula holds something unknown, as the TeX it was: better TeX than a lost symbol)."""
    formulas: list[str] = []

    def aside(match: re.Match[str]) -> str:
        tex = next(group for group in match.groups() if group is not None)
        rendered = math_to_text(tex)
        formulas.append(" ".join(match[0].split()) if rendered is None else rendered)
        return chr(_PLACEHOLDER + len(formulas) - 1)

    text = text.translate({c: None for c in range(_PLACEHOLDER, _PLACEHOLDER + 0x1900)})
    return MATH_SPANS.sub(aside, text), formulas


_KEPT_TEXT_MACROS = ("texttt", "textsf", "textup", "textmd", "mbox")
"""Text-style macros whose argument pylatexenc drops by default: code names and units vanished."""


@functools.cache
def _converter() -> LatexNodes2Text:
    context = get_default_latex_context_db()
    context.add_context_category(
        "arxiv-bot",
        prepend=True,
        macros=[MacroTextSpec(n, discard=False) for n in _KEPT_TEXT_MACROS],
    )
    return LatexNodes2Text(
        latex_context=context, math_mode="text", keep_comments=True, strict_latex_spaces=False
    )


def _prepare(text: str) -> str:
    text = _HREF.sub(r"\1", text)
    text = _URL.sub(r"\1", text)
    text = _CITE.sub("", text)
    text = _GLUED_MACRO.sub(r"\1 ", text)
    text = _escape_money(text)
    text = _BACKSLASHED_UNICODE.sub("", text)  # "\\θ" is θ, not a macro that eats what follows
    return _PERCENT.sub(r"\\%", text)  # in an abstract, % is a percentage, not a comment


def _escape_money(text: str) -> str:
    """Escape ``$`` signs that cannot open and close math: an odd count, or prices."""
    dollars = [m.start() for m in re.finditer(r"(?<!\\)\$", text)]
    if not dollars:
        return text
    money: set[int] = set()
    if len(dollars) % 2:
        money.update(dollars)
    else:
        for opening, closing in zip(dollars[::2], dollars[1::2], strict=True):
            # "$35,000 and then $5": a digit after the opener and a space before the closer
            if text[opening + 1 : opening + 2].isdigit() and text[closing - 1 : closing].isspace():
                money.update((opening, closing))
    if not money:
        return text
    return "".join("\\$" if i in money else ch for i, ch in enumerate(text))
