"""Profile likelihood of an LMM, as lme4's profile.merMod: for each parameter psi (the standard
deviations and correlations of the random effects, sigma, each fixed effect), the ML deviance with
psi held fixed and every other parameter optimised, as zeta(psi) = sign(psi - psi_hat)
sqrt(deviance(psi) - deviance_min). The profile interval is where |zeta| <= z_(1 - alpha/2); lme4's
zeta plots draw zeta against psi (a straight line where the Wald interval would be right).

As lme4 does, a REML fit is refitted by ML first: the profile is of the likelihood.

lme4 walks each profile in steps and interpolates a spline; here the interval's ends are found as
roots (inverse interpolation in zeta on a log scale for SDs and sigma, Fisher's z for correlations,
batched rounds), so the limits are exact to the optimizer's tolerance, and the points evaluated on
the way are the profile drawn. Each deviance is minimised by the engine's own optimizer
(lmm/optimize.py) with the parameter held fixed, many values at once:

- sigma fixed: d(theta, sigma) = log|L|^2 + r^2(theta)/sigma^2 + n log(2 pi sigma^2) over theta.
- an SD fixed at s (row j of a term's factor T): sigma = s / |T_j|, over theta.
- an SD fixed at 0: row j of T held at zero, the rest of theta free (Structure.restrict).
- a correlation fixed at rho: the term's components are reordered so that the pair comes first;
  then the first two rows of T are (a, 0) and r (rho, sqrt(1 - rho^2)), over (a, r, the rest),
  with a r >= 0 (the other sign is the correlation -rho).
- a fixed effect fixed at b: the model without its column, fitted to y - x_j b.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import linalg, stats

from ..lmm.deviance import ProfiledDeviance
from ..lmm.fit import model_data
from ..lmm.optimize import Structure, minimize_many
from ..lmm.results import LmmFit
from ..model.design import ModelData
from .compare import as_ml
from .names import Parameter, parameters

ROUNDS = 8  # rounds of root refinement per interval end
ZETA_TOL = 2e-4  # |zeta - target| at an interval end: 5e-5 of the interval's width


def _criteria(dev: ProfiledDeviance, theta: np.ndarray):
    """log|L|^2 and r^2 at each theta (..., k); +inf where the factorisation fails."""
    try:
        logdet, _, r2 = dev.parts(theta)
        return logdet, r2
    except np.linalg.LinAlgError:
        flat = theta.reshape(-1, theta.shape[-1])
        out = np.full((2, len(flat)), np.inf)
        for i, t in enumerate(flat):
            try:
                a, _, b = dev.parts(t[None])
                out[:, i] = a[0], b[0]
            except np.linalg.LinAlgError:
                pass
        return out[0].reshape(theta.shape[:-1]), out[1].reshape(theta.shape[:-1])


def _ml(logdet, r2, sigma2, n):
    with np.errstate(all="ignore"):
        out = logdet + r2 / sigma2 + n * np.log(2 * np.pi * sigma2)
    return np.where(np.isfinite(out), out, np.inf)


class _Problems:
    """The deviance of one model with one parameter held at each of several values."""

    def __init__(self, fit: LmmFit, md: ModelData, par: Parameter):
        self.fit, self.md, self.par, self.n = fit, md, par, len(md.y)
        self.dev = ProfiledDeviance(md, reml=False)
        lay = self.dev.layout
        if par.kind == "sd":
            rows = lay.tri_indices(par.term)[0]
            self.row = lay.offsets[par.term] + np.flatnonzero(rows == par.a)
        if par.kind == "cor":
            self._setup_cor()

    # -- each kind: (f(idx, x), start, structure) for values -------------------------------------
    def problem(self, values: np.ndarray):
        kind, dev, n = self.par.kind, self.dev, self.n
        theta0 = np.tile(self.fit.theta, (len(values), 1))
        if kind == "sigma":
            s2 = values**2

            def f(idx, th):
                logdet, r2 = _criteria(dev, th)
                return _ml(logdet, r2, s2[idx][:, None], n)
            return f, theta0, dev.structure()
        if kind == "sd":
            s2, row = values**2, self.row
            # start with the row scaled to the SD held (a zero row, a boundary fit, would give sigma = inf)
            norm = np.linalg.norm(theta0[:, row], axis=1, keepdims=True)
            target = values[:, None] / self.fit.sigma
            theta0[:, row] = np.where(norm > 0, theta0[:, row] * target / np.where(norm > 0, norm, 1), 0.0)
            theta0[:, row[-1]] = np.where(norm[:, 0] > 0, theta0[:, row[-1]], target[:, 0])

            def f(idx, th):
                logdet, r2 = _criteria(dev, th)
                with np.errstate(all="ignore"):
                    sigma2 = s2[idx][:, None] / np.sum(th[..., row] ** 2, axis=-1)
                return _ml(logdet, r2, sigma2, n)
            return f, theta0, dev.structure()
        if kind == "cor":
            rho = values

            def f(idx, x):
                th, ok = self._cor_theta(x, rho[idx][:, None])
                with np.errstate(all="ignore"):
                    return np.where(ok, self.cor_dev.evaluate(th), np.inf)
            return f, np.tile(self.cor_start, (len(values), 1)), self.cor_structure
        # a fixed effect
        j = self.par.index
        keep = [c for c in range(self.md.X.shape[1]) if c != j]
        reduced = replace(self.md, X=self.md.X[:, keep], fixed_names=tuple(self.md.fixed_names[c] for c in keep))
        base = ProfiledDeviance(reduced, reml=False)
        many = base.with_responses(self.md.y[None, :] - values[:, None] * self.md.X[:, j][None, :])
        return many.evaluate_some, theta0, base.structure()

    def at_zero(self) -> float:
        """The deviance with an SD held at zero: its row of T is zero, the rest of theta optimised."""
        dev = self.dev
        free = np.setdiff1d(np.arange(len(self.fit.theta)), self.row)
        full = np.array(self.fit.theta, dtype=float)
        full[self.row] = 0.0
        if not len(free):
            return float(dev.evaluate(full[None])[0])

        def f(idx, x):
            th = np.broadcast_to(full, x.shape[:-1] + full.shape).copy()
            th[..., free] = x
            return dev.evaluate(th)
        with np.errstate(all="ignore"):
            res = minimize_many(f, full[free][None], dev.structure().restrict(free))
        return float(res.value[0])

    # -- correlations -------------------------------------------------------------------------------
    def _setup_cor(self) -> None:
        """Reorder the term's components so that the pair (a, b) comes first: component b, then a."""
        t, a, b = self.par.term, self.par.a, self.par.b
        term = self.md.terms[t]
        order = [b, a] + [c for c in range(term.q) if c not in (a, b)]
        moved = replace(term, columns=tuple(term.columns[c] for c in order), matrix=term.matrix[:, order])
        md = replace(self.md, terms=self.md.terms[:t] + (moved,) + self.md.terms[t + 1:])
        self.cor_dev = dev = ProfiledDeviance(md, reml=False)
        lay = dev.layout
        off = lay.offsets[t]
        # theta of the reordered term: column-major lower triangle; (0,0) at off, (1,0) at off + 1,
        # (1,1) at off + q: x keeps a at off and r at off + 1 and drops (1,1)
        self.cor_ia, self.cor_ib, self.cor_ic = off, off + 1, off + term.q
        k = len(lay.lower)
        self.cor_keep = np.array([i for i in range(k) if i != self.cor_ic])
        cov = self.fit.re_cov[t][2][np.ix_(order, order)] / self.fit.sigma**2
        T = _cholesky_semidefinite(cov)
        th = np.array(self.fit.theta, dtype=float)
        i, j = lay.tri_indices(t)
        th[off : off + len(i)] = T[i, j]
        start = th[self.cor_keep]
        start[1] = np.hypot(T[1, 0], T[1, 1])  # r, the length of row 1
        self.cor_start = start
        full = dev.structure()
        where = {int(v): u for u, v in enumerate(self.cor_keep)}
        cols, first = [], None
        for col in full.columns:
            if int(col[0]) == self.cor_ia:
                first = [int(c) for c in col]
            elif int(col[0]) == self.cor_ic:
                second = [int(c) for c in col[1:]]
            else:
                cols.append(np.array([where[int(c)] for c in col]))
        # flipping a and r together, with both columns' other elements, leaves the covariance as it is
        joint = [where[self.cor_ia], where[self.cor_ib]] + [where[c] for c in first[2:] + second]
        diag = np.array([where[int(d)] for d in full.diagonal if int(d) != self.cor_ic], dtype=int)
        scale = full.scale[self.cor_keep]
        self.cor_structure = Structure(diag, (np.array(joint),) + tuple(cols), scale, full.size)

    def _cor_theta(self, x: np.ndarray, rho: np.ndarray):
        k = len(self.cor_keep) + 1
        th = np.empty(x.shape[:-1] + (k,))
        th[..., self.cor_keep] = x
        r = x[..., 1]
        th[..., self.cor_ib] = rho * r
        th[..., self.cor_ic] = np.sqrt(np.clip(1 - rho**2, 0, None)) * r
        ok = x[..., 0] * r >= 0
        return th, ok

    def solve(self, values: np.ndarray, starts: np.ndarray | None = None):
        f, start, structure = self.problem(np.asarray(values, dtype=float))
        if starts is not None:
            start = starts
        with np.errstate(all="ignore"):
            res = minimize_many(f, start, structure)
        return res.value, res.theta


def _cholesky_semidefinite(S: np.ndarray) -> np.ndarray:
    try:
        return linalg.cholesky(S, lower=True)
    except linalg.LinAlgError:
        return linalg.cholesky(S + 1e-10 * np.eye(len(S)) * max(1.0, np.max(np.diag(S))), lower=True)


# -- the search ------------------------------------------------------------------------------------------
_TO = {"sd": np.log, "sigma": np.log, "cor": np.arctanh, "fixef": lambda v: v}
_FROM = {"sd": np.exp, "sigma": np.exp, "cor": np.tanh, "fixef": lambda u: u}


@dataclass(frozen=True)
class ParameterProfile:
    """One parameter's profile: psi values and their zeta, sorted; the ML estimate; the interval."""

    name: str
    kind: str
    estimate: float
    values: np.ndarray
    zeta: np.ndarray
    lower: float
    upper: float
    wald_se: float  # the standard error from the ML information (NaN where it does not exist)


class _Search:
    """Points (u = psi on the search scale, zeta, solution) of one parameter, filled in rounds."""

    def __init__(self, problems: _Problems, par: Parameter, base: float, se_u: float):
        self.p, self.par, self.base = problems, par, base
        self.to, self.back = _TO[par.kind], _FROM[par.kind]
        self.u0 = float(self.to(par.estimate)) if par.estimate != 0 or par.kind not in ("sd",) else -np.inf
        self.se_u = se_u
        self.points: list[tuple[float, float, np.ndarray | None]] = []

    def zeta(self, psi, dev):
        return np.sign(psi - self.par.estimate) * np.sqrt(np.maximum(dev - self.base, 0.0))

    def evaluate(self, us: list[float]) -> None:
        if not us:
            return
        psi = self.back(np.array(us))
        starts = None
        if self.points:
            near = [min(self.points, key=lambda p: abs(p[0] - u) if np.isfinite(p[0]) else np.inf) for u in us]
            if all(p[2] is not None for p in near):
                starts = np.array([p[2] for p in near])
        dev, x = self.p.solve(psi, starts)
        z = self.zeta(psi, dev)
        self.points += [(u, float(zz), xx) for u, zz, xx in zip(us, z, x)]


def profile_parameters(fit: LmmFit, which=None, level: float = 0.95) -> list[ParameterProfile]:
    """The profiles (and the level's intervals) of the chosen parameters (names, default all)."""
    from .wald import ml_standard_errors

    ml = as_ml(fit)
    md = model_data(ml)
    pars = parameters(ml)
    if which is not None:
        wanted = [which] if isinstance(which, str) else list(which)
        pars = [p for p in pars if p.name in wanted]
    ses = ml_standard_errors(ml, md)
    target = float(stats.norm.ppf(0.5 + level / 2))
    out = []
    for par in pars:
        problems = _Problems(ml, md, par)
        se = ses.get(par.name, np.nan)
        out.append(_profile_one(problems, par, ml.deviance, se, target))
    return out


def _search_scale_se(par: Parameter, se: float) -> float:
    """The standard error on the search scale (delta method), or a rough guess."""
    est = par.estimate
    if par.kind in ("sd", "sigma"):
        u = se / est if est > 0 and np.isfinite(se) and se > 0 else np.nan
        return u if np.isfinite(u) and 0.01 < u < 5 else 0.5
    if par.kind == "cor":
        u = se / max(1 - est**2, 1e-6) if np.isfinite(se) and se > 0 else np.nan
        return u if np.isfinite(u) and 0.01 < u < 5 else 0.5
    return se if np.isfinite(se) and se > 0 else max(abs(est), 1.0) * 0.1


def _profile_one(problems: _Problems, par: Parameter, base: float, se: float, target: float) -> ParameterProfile:
    search = _Search(problems, par, base, _search_scale_se(par, se))
    s, u0 = search.se_u, search.u0
    ends = {}
    if par.kind == "sd" and par.estimate <= 0:  # a singular fit: the estimate is the boundary
        ends[-1] = 0.0
        u0 = np.log(max(problems.fit.sigma, 1e-8) * 0.05)
        search.evaluate([u0 + s * k for k in (0.0, 2.0, 4.0)])
    else:
        search.evaluate([u0 + s * k * target / 2 for k in (-3, -2, -1, 1, 2, 3)])
    if par.kind == "sd" and -1 not in ends:
        z0 = -np.sqrt(max(problems.at_zero() - base, 0.0))
        search.points.append((-np.inf, float(z0), None))
        if z0 > -target:
            ends[-1] = 0.0
    if par.kind == "cor":
        for side in (-1, 1):
            far = [p for p in search.points if np.sign(p[1]) == side]
            if not far or max(abs(p[1]) for p in far) < target:  # is the bound itself inside?
                dev, _ = problems.solve(np.array([float(side)]))
                z = search.zeta(float(side), dev[0])
                search.points.append((side * np.inf, float(z), None))
                if abs(z) < target:
                    ends[side] = float(side)
    for side in (-1, 1):
        if side not in ends:
            ends[side] = _root(search, side * target, u0)
    pts = sorted([(search.back(u) if np.isfinite(u) else (0.0 if par.kind == "sd" else np.sign(u)), z)
                  for u, z, _ in search.points] + [(par.estimate, 0.0)])
    values, zeta = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    return ParameterProfile(par.name, par.kind, par.estimate, values, zeta, ends[-1], ends[1], se)


def _root(search: _Search, target: float, u0: float) -> float:
    """psi where zeta = target: bracket on the search scale, then inverse interpolation in zeta."""
    side = np.sign(target)
    for _ in range(ROUNDS):
        pts = [(u, z) for u, z, _ in search.points if np.isfinite(u) and np.isfinite(z)]
        pts += [(u0, 0.0)] if np.isfinite(u0) else []
        pts.sort()
        inside = [p for p in pts if side * p[1] < side * target]
        beyond = [p for p in pts if side * p[1] >= side * target]
        if beyond and abs(min(beyond, key=lambda p: abs(p[1] - target))[1] - target) < ZETA_TOL:
            return float(search.back(min(beyond, key=lambda p: abs(p[1] - target))[0]))
        if not beyond:  # not bracketed yet: step further out
            far = max(pts, key=lambda p: side * p[0])
            search.evaluate([far[0] + side * max(search.se_u, 1e-3) * (1 + abs(target - far[1]))])
            continue
        lo = max(inside, key=lambda p: side * p[1]) if inside else (u0, 0.0)
        hi = min(beyond, key=lambda p: side * p[1])
        if abs(lo[1] - target) < ZETA_TOL:
            return float(search.back(lo[0]))
        near = sorted(pts, key=lambda p: abs(p[1] - target))[:3]
        guess = lo[0] + (target - lo[1]) * (hi[0] - lo[0]) / (hi[1] - lo[1])
        if len({p[1] for p in near}) == 3:
            zs, us = np.array([p[1] for p in near]), np.array([p[0] for p in near])
            quad = float(np.polyval(np.polyfit(zs, us, 2), target))
            if min(lo[0], hi[0]) < quad < max(lo[0], hi[0]):
                guess = quad
        search.evaluate([guess])
    best = min(((u, z) for u, z, _ in search.points if np.isfinite(u)), key=lambda p: abs(p[1] - target))
    return float(search.back(best[0]))


def zeta_at(fit: LmmFit, name: str, values) -> np.ndarray:
    """zeta of one parameter at given values (lme4's profile at those points): the ML deviance
    optimised over every other parameter, signed square root of its rise over the minimum."""
    ml = as_ml(fit)
    md = model_data(ml)
    par = next((p for p in parameters(ml) if p.name == name), None)
    if par is None:
        raise KeyError(name)
    problems = _Problems(ml, md, par)
    values = np.asarray(values, dtype=float)
    dev = np.empty(len(values))
    zero = (values == 0) & (par.kind == "sd")
    if zero.any():
        dev[zero] = problems.at_zero()
    if (~zero).any():
        dev[~zero] = problems.solve(values[~zero])[0]
    return np.sign(values - par.estimate) * np.sqrt(np.maximum(dev - ml.deviance, 0.0))
