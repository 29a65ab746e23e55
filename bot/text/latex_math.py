"""TeX math (what sits between ``$…$``) to readable Unicode, or ``None`` when unsure (pure).

Written for the math of arXiv abstracts, where meaning hides in small marks: a colon
(``f\\colon A\\to B``), a norm (``\\|x\\|``), the space around an operator name
(``n\\log n``), a modulus (``\\pmod{n}``). The source is read as TeX reads it (a space after a
control word is not text) and rendered with the spacing a reader expects: relations and
arrows between spaces, operator names apart from their arguments, a space after a comma in a
list. Sub- and superscripts become Unicode where every character has a Unicode form
(``x^2`` → x², ``\\ell_p`` → ℓₚ), else ``_``/``^`` with brackets when more than one token
(``e^{-\\lambda t}`` → e^(-λt)). Any macro not known here makes the whole formula
``None``, so the caller keeps the original TeX rather than silently dropping a symbol.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.text import latex_symbols as symbols

_TOKEN = re.compile(r"\\([A-Za-z]+)\s*|\\(.)|(\s+)|(.)", re.DOTALL)
_ATOM = re.compile(
    r"\d+(?:\.\d+)?|[^\s(){}\[\]/+\-=,][\u0300-\u036f\u20d0-\u20ff]*[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿⁱ₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵀ′*]*"
)
"""What needs no brackets under a root or in a fraction: a number, or one symbol with its scripts."""
_WORD = re.compile(r"\w+")


class Unsure(Exception):
    """The formula holds something this module does not know how to say."""


@dataclass(frozen=True, slots=True)
class _Piece:
    kind: str  # "ord", "text", "op", "rel", "bin", "punct", "space", "open", "close"
    text: str


def math_to_text(tex: str) -> str | None:
    """The formula as Unicode text, or None when part of it cannot be rendered for sure."""
    try:
        tokens = _tokens(tex)
        pieces = _Reader(tokens).pieces()
    except Unsure:
        return None
    return unicodedata.normalize("NFC", _join(pieces, compact=False)).strip()


def _tokens(tex: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for word, symbol, space, char in _TOKEN.findall(tex):
        if word:
            out.append(("cs", word))
        elif symbol:
            out.append(("cs", symbol) if symbol.isascii() else ("char", symbol))
        elif space:
            out.append(("space", " "))
        else:
            out.append(("char", char))
    return out


class _Reader:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0

    def pieces(self, until: str | None = None, keep_spaces: bool = False) -> list[_Piece]:
        out: list[_Piece] = []
        while self.at < len(self.tokens):
            kind, value = self.tokens[self.at]
            if kind == "char" and value == until:
                self.at += 1
                return out
            self.at += 1
            if kind == "space":
                if keep_spaces:
                    out.append(_Piece("space", " "))
            elif kind == "char" and value in "^_":
                if not out:
                    out.append(_Piece("ord", ""))
                argument = self.argument()
                words = len(argument) == 1 and argument[0].kind == "text"
                script = _join(argument, compact=True)
                out[-1] = _Piece(out[-1].kind, out[-1].text + _script(script, value, words))
            elif kind == "char":
                out.extend(self.char(value))
            else:
                out.extend(self.macro(value))
        if until is not None:
            raise Unsure("an unclosed group")
        return out

    def argument(self) -> list[_Piece]:
        """The next argument: a braced group, or one token."""
        while self.at < len(self.tokens) and self.tokens[self.at][0] == "space":
            self.at += 1
        if self.at >= len(self.tokens):
            raise Unsure("a missing argument")
        kind, value = self.tokens[self.at]
        self.at += 1
        if kind == "char" and value == "{":
            return self.pieces(until="}")
        if kind == "char":
            return self.char(value)
        return self.macro(value)

    def optional(self) -> list[_Piece] | None:
        if self.at < len(self.tokens) and self.tokens[self.at] == ("char", "["):
            self.at += 1
            return self.pieces(until="]")
        return None

    def raw_argument(self) -> str:
        """The next braced argument's source text (for ``\\text{…}``, where spaces count)."""
        while self.at < len(self.tokens) and self.tokens[self.at][0] == "space":
            self.at += 1
        if self.at >= len(self.tokens):
            raise Unsure("a missing argument")
        if self.tokens[self.at] != ("char", "{"):
            return _join(self.argument(), compact=True)
        self.at += 1
        return _join(self.pieces(until="}", keep_spaces=True), compact=True, keep_spaces=True)

    def char(self, value: str) -> list[_Piece]:
        if value in "=<>":
            return [_Piece("rel", value)]
        if value in ",;:":
            return [_Piece("punct", value)]
        if value in "([":
            return [_Piece("open", value)]
        if value in ")]":
            return [_Piece("close", value)]
        if value == "'":
            return [_Piece("ord", "′")]
        if value == "~":
            return [_Piece("space", " ")]
        if value == "{":
            return self.pieces(until="}")
        if value in "}&\\%#":
            raise Unsure(f"a stray {value!r}")
        return [_Piece("ord", value)]

    def macro(self, name: str) -> list[_Piece]:
        if name in symbols.GREEK:
            return [_Piece("ord", symbols.GREEK[name])]
        if name == "colon":
            return [_Piece("punct", ":")]
        if name in symbols.BINARY:
            return [_Piece("bin", symbols.BINARY[name])]
        if name in symbols.SYMBOLS:
            text = symbols.SYMBOLS[name]
            return [
                _Piece("open" if text in "⟨⌈⌊{" else "close" if text in "⟩⌉⌋}" else "ord", text)
            ]
        if name in symbols.RELATIONS:
            return [_Piece("rel", symbols.RELATIONS[name])]

        if name == "not":
            following = self.argument()
            if len(following) != 1:
                raise Unsure("\\not before more than one symbol")
            text = unicodedata.normalize("NFC", following[0].text + "\u0338")
            return [_Piece("rel", text)]
        if name in symbols.SPACES:
            return [_Piece("space", " ")] if symbols.SPACES[name] else []
        if name in symbols.SIZING:
            if self.at < len(self.tokens) and self.tokens[self.at] == ("char", "."):
                self.at += 1  # \left. is an invisible delimiter
            return []
        if name in symbols.OPERATORS:
            return [_Piece("op", name)]
        if name in symbols.BIG_OPERATORS:
            return [_Piece("op", symbols.BIG_OPERATORS[name])]
        if name == "operatorname":
            if self.at < len(self.tokens) and self.tokens[self.at] == ("char", "*"):
                self.at += 1
            return [_Piece("op", self.raw_argument().replace(" ", ""))]
        if name in symbols.TEXT:
            return [_Piece("text", self.raw_argument())]
        if name in symbols.FONTS:
            return [_Piece(p.kind, _font(name, p.text)) for p in self.argument()]
        if name in symbols.ACCENTS:
            inner = _join(self.argument(), compact=True)
            if not inner:
                raise Unsure("an accent over nothing")
            return [_Piece("ord", "".join(c + symbols.ACCENTS[name] for c in inner))]
        if name in ("frac", "tfrac", "dfrac", "cfrac"):
            top = _join(self.argument(), compact=True)
            bottom = _join(self.argument(), compact=True)
            return [_Piece("ord", f"{_bracketed(top)}/{_bracketed(bottom)}")]
        if name == "sqrt":
            degree = self.optional()
            body = _join(self.argument(), compact=True)
            root = {"": "√", "3": "∛", "4": "∜"}.get(_join(degree or [], compact=True))
            if root is None:
                raise Unsure("a root of a degree without a sign")
            return [_Piece("ord", root + _bracketed(body))]
        if name in ("pmod", "pod"):
            inner = _join(self.argument(), compact=False)
            word = "mod " if name == "pmod" else ""
            return [_Piece("space", " "), _Piece("ord", f"({word}{inner})")]
        if name == "bmod":
            return [_Piece("rel", "mod")]
        if name in ("binom", "tbinom", "dbinom"):
            top = _join(self.argument(), compact=True)
            bottom = _join(self.argument(), compact=True)
            return [_Piece("ord", f"({top} choose {bottom})")]
        raise Unsure(f"\\{name}")


def _font(name: str, text: str) -> str:
    return "".join(_styled(name, c) for c in text)


def _styled(font: str, c: str) -> str:
    """``c`` in a math alphabet; Greek and marks stay as they are, as TeX shows them."""
    style = symbols.ALPHABETS[
        "mathbf" if font in ("boldsymbol", "bm") else "mathcal" if font == "mathscr" else font
    ]
    if c in style.elsewhere:
        return style.elsewhere[c]
    for first, start in (("A", style.capital), ("a", style.small), ("0", style.digit)):
        span = 10 if first == "0" else 26
        if start and 0 <= ord(c) - ord(first) < span:
            return chr(start + ord(c) - ord(first))
    if c.isascii() and c.isalnum():
        raise Unsure(f"no {font} form of {c}")
    return c


def _bracketed(text: str, atom: re.Pattern[str] = _ATOM) -> str:
    """``text`` alone if it reads as one token, else in brackets (``n+1`` → ``(n+1)``)."""
    if atom.fullmatch(text) or (
        text.startswith("(") and text.endswith(")") and text.count("(") == 1
    ):
        return text
    return f"({text})"


def _script(text: str, mark: str, words: bool) -> str:
    if not text:
        return ""
    if text in symbols.SCRIPT_AS_IS:
        return symbols.SCRIPT_AS_IS[text]
    table = symbols.SUPERSCRIPTS if mark == "^" else symbols.SUBSCRIPTS
    letters = sum(c.isalpha() for c in text)
    if all(c in table for c in text) and letters <= 2:  # "xᵢⱼ" reads; "xₜᵣₐᵢₙ" does not
        return "".join(table[c] for c in text)
    return mark + _bracketed(text, _WORD if words else _ATOM)


def _thousands(rest: list[_Piece]) -> bool:
    """Whether a comma is a thousands separator: exactly three digits follow it."""
    text = "".join(p.text for p in rest[:4])
    return re.match(r"\d{3}(?!\d)", text) is not None


def _join(pieces: list[_Piece], compact: bool, keep_spaces: bool = False) -> str:
    out = ""
    for i, piece in enumerate(pieces):
        following = next((p for p in pieces[i + 1 :] if p.kind != "space"), None)
        if piece.kind == "space":
            if keep_spaces or (not compact and out and not out.endswith(" ")):
                out += " "
            continue
        if piece.kind == "rel" and not compact:
            out = out.rstrip(" ") + (" " if out else "") + piece.text + " "
        elif piece.kind == "bin" and not compact:
            unary = not out or out.endswith(("(", "[", "{", " ")) or following is None
            out = out.rstrip(" ") + ("" if unary else " ") + piece.text + ("" if unary else " ")
        elif piece.kind == "op":
            if out and (out[-1].isalnum() or out[-1] in ")]′") and not out.endswith(" "):
                out += " "
            out += piece.text
            if following is not None and following.kind in ("ord", "text", "op"):
                out += " "  # "log n", "max |x|", "arg min", but "log(n)"
        elif piece.kind == "punct":
            out = out.rstrip(" ") + piece.text
            digits = out[-2:-1].isdigit() and _thousands(pieces[i + 1 :])
            if (not compact or piece.text == ":") and not digits and following is not None:
                out += " "
        else:
            out += piece.text
    return " ".join(out.split()) if not keep_spaces else out
