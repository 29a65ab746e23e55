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

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ",
    "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip
_SYMBOLS = {
    "infty": "∞", "partial": "∂", "nabla": "∇", "ell": "ℓ", "hbar": "ℏ", "aleph": "ℵ",
    "emptyset": "∅", "varnothing": "∅", "forall": "∀", "exists": "∃", "nexists": "∄",
    "neg": "¬", "lnot": "¬",
    "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "ast": "∗", "star": "⋆",
    "circ": "∘", "bullet": "•", "oplus": "⊕", "ominus": "⊖", "otimes": "⊗", "odot": "⊙",
    "cap": "∩", "cup": "∪", "sqcup": "⊔", "sqcap": "⊓", "setminus": "∖", "wedge": "∧",
    "land": "∧", "vee": "∨", "lor": "∨", "dagger": "†", "ddagger": "‡", "prime": "′",
    "top": "⊤", "bot": "⊥", "angle": "∠", "triangle": "△", "square": "□", "Box": "□",
    "diamond": "⋄", "checkmark": "✓", "Re": "ℜ", "Im": "ℑ", "wp": "℘", "imath": "ı",
    "jmath": "ȷ", "dots": "…", "ldots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱",
    "langle": "⟨", "rangle": "⟩", "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋",
    "lvert": "|", "rvert": "|", "vert": "|", "lVert": "‖", "rVert": "‖", "Vert": "‖",
    "|": "‖", "{": "{", "}": "}", "%": "%", "$": "$", "&": "&", "#": "#", "_": "_",
    "backslash": "\\", "degree": "°", "S": "§", "dag": "†", "colon": ":",
}  # fmt: skip
_RELATIONS = {
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "leqslant": "⩽", "geqslant": "⩾",
    "ne": "≠", "neq": "≠", "equiv": "≡", "approx": "≈", "simeq": "≃", "sim": "∼",
    "cong": "≅", "propto": "∝", "ll": "≪", "gg": "≫", "lesssim": "≲", "gtrsim": "≳",
    "prec": "≺", "succ": "≻", "preceq": "⪯", "succeq": "⪰", "in": "∈", "notin": "∉",
    "ni": "∋", "subset": "⊂", "supset": "⊃", "subseteq": "⊆", "supseteq": "⊇",
    "subsetneq": "⊊", "perp": "⊥", "parallel": "∥", "mid": "∣", "nmid": "∤",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "Rightarrow": "⇒",
    "Leftarrow": "⇐", "leftrightarrow": "↔", "Leftrightarrow": "⇔", "iff": "⟺",
    "implies": "⟹", "impliedby": "⟸", "mapsto": "↦", "longrightarrow": "⟶",
    "longleftarrow": "⟵", "Longrightarrow": "⟹", "longmapsto": "⟼", "hookrightarrow": "↪",
    "rightharpoonup": "⇀", "uparrow": "↑", "downarrow": "↓", "vdash": "⊢", "models": "⊨",
    "triangleq": "≜", "coloneqq": "≔", "doteq": "≐", "asymp": "≍",
    "=": "=", "<": "<", ">": ">",
}  # fmt: skip
_BINARY = {
    "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "circ": "∘", "oplus": "⊕",
    "ominus": "⊖", "otimes": "⊗", "odot": "⊙", "cap": "∩", "cup": "∪", "sqcup": "⊔",
    "sqcap": "⊓", "setminus": "∖", "wedge": "∧", "land": "∧", "vee": "∨", "lor": "∨",
}  # fmt: skip
_BIG_OPERATORS = {
    "sum": "∑", "prod": "∏", "coprod": "∐", "int": "∫", "iint": "∬", "oint": "∮",
    "bigcup": "⋃", "bigcap": "⋂", "bigoplus": "⨁", "bigotimes": "⨂",
}  # fmt: skip
_OPERATORS = frozenset(
    [
        "log",
        "ln",
        "lg",
        "exp",
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "sinh",
        "cosh",
        "tanh",
        "coth",
        "arcsin",
        "arccos",
        "arctan",
        "arg",
        "max",
        "min",
        "sup",
        "inf",
        "lim",
        "liminf",
        "limsup",
        "det",
        "dim",
        "ker",
        "deg",
        "gcd",
        "lcm",
        "Pr",
        "hom",
        "mod",
    ]
)
_SPACES = {",": " ", ";": " ", ":": " ", ">": " ", " ": " ", "quad": " ", "qquad": " ", "!": ""}
_SIZING = frozenset(
    [
        "left",
        "right",
        "big",
        "Big",
        "bigg",
        "Bigg",
        "bigl",
        "bigr",
        "Bigl",
        "Bigr",
        "biggl",
        "biggr",
        "Biggl",
        "Biggr",
        "middle",
        "displaystyle",
        "textstyle",
        "scriptstyle",
        "limits",
        "nolimits",
    ]
)
_TEXT = frozenset(
    [
        "text",
        "textrm",
        "textit",
        "textbf",
        "textsf",
        "texttt",
        "mbox",
        "mathrm",
        "mathit",
        "mathsf",
        "mathtt",
        "mathnormal",
        "rm",
    ]
)
_ACCENTS = {
    "hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303",
    "bar": "\u0304", "overline": "\u0305", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308",
    "check": "\u030c", "breve": "\u0306", "acute": "\u0301", "grave": "\u0300",
    "underline": "\u0332",
}  # fmt: skip
_FONTS = ("mathbb", "mathbf", "boldsymbol", "bm", "mathcal", "mathscr", "mathfrak")
_SUPERSCRIPTS = dict(
    zip(
        "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWn",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂⁿ",
        strict=True,
    )
)
_SUBSCRIPTS = dict(
    zip("0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
_SCRIPT_AS_IS = {
    "*": "*",
    "′": "′",
    "″": "″",
    "†": "†",
    "‡": "‡",
    "∗": "*",
    "∘": "°",
    "⊤": "ᵀ",
    "⋆": "⋆",
}
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
        if name in _GREEK:
            return [_Piece("ord", _GREEK[name])]
        if name == "colon":
            return [_Piece("punct", ":")]
        if name in _BINARY:
            return [_Piece("bin", _BINARY[name])]
        if name in _SYMBOLS:
            text = _SYMBOLS[name]
            return [
                _Piece("open" if text in "⟨⌈⌊{" else "close" if text in "⟩⌉⌋}" else "ord", text)
            ]
        if name in _RELATIONS:
            return [_Piece("rel", _RELATIONS[name])]

        if name == "not":
            following = self.argument()
            if len(following) != 1:
                raise Unsure("\\not before more than one symbol")
            text = unicodedata.normalize("NFC", following[0].text + "\u0338")
            return [_Piece("rel", text)]
        if name in _SPACES:
            return [_Piece("space", " ")] if _SPACES[name] else []
        if name in _SIZING:
            if self.at < len(self.tokens) and self.tokens[self.at] == ("char", "."):
                self.at += 1  # \left. is an invisible delimiter
            return []
        if name in _OPERATORS:
            return [_Piece("op", name)]
        if name in _BIG_OPERATORS:
            return [_Piece("op", _BIG_OPERATORS[name])]
        if name == "operatorname":
            if self.at < len(self.tokens) and self.tokens[self.at] == ("char", "*"):
                self.at += 1
            return [_Piece("op", self.raw_argument().replace(" ", ""))]
        if name in _TEXT:
            return [_Piece("text", self.raw_argument())]
        if name in _FONTS:
            return [_Piece(p.kind, _font(name, p.text)) for p in self.argument()]
        if name in _ACCENTS:
            inner = _join(self.argument(), compact=True)
            if not inner:
                raise Unsure("an accent over nothing")
            return [_Piece("ord", "".join(c + _ACCENTS[name] for c in inner))]
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
    style = _ALPHABETS[
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


@dataclass(frozen=True, slots=True)
class _Alphabet:
    capital: int
    small: int
    digit: int
    elsewhere: dict[str, str]


_ALPHABETS = {
    "mathbf": _Alphabet(0x1D400, 0x1D41A, 0x1D7CE, {}),
    "mathbb": _Alphabet(
        0x1D538, 0x1D552, 0x1D7D8,
        {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ", "Z": "ℤ"},
    ),
    "mathcal": _Alphabet(
        0x1D49C, 0x1D4B6, 0,
        {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ", "R": "ℛ",
         "e": "ℯ", "g": "ℊ", "o": "ℴ"},
    ),
    "mathfrak": _Alphabet(
        0x1D504, 0x1D51E, 0, {"C": "ℭ", "H": "ℌ", "I": "ℑ", "R": "ℜ", "Z": "ℨ"}
    ),
}  # fmt: skip


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
    if text in _SCRIPT_AS_IS:
        return _SCRIPT_AS_IS[text]
    table = _SUPERSCRIPTS if mark == "^" else _SUBSCRIPTS
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
