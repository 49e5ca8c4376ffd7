"""The parameters of an LMM under lme4's names, in lme4's order (confint, profile): per random
term the standard deviations and correlations of its effects (`sd_(Intercept)|Subject`,
`cor_Days.(Intercept)|Subject`), then `sigma`, then the fixed effects."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lmm.results import LmmFit


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # "sd", "cor", "sigma" or "fixef"
    estimate: float
    term: int = -1  # random term (sd, cor)
    a: int = 0  # component (sd); row of the pair (cor)
    b: int = 0  # column of the pair (cor)
    index: int = -1  # fixed effect's column


def parameters(fit: LmmFit) -> list[Parameter]:
    out = []
    for t, (group, cols, cov) in enumerate(fit.re_cov):
        group = group.split(".")[0] if group not in fit.ngroups else group  # `||` terms share lme4's name
        sd = np.sqrt(np.diag(cov))
        for b in range(len(cols)):
            for a in range(b, len(cols)):
                if a == b:
                    out.append(Parameter(f"sd_{cols[a]}|{group}", "sd", float(sd[a]), t, a, a))
                else:
                    r = cov[a, b] / (sd[a] * sd[b]) if sd[a] * sd[b] > 0 else np.nan
                    out.append(Parameter(f"cor_{cols[a]}.{cols[b]}|{group}", "cor", float(r), t, a, b))
    out.append(Parameter("sigma", "sigma", float(fit.sigma)))
    out += [Parameter(name, "fixef", float(v), index=j) for j, (name, v) in enumerate(zip(fit.fixed_names, fit.beta))]
    return out
