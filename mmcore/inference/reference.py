"""Which null distribution a likelihood-ratio test has: what the bigger model adds, and so which
reference (chi-square, the 50:50 mixture, or only the bootstrap) gives its p-value.

- Only fixed effects added (the random parts equal): chi-square(df). Compare REML fits only when the
  fixed effects are the same (then the REML likelihoods are comparable: Pinheiro & Bates 2000, 2.4.1).
- Only covariances or correlations added (no new variance): interior parameters, chi-square(df).
  `(x || g)` against `(x | g)` tests a correlation: no boundary.
- One variance added, with its covariances: the variance sits on the boundary under H0, and the
  asymptotic null is the 50:50 mixture of chi-square(df - 1) and chi-square(df) (Self & Liang 1987,
  Stram & Lee 1994).
- Several variances added at once: a chi-bar-square whose weights depend on the information matrix;
  neither chi-square nor the 50:50 mixture is right. Say so and use the parametric bootstrap.
- Not nested (neither model contains the other): no LRT; compare AIC and BIC.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..lmm.fit import model_data
from ..lmm.results import LmmFit


@dataclass(frozen=True)
class LrtReference:
    kind: str  # "fixed", "covariance", "one variance", "several variances", "not nested"
    df: int
    added_variances: tuple[str, ...]  # "Days | Subject", ...
    added_covariances: tuple[str, ...]
    same_fixed: bool  # identical fixed effects: a REML likelihood-ratio test is valid
    reference: str  # "chisq", "mixture", "bootstrap", "none"
    explanation: str


def _parameters(fit: LmmFit) -> tuple[set, set, set]:
    """Fixed-effect columns, variances (group, column) and covariances (group, column, column)."""
    md = model_data(fit)
    variances, covariances = set(), set()
    for t in md.terms:
        for i, c in enumerate(t.columns):
            variances.add((t.group, c))
            for c2 in t.columns[:i]:
                covariances.add((t.group, c2, c))
    return set(md.fixed_names), variances, covariances


def lrt_reference(fit0: LmmFit, fit1: LmmFit) -> LrtReference:
    """What fit1 adds to fit0, and the null distribution of their likelihood-ratio statistic."""
    x0, v0, c0 = _parameters(fit0)
    x1, v1, c1 = _parameters(fit1)
    df = fit1.npar - fit0.npar
    same_fixed = x0 == x1
    add_v = tuple(f"{c} | {g}" for g, c in sorted(v1 - v0))
    add_c = tuple(f"{a}, {b} | {g}" for g, a, b in sorted(c1 - c0))
    if not (x0 <= x1 and v0 <= v1 and c0 <= c1) or df <= 0:
        return LrtReference("not nested", df, add_v, add_c, same_fixed, "none",
                            "Neither model contains the other, so the likelihood-ratio test does not apply: "
                            "compare AIC and BIC instead (smaller is better).")
    if not add_v and not add_c:
        return LrtReference("fixed", df, add_v, add_c, same_fixed, "chisq",
                            f"The bigger model adds fixed effects only: chi-square({df}) is the reference "
                            "(asymptotically; with few groups a bootstrap or F test with estimated df is safer).")
    if not add_v:
        return LrtReference("covariance", df, add_v, add_c, same_fixed, "chisq",
                            f"The bigger model adds a correlation ({'; '.join(add_c)}), not a variance: a "
                            f"correlation of 0 is inside its range (-1, 1), so chi-square({df}) is the reference; "
                            "no boundary, no halving.")
    if len(add_v) == 1:
        return LrtReference("one variance", df, add_v, add_c, same_fixed, "mixture",
                            f"The bigger model adds one variance ({add_v[0]}), which is 0 under H0: the edge of "
                            f"its range. The null distribution is then a 50:50 mixture of chi-square({df - 1}) and "
                            f"chi-square({df}); chi-square({df}) alone is conservative.")
    return LrtReference("several variances", df, add_v, add_c, same_fixed, "bootstrap",
                        f"The bigger model adds {len(add_v)} variances at once ({'; '.join(add_v)}), all on the "
                        "boundary under H0: the null is a chi-bar-square mixture whose weights depend on the "
                        "data, so neither chi-square nor the 50:50 mixture is right. Use the parametric bootstrap.")
