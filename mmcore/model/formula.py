"""The lme4 formula grammar: text -> `Formula`, by a tokenizer and a recursive-descent parser.

Nothing here evaluates anything: a formula is read token by token against a small grammar, so
`__import__('os')` or `open(...)` are refused as unknown names or as unsupported syntax, never run.

Grammar (lme4's, restricted to what a mixed model needs)::

    formula  := response '~' rhs
    response := name | 'cbind' '(' name ',' name ['-' name] ')'
                                              binomial counts: cbind(successes, failures) or
                                              cbind(successes, total - successes); names only
    rhs      := ['-'] item (('+' | '-') item)*
    item     := '0' | '1' | '(' rand ')' | product
    product  := inter ('*' inter)*            a*b = a + b + a:b
    inter    := atom (':' atom)*
    atom     := name | '(' product ('+' product)* ')'     (a + b) * c = a + b + c + a:c + b:c
    rand     := lhs ('|' | '||') group        a parenthesis holds a random term if it has a '|'
                                              at its own depth, else a sum of fixed terms
    lhs      := the rhs grammar without random terms
    group    := gname ('/' gname)*            g1/g2 = g1 + g2:g1 (lme4 names it g2:g1)
    gname    := name (':' name)*
    name     := a letter or '.', then letters, digits, '.', '_' (any alphabet, as R) | `any text`
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from ..errors import FormulaError

MAX_TERMS = 256  # fixed-effect terms a formula may expand to (a*b*c*... of k names gives 2^k - 1)
NAME = r"(?:[^\W\d]|\.)[\w.]*"  # R's names: letters (any alphabet), digits, dots, underscores
_TOKEN = re.compile(rf"\s*(?:(`[^`]*`)|({NAME})|(\d+(?:\.\d*)?)|(\|\||[~+\-*:/()|]))")


_CALL = re.compile(rf"(?<![\w.])({NAME})\s*\(")


@dataclass(frozen=True)
class Part:
    """The fixed part of a formula, or the left side of a random term."""

    intercept: bool
    terms: tuple[tuple[str, ...], ...]  # each term: the variables it multiplies, in order


@dataclass(frozen=True)
class RandomTerm:
    """One random-effects term `(lhs | group)` after `||` and `/` have been expanded."""

    lhs: Part
    group: tuple[str, ...]  # variables whose interaction is the grouping factor

    @property
    def group_name(self) -> str:
        return ":".join(self.group)


@dataclass(frozen=True)
class Formula:
    text: str
    response: str  # for cbind(k, ...) the successes column
    fixed: Part
    random: tuple[RandomTerm, ...]
    # cbind(k, f): ("failures", f); cbind(k, n - k): ("total", n); None for a plain response
    binomial: tuple[str, str] | None = None

    @property
    def variables(self) -> list[str]:
        """Every column the formula uses, response first, each once."""
        seen: dict[str, None] = {self.response: None}
        if self.binomial:
            seen[self.binomial[1]] = None
        for part in [self.fixed] + [r.lhs for r in self.random]:
            for term in part.terms:
                seen.update(dict.fromkeys(term))
        for r in self.random:
            seen.update(dict.fromkeys(r.group))
        return list(seen)


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            bad = text[pos:].strip()[:1]
            raise FormulaError(
                f"The formula has a character it cannot read: '{bad}'. A formula uses column names, "
                "'~', '+', '-', '*', ':', '|', '||', '/', parentheses, 0 and 1, e.g. "
                "y ~ x + (1 | group). Put a column name with spaces or symbols in backticks: `my column`."
            )
        tokens.append(m.group(m.lastindex))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.order: dict[str, int] = {}  # variables in order of appearance: R orders a term's variables so

    # -- token helpers -------------------------------------------------------------------
    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None:
            raise FormulaError(f"The formula '{self.text}' ends too early: something is missing at the end.")
        if expected is not None and tok != expected:
            raise FormulaError(f"In the formula '{self.text}' I expected '{expected}' but found '{tok}'.")
        self.pos += 1
        return tok

    def name(self) -> str:
        name = self._name()
        self.order.setdefault(name, len(self.order))
        return name

    def _name(self) -> str:
        tok = self.take()
        if tok.startswith("`"):
            if len(tok) < 3:
                raise FormulaError("Empty backticks `` are not a column name.")
            return tok[1:-1]
        if re.fullmatch(NAME, tok):
            if self.peek() == "(":
                raise FormulaError(
                    f"'{tok}(...)' looks like a function call. Formulas here take column names only, "
                    "not functions: make a new column in your data instead."
                )
            return tok
        raise FormulaError(f"In the formula '{self.text}' I expected a column name but found '{tok}'.")

    # -- grammar ---------------------------------------------------------------------------
    def formula(self) -> Formula:
        if "~" not in self.tokens:
            raise FormulaError(
                "A formula needs a '~' between the response and the predictors, e.g. y ~ x + (1 | group)."
            )
        response = self.name()
        self.take("~")
        fixed, random = self.rhs(allow_random=True)
        if self.peek() is not None:
            raise FormulaError(f"In the formula '{self.text}' I did not expect '{self.peek()}' here.")
        return Formula(self.text, response, fixed, tuple(random))

    def rhs(self, allow_random: bool) -> tuple[Part, list[RandomTerm]]:
        intercept, terms, random = True, [], []
        sign = "+"
        if self.peek() == "-":
            self.take()
            sign = "-"
        while True:
            tok = self.peek()
            if tok in ("0", "1"):
                self.take()
                intercept = (tok == "1") == (sign == "+")
            elif tok is not None and re.fullmatch(r"\d+(\.\d*)?", tok):
                raise FormulaError(f"The number {tok} cannot stand in a formula; only 0 and 1 (the intercept) can.")
            elif tok == "(" and self._random_ahead():
                if not allow_random:
                    raise FormulaError("Random-effects terms cannot be nested inside another one.")
                if sign == "-":
                    raise FormulaError("A random-effects term cannot be subtracted.")
                random.extend(self.random_term())
            else:
                if tok is None:
                    raise FormulaError(f"The formula '{self.text}' ends too early: a term is missing at the end.")
                if tok in "+-*:/|~)" or tok == "||":
                    raise FormulaError(f"In the formula '{self.text}' a term is missing before '{tok}'.")
                product = self.product()
                if sign == "+":
                    terms.extend(t for t in product if t not in terms)
                    _check_size(self.text, [terms], product=True)
                else:
                    terms = [t for t in terms if t not in product]
            if self.peek() in ("+", "-"):
                sign = self.take()
                continue
            break
        return Part(intercept, _order_terms(terms, self.order)), random

    def group_name(self) -> tuple[str, ...]:
        names = [self.name()]
        while self.peek() == ":":
            self.take()
            names.append(self.name())
        return tuple(dict.fromkeys(names))

    def _random_ahead(self) -> bool:
        """Does the parenthesis at the current token hold a random term (a '|' at its own depth)?"""
        depth = 0
        for tok in self.tokens[self.pos :]:
            depth += (tok == "(") - (tok == ")")
            if depth == 0:
                return False
            if depth == 1 and tok in ("|", "||"):
                return True
        return False

    def product(self) -> list[tuple[str, ...]]:
        """a * b * ...: every interaction of a subset of the factors (each factor a list of terms).
        A factor repeated adds nothing (x*x is x, as in R); the size of the expansion is counted
        before anything is expanded, and past MAX_TERMS the formula is refused."""
        factors = [self.interaction()]
        while self.peek() == "*":
            self.take()
            factors.append(self.interaction())
        factors = list({frozenset(f): f for f in factors}.values())
        _check_size(self.text, factors)
        out: list[tuple[str, ...]] = []
        for k in range(1, len(factors) + 1):
            for combo in combinations(factors, k):
                for term in _interact(combo):
                    if term not in out:
                        out.append(term)
        return out

    def interaction(self) -> list[tuple[str, ...]]:
        """a:b:...: each a factor name or a parenthesised sum, (a + b):c = a:c + b:c."""
        out = self.atom()
        while self.peek() == ":":
            self.take()
            nxt = self.atom()
            _check_size(self.text, [out, nxt], product=True)
            out = _interact((out, nxt))
        return out

    def atom(self) -> list[tuple[str, ...]]:
        if self.peek() != "(":
            return [(self.name(),)]
        if self._random_ahead():
            raise FormulaError("A random-effects term cannot be nested inside parentheses with other terms: write "
                               "it on its own, e.g. y ~ x + (1 | group).")
        self.take("(")
        terms = self.product()
        while self.peek() == "+":
            self.take()
            terms += [t for t in self.product() if t not in terms]
            _check_size(self.text, [terms], product=True)
        if self.peek() != ")":
            raise FormulaError(
                f"In the formula '{self.text}' a parenthesis in the fixed part may hold only a sum of terms, "
                "such as (a + b) * c; " + (f"I found '{self.peek()}'." if self.peek() else "it is never closed.")
            )
        self.take(")")
        return terms

    def random_term(self) -> list[RandomTerm]:
        self.take("(")
        lhs, _ = self.rhs(allow_random=False)
        bar = self.take()
        if bar not in ("|", "||"):
            raise FormulaError(
                f"In the formula '{self.text}' a parenthesis must hold a random-effects term such as "
                "(1 | group) or (x | group)."
            )
        groups = [self.group_name()]
        while self.peek() == "/":
            self.take()
            groups.append(self.group_name())
        self.take(")")
        # g1/g2/g3 -> g1, g2:g1, g3:g2:g1 (lme4's names for the nested factors)
        nested = [tuple(v for g in reversed(groups[: i + 1]) for v in g) for i in range(len(groups))]
        if not lhs.intercept and not lhs.terms:
            raise FormulaError("A random-effects term needs something left of '|', e.g. (1 | group).")
        if bar == "|":
            parts = [lhs]
        else:  # (a + b || g) = (1 | g) + (0 + a | g) + (0 + b | g)
            parts = ([Part(True, ())] if lhs.intercept else []) + [Part(False, (t,)) for t in lhs.terms]
        return [RandomTerm(p, g) for g in nested for p in parts]


def _check_size(text: str, factors: list, product: bool = False) -> None:
    """Refuse, before expanding, a product whose expansion would pass MAX_TERMS terms: a*b*c
    expands to (1 + |a|)(1 + |b|)(1 + |c|) - 1 terms at most, a:b to |a||b|."""
    size = 1
    for f in factors:
        size *= len(f) if product else 1 + len(f)
        if size > MAX_TERMS + 1:
            break
    if size - (0 if product else 1) > MAX_TERMS:
        raise FormulaError(
            f"The formula '{text[:80]}{'...' if len(text) > 80 else ''}' would expand to more than {MAX_TERMS} "
            "fixed-effect terms (a*b*c*... of k variables has 2^k - 1 terms: all their interactions). Use fewer "
            "interactions: write out the ones you mean, e.g. a + b + c + a:b."
        )


def _interact(factors) -> list[tuple[str, ...]]:
    """Every combination of one term from each factor, as one interaction term."""
    out: list[tuple[str, ...]] = [()]
    for terms in factors:
        out = [tuple(dict.fromkeys(a + b)) for a in out for b in terms]
    return list(dict.fromkeys(out))


def _order_terms(terms: list[tuple[str, ...]], order: dict[str, int]) -> tuple[tuple[str, ...], ...]:
    """R's term order: by degree, then by first appearance; a term's variables in the order the
    formula first names them."""
    canon = [tuple(sorted(t, key=order.__getitem__)) for t in terms]
    unique = list(dict.fromkeys(canon))
    return tuple(sorted(unique, key=len))


def parse_formula(text: str) -> Formula:
    """Parse lme4 formula text. Raises FormulaError with a plain message on anything else."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("The formula is empty. Write one such as y ~ x + (1 | group).")
    return _parse(text)


@lru_cache(maxsize=1024)  # a Formula is immutable; pages refit the same few formulas all day
def _parse(text: str) -> Formula:
    if len(text) > 2000:
        raise FormulaError("The formula is too long (over 2000 characters).")
    cbind = _CBIND_START.match(text)
    if cbind:
        return _binomial_formula(text)
    call = _CALL.search(re.sub(r"`[^`]*`", "``", text))
    if call:  # say "function" before the tokenizer trips over the call's arguments
        raise FormulaError(
            f"'{call.group(1)}(...)' looks like a function call. Formulas here take column names only, "
            "not functions: make a new column in your data instead."
        )
    return _Parser(text.strip()).formula()


_QNAME = rf"(`[^`]+`|{NAME})"
_CBIND_START = re.compile(r"\s*cbind\s*\(")
_CBIND = re.compile(rf"\s*cbind\s*\(\s*{_QNAME}\s*,\s*{_QNAME}\s*(?:-\s*{_QNAME}\s*)?\)\s*(~.*)$", re.S)


def _binomial_formula(text: str) -> Formula:
    """cbind(k, f) or cbind(k, n - k) left of '~': binomial counts, read as names (never evaluated)."""
    m = _CBIND.match(text)
    if not m:
        raise FormulaError(
            "A binomial response in counts is written cbind(successes, failures) or cbind(successes, total - "
            "successes), with column names only, e.g. cbind(incidence, size - incidence) ~ period + (1 | herd)."
        )
    successes, other, minus, rest = (g.strip("`") if g else g for g in m.groups())
    if minus is not None and minus != successes:
        raise FormulaError(
            f"In cbind({successes}, {other} - {minus}) the second part must be the failures: total minus the "
            f"successes, i.e. cbind({successes}, {other} - {successes})."
        )
    if successes == other:
        raise FormulaError("cbind(successes, failures) needs two different columns.")
    parsed = _Parser(f"`{successes}` {rest}".strip()).formula()
    kind = "total" if minus is not None else "failures"
    return Formula(text.strip(), successes, parsed.fixed, parsed.random, (kind, other))


_SPACED = {"~", "+", "-", "*", "|", "||"}  # R's deparse puts spaces around these, not around ':' and '/'


_RESERVED = {"if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE", "NULL", "Inf", "NaN",
             "NA", "NA_integer_", "NA_real_", "NA_character_", "NA_complex_", "in"}


def _r_name(name: str) -> str:
    """A name as R's deparse writes it: bare if syntactic (a letter, or a dot not followed by a digit,
    then letters, digits, dots and underscores; not a reserved word), else in backticks."""
    name = name[1:-1] if len(name) > 2 and name[0] == name[-1] == "`" else name
    syntactic = re.fullmatch(r"(?:[^\W\d_]|\.(?!\d))[\w.]*", name) and name not in _RESERVED
    return name if syntactic else f"`{name}`"


def _deparse(tokens: list[str]) -> str:
    """Tokens as R's deparse writes them: spaces around binary '~ + - * |', none inside parentheses
    or around ':' and '/'; a sign after an operator or '(' is unary (written without the spaces)."""
    out = ""
    for i, tok in enumerate(tokens):
        unary = tok == "-" and (i == 0 or tokens[i - 1] in _SPACED | {"(", ":", "/"})
        if tok in _SPACED and not unary:
            out += f" {tok} "
        elif tok.startswith("`") or re.fullmatch(NAME, tok):
            out += _r_name(tok)
        else:
            out += tok
    return out


def printed_formula(text: str) -> str:
    """The formula as lme4's summary() prints it ("Formula:"): with every `(lhs || g)` expanded as
    lme4's expandDoubleVerts does, `((1 | g) + (0 + a | g) + (0 + b | g))` (the intercept's term only
    when lhs has one; the terms in R's order: tests/test_printing.py against lme4 1.1-31), its right-hand
    side written as R deparses it (names bare or in backticks as R needs them). A formula without '||'
    is printed as it was typed (R would also normalise its spacing), and so is the response (a
    cbind(...) keeps its spacing); a formula too long for one line is not wrapped as R's deparse wraps
    it at 60 characters."""
    if "||" not in text:
        return text
    response, sep, rhs = text.partition("~")
    tokens = _tokenize(rhs)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        close, bars, depth = None, None, 0
        if tokens[i] == "(":
            for j in range(i, len(tokens)):
                depth += (tokens[j] == "(") - (tokens[j] == ")")
                if depth == 1 and tokens[j] == "||":
                    bars = j
                if depth == 0:
                    close = j
                    break
        if bars is None or close is None:
            out.append(tokens[i])
            i += 1
            continue
        lhs = _Parser(f"y ~ {_deparse(tokens[i + 1 : bars])}").formula().fixed
        group = _deparse(tokens[bars + 1 : close])
        labels = ([] if not lhs.intercept else ["1"]) + ["0 + " + ":".join(_r_name(v) for v in term) for term in lhs.terms]
        out.append("(" + " + ".join(f"({label} | {group})" for label in labels) + ")")
        i = close + 1
    return f"{response.strip()} {sep} {_deparse(out)}".strip() if sep else text
