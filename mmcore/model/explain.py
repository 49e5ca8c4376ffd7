"""A formula in words: what each random term means and how many variance parameters it costs.
For the formula explorer and for any page that shows a model a student typed."""
from __future__ import annotations

from .formula import Formula, Part, parse_formula


def _lhs_words(part: Part) -> tuple[str, int]:
    cols = (["intercept"] if part.intercept else []) + [f"slope on {':'.join(t)}" for t in part.terms]
    return " and ".join(cols), len(cols)


def describe(formula: str | Formula) -> list[str]:
    """One plain sentence per random-effects term (after lme4's expansion of || and /), the
    fixed part, and the count of variance parameters."""
    f = parse_formula(formula) if isinstance(formula, str) else formula
    lines = []
    fixed = [":".join(t) for t in f.fixed.terms]
    lines.append(f"Fixed part: {'an intercept' if f.fixed.intercept else 'no intercept'}"
                 + (f" and effects of {', '.join(fixed)}" if fixed else "") + f", for the response {f.response}.")
    groups = [r.group_name for r in f.random]
    nested = {g for g in groups if ":" in g and all(v in groups for v in g.split(":")[1:])}
    params = 0
    for r in f.random:
        what, q = _lhs_words(r.lhs)
        k = q * (q + 1) // 2
        params += k
        if q == 1:
            cost = "1 variance"
        else:
            cost = f"{q} variances and {k - q} correlation{'s' if k - q > 1 else ''}"
        where = f"each level of {r.group_name}"
        if r.group_name in nested:
            inner, outer = r.group[0], ":".join(r.group[1:])
            where = f"each {inner} within each {outer} (nested: {inner} 'a' of one {outer} is not 'a' of another)"
        lines.append(f"({_term_text(r.lhs)} | {r.group_name}): a random {what} for {where}: {cost}.")
    by_group: dict[str, int] = {}
    for r in f.random:
        by_group[r.group_name] = by_group.get(r.group_name, 0) + 1
    split = [g for g, n in by_group.items() if n > 1]
    if split:
        lines.append(f"Terms on the same factor ({', '.join(split)}) are uncorrelated with each other (the || form).")
    plain = sorted({g for g in groups if ":" not in g})
    if len(plain) > 1 and not nested:
        lines.append(f"{' and '.join(plain)} are crossed: every combination can occur, each factor has its own variance.")
    lines.append(f"Variance parameters: {params} for the random effects + 1 residual variance = {params + 1}.")
    return lines


def _term_text(part: Part) -> str:
    terms = [":".join(t) for t in part.terms]
    if part.intercept:
        return " + ".join(["1"] + terms) if terms else "1"
    return " + ".join(["0"] + terms)


def variance_parameters(formula: str) -> int:
    """Random-effect variance and correlation parameters plus the residual variance."""
    f = parse_formula(formula)
    sizes = [int(r.lhs.intercept) + len(r.lhs.terms) for r in f.random]
    return sum(q * (q + 1) // 2 for q in sizes) + 1
