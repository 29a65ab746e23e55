"""LaTeX in titles and abstracts to readable Unicode (pure).

``pylatexenc`` does the conversion; this module steers it around its known traps and never
lets it lose text: a raw ``%`` is escaped (else it starts a comment), ``\\href`` (which makes it raise)
becomes its text, a macro glued to a Unicode letter gets a space so it cannot swallow the
letter, dollar signs that are money rather than math are escaped, citations are dropped, and
simple sub- and superscripts become Unicode ones (``10^{-3}`` → ``10⁻³``). Any exception, or
an output that lost most of the input, falls back to the raw text with whitespace tidied.
"""

from __future__ import annotations

import functools
import re

from pylatexenc.latex2text import LatexNodes2Text

_HREF = re.compile(r"\\href\s*\{[^{}]*\}\s*\{([^{}]*)\}")
_URL = re.compile(r"\\url\s*\{([^{}]*)\}")
_CITE = re.compile(r"\s*~?\\(?:cite[a-z]*|ref|eqref|label)\*?\s*(?:\[[^\]]*\]\s*)*\{[^{}]*\}")
_GLUED_MACRO = re.compile(r"(\\[A-Za-z]+)(?=[^\x00-\x7f])")
_MATH = re.compile(r"(?<!\\)\$([^$]*)(?<!\\)\$")
_SUPERSCRIPT = re.compile(r"\^(?:\{([-+−]?\d+)\}|(\d)(?![\d.]))")
_SUBSCRIPT = re.compile(r"_(?:\{(\d+)\}|(\d)(?![\d.]))")
_MARKUP = re.compile(r"\\[A-Za-z]+|[{}$\\^_~]")
_SUP = str.maketrans("0123456789+-−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_PERCENT = re.compile(r"(?<!\\)%")
_LATEX_HINT = re.compile(r"[\\$^_{}~]|--|``")


def latex_to_text(raw: str) -> str:
    """Readable Unicode for a title or an abstract; whitespace normalised; never raises."""
    text = " ".join(raw.split())
    if _LATEX_HINT.search(text) is None:
        return text
    prepared = _prepare(text)
    try:
        converted = " ".join(_converter().latex_to_text(prepared).split())
    except Exception:  # noqa: BLE001 -- pylatexenc raises many kinds on odd input; raw text is the answer
        return text
    words = len(_MARKUP.sub("", prepared).split())
    if len(converted.split()) < words // 2:
        return text  # it swallowed text (an unclosed group, say): better raw than lost
    return converted


@functools.cache
def _converter() -> LatexNodes2Text:
    return LatexNodes2Text(math_mode="text", keep_comments=True, strict_latex_spaces=False)


def _prepare(text: str) -> str:
    text = _HREF.sub(r"\1", text)
    text = _URL.sub(r"\1", text)
    text = _CITE.sub("", text)
    text = _GLUED_MACRO.sub(r"\1 ", text)
    text = _escape_money(text)
    text = _PERCENT.sub(r"\\%", text)  # in an abstract, % is a percentage, not a comment
    return _MATH.sub(lambda m: "$" + _scripts(m[1]) + "$", text)


def _scripts(math: str) -> str:
    math = _SUPERSCRIPT.sub(lambda m: (m[1] or m[2]).translate(_SUP), math)
    return _SUBSCRIPT.sub(lambda m: (m[1] or m[2]).translate(_SUB), math)


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
