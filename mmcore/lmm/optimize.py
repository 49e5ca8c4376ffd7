"""Minimise the profiled criterion d(theta), and verify that the answer is a minimum.

Why our own optimizer: lme4 runs BOBYQA, derivative-free, 20-200 evaluations one at a time. Our
deviance evaluates a batch of thetas in about the time of one (deviance.py), so a Newton method
whose finite-difference gradient and Hessian come from one batched call converges in a handful of
steps, and runs S problems (a bootstrap's replicates) through the same numpy calls.

How it stays sound (DESIGN.md, "how the optimizer must stop"):

- **No bounds.** lme4 bounds each diagonal element of a term's factor T below by 0. That bound is
  only a convention: flipping the sign of a column of T leaves T T', hence the criterion, unchanged,
  so the criterion is a smooth function on all of R^k, and every point with a negative diagonal has
  a twin with a positive one. We minimise without bounds and flip columns at the end. A diagonal at
  zero is then an ordinary interior point: a local maximum along it (negative curvature, the
  gradient zero by symmetry) is seen and left, and a zero diagonal with elements below it is
  examined for both signs of its column at once, because its neighbourhood contains both.
- **Second order.** A step is Newton's on |eigenvalues| of the Hessian (so a saddle still
  descends), plus a search along the eigenvector of a negative eigenvalue. A problem is converged
  when the gradient is at the noise level of the finite differences, no curvature is negative
  beyond that level, and the stencil's own points (theta +- h along every axis) are none lower.
- **Scaling.** The optimizer works on phi = theta / scale, where scale comes from the size of each
  random-effect column (deviance.theta_scale): a predictor in units of 1e-3 or 1e3 then starts
  and steps as a standardised one does.
- **Restarts.** A fit that ends with a diagonal at zero is restarted with that diagonal moved
  inside (set to 1), from lme4's start, and from lme4's start with each diagonal in turn at zero,
  and keeps the best answer (of answers no lower than it beyond 1e-7, a verified one): a small
  design can have a boundary optimum that is only local. Last, every element is moved both ways by
  1e-4 and 1e-2 of its size; a lower point starts the iteration again from there, and if one is
  still found after three rounds the answer is not verified (converged False).

- **Costly evaluations.** For a large model (Structure.lean: an evaluation costs milliseconds, so
  their number, not numpy's overhead, sets the time), and for GLMMs (far trial points cost PIRLS
  iterations) a step first evaluates only the stencil at the
  full Newton step, then if that fails the half and quarter steps, and the other trial points only
  if those fail too; the checks are the same.

`minimize_many` runs S problems together; problems that have converged drop out of the batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fdiff import H_REL, derivatives, noise, stencil

NEWTON_STEPS = 2.0 ** -np.arange(-1, 8)  # step lengths tried along a Newton direction (2 ... 1/128)
CURVE_STEPS = np.array([1.0, 0.3, 0.1, 0.03, 0.01])  # lengths tried along a negative-curvature direction
DESCENT_STEPS = 10.0 ** -np.arange(0, 6)  # and along the gradient, when Newton's model misleads
MAX_ITER = 200
SLOW = 5  # steps in a row that each gain less than 10x the criterion's rounding: stop and verify
VERIFY_ROUNDS = 3  # rounds of looking around the answer and starting again from a lower point
ZERO = 1e-4  # a diagonal of |phi| below this is at the boundary (lme4's isSingular uses 1e-4 on theta)


@dataclass(frozen=True)
class OptResult:
    theta: np.ndarray  # (k,) or (S, k), diagonals >= 0
    value: np.ndarray | float
    converged: np.ndarray | bool  # optimality verified
    evaluations: int
    iterations: int = 0


@dataclass(frozen=True)
class Structure:
    """What the optimizer needs to know of theta: which elements are diagonals, which elements
    form each column of a term's factor (diagonal first), and the scale of each element."""

    diagonal: np.ndarray  # indices of the diagonal elements
    columns: tuple  # per column of every term: indices into theta, its diagonal first
    scale: np.ndarray  # (k,) theta = phi * scale
    size: float = 1.0  # the size of the criterion's parts (the number of observations): its rounding
    lean: bool = False  # evaluations are costly (large models): try the full Newton step first, alone

    def restrict(self, free: np.ndarray) -> Structure:
        """The same structure on the elements `free` (indices) only, the others held fixed: what a
        profile optimises over. A column whose diagonal is held fixed is dropped (its sign can no
        longer be told from a diagonal); the rest keep their order."""
        free = np.asarray(free, dtype=int)
        where = {int(j): i for i, j in enumerate(free)}
        columns = tuple(np.array([where[int(j)] for j in col if int(j) in where]) for col in self.columns
                        if int(col[0]) in where)
        diagonal = np.array([where[int(j)] for j in self.diagonal if int(j) in where], dtype=int)
        return Structure(diagonal, columns, self.scale[free], self.size)

    def canonical(self, phi: np.ndarray) -> np.ndarray:
        """Flip every column whose diagonal is negative: the same covariance, lme4's convention."""
        phi = phi.copy()
        for col in self.columns:
            flip = phi[..., col[0]] < 0
            phi[..., col] = np.where(flip[..., None], -phi[..., col], phi[..., col])
        return phi


# -- the iteration ----------------------------------------------------------------------------------
def _directions(g: np.ndarray, H: np.ndarray, htol: np.ndarray):
    """Newton directions on |eigenvalues| (a saddle still descends), and for a Hessian with a
    negative eigenvalue the unit eigenvector of the most negative one, pointing downhill."""
    w, V = np.linalg.eigh(H)
    aw = np.abs(w)
    scale = np.maximum(aw, np.maximum(1e-8, 1e-8 * aw.max(axis=-1, keepdims=True)))
    gv = (g[..., None, :] @ V)[..., 0, :]  # g in the eigenvector basis
    newton = -(V @ (gv / scale)[..., None])[..., 0]
    sign = np.where(gv[..., 0] > 0, -1.0, 1.0)
    curve = np.where((w[..., 0] < -htol)[..., None], V[..., :, 0] * sign[..., None], 0.0)
    return newton, curve, w[..., 0], 0.5 * np.sum(gv * gv / scale, axis=-1)


def _run(f, x: np.ndarray, size: float = 1.0, lean: bool = False, enough: float | None = None):
    """The Newton iteration on S problems from x (S, k). f(idx, points (len(idx), B, k)) evaluates
    problems idx at B points each. Returns x, f(x), verified, evaluations, iterations. With
    `enough`, a problem stops (unverified) once Newton's model promises no gain above it."""
    S, k = x.shape
    if S == 1:
        return _run_one(f, x, size, lean, enough)
    pts = stencil(x)
    sv = f(np.arange(S), pts)  # the stencil's values at each x: derivatives, and the final check
    fx, g, H = derivatives(sv, x)
    evals = pts.shape[1]
    done = np.zeros(S, dtype=bool)
    verified = np.zeros(S, dtype=bool)
    slow = np.zeros(S, dtype=int)  # steps in a row that gained almost nothing: a flat valley
    nN, nC, nD = len(NEWTON_STEPS), len(CURVE_STEPS), len(DESCENT_STEPS)
    nT = nN + nC + nD
    it = 0
    for it in range(1, MAX_ITER + 1):
        done |= ~np.isfinite(fx) | ~np.isfinite(g).all(axis=1) | ~np.isfinite(H).all(axis=(1, 2))
        act = np.flatnonzero(~done)
        if not len(act):
            break
        gtol, htol, ftol = noise(fx[act], size)
        newton, curve, lam0, dec = _directions(g[act], H[act], htol)
        gmax = np.max(np.abs(g[act]), axis=1)
        ok = (gmax <= gtol) & (lam0 >= -htol) & (dec <= ftol) & _stencil_not_lower(sv[act], x[act], gtol, ftol)
        done[act[ok]] = verified[act[ok]] = True
        if enough is not None:
            ok |= (lam0 >= -htol) & (dec <= enough)
            done[act[ok]] = True
        keep = ~ok
        act, newton, curve, gtol, htol, ftol, lam0, gmax, dec = (a[keep] for a in (act, newton, curve, gtol, htol,
                                                                                   ftol, lam0, gmax, dec))
        if not len(act):
            break
        xa = x[act]
        reach = np.maximum(1.0, np.abs(xa)).max(axis=1)[:, None, None]
        down = -g[act] / np.maximum(gmax, 1e-300)[:, None]
        trials = np.concatenate([xa[:, None, :] + NEWTON_STEPS[None, :, None] * newton[:, None, :],
                                 xa[:, None, :] + reach * CURVE_STEPS[None, :, None] * curve[:, None, :],
                                 xa[:, None, :] + reach * DESCENT_STEPS[None, :, None] * down[:, None, :]], axis=1)
        full = stencil(trials[:, 1])  # if the full Newton step wins, its derivatives come free
        if lean:
            vals, e = _lean_trials(f, act, trials, full, fx[act], ftol, gmax)
            evals += e
        else:
            vals = f(act, np.concatenate([trials, full], axis=1))
            evals += vals.shape[1]
        tv = np.where(np.isfinite(vals[:, :nT]), vals[:, :nT], np.inf)
        best = np.argmin(tv, axis=1)
        fbest = tv[np.arange(len(act)), best]
        better = fbest < fx[act] - ftol
        # Near the optimum a Newton step lowers f by less than f's rounding; take it when its own
        # gradient (from the speculative stencil) is clearly smaller and f is no higher.
        f_full, g_full, H_full = derivatives(vals[:, nT:], trials[:, 1])
        settle = ~better & (tv[:, 1] <= fx[act] + ftol) & (np.max(np.abs(g_full), axis=1) < 0.5 * gmax)
        best = np.where(settle, 1, best)
        better |= settle
        slow[act] = np.where(better & (fbest > fx[act] - 10 * ftol), slow[act] + 1, 0)
        if (~better | (slow[act] >= SLOW)).any():  # no step helps (or hardly): at the optimum within rounding?
            q = ~better | (slow[act] >= SLOW)
            better &= ~q
            flat = (gmax[q] <= 10 * gtol[q]) | (dec[q] <= 10 * ftol[q])  # the local model gains nothing more
            near = flat & (lam0[q] >= -10 * htol[q])
            near &= _stencil_not_lower(sv[act[q]], x[act[q]], 10 * gtol[q], ftol[q])
            verified[act[q]] = near
            done[act[q]] = True
        mv = np.flatnonzero(better)
        if not len(mv):
            continue
        idx = act[mv]
        x[idx] = trials[mv, best[mv]]
        use_full = best[mv] == 1
        if use_full.any():
            u = mv[use_full]
            sv[act[u]] = vals[u, nT:]
            fx[act[u]], g[act[u]], H[act[u]] = f_full[u], g_full[u], H_full[u]
        redo = idx[~use_full]
        if len(redo):
            pts = stencil(x[redo])
            sv[redo] = f(redo, pts)
            fx[redo], g[redo], H[redo] = derivatives(sv[redo], x[redo])
            evals += pts.shape[1]
    return x, fx, verified, evals, it


def _run_one(f, x: np.ndarray, size: float, lean: bool, enough: float | None):
    """_run for one problem (S = 1, a single fit): the same steps, trial points and tests, on 1-D
    arrays and Python branches. A single fit's step is numpy call overhead, not arithmetic: the
    batch's bookkeeping (which problems are active, done, moved) cost 0.2 ms per step, about as much
    as the evaluations. tests/test_optimizer.py holds the two paths to the same answers."""
    one = np.zeros(1, dtype=int)

    def call(P):
        return f(one, P[None])[0]

    x = x[0].copy()
    sv = call(stencil(x))
    fx, g, H = derivatives(sv, x)
    evals = len(sv)
    nT = len(NEWTON_STEPS) + len(CURVE_STEPS) + len(DESCENT_STEPS)
    verified, slow, it = False, 0, 0
    for it in range(1, MAX_ITER + 1):
        if not (np.isfinite(fx) and np.isfinite(g).all() and np.isfinite(H).all()):
            break
        gtol, htol, ftol = noise(fx, size)
        newton, curve, lam0, dec = _directions(g, H, htol)
        gmax = np.abs(g).max()
        if gmax <= gtol and lam0 >= -htol and dec <= ftol and _stencil_not_lower(sv, x, gtol, ftol):
            verified = True
            break
        if enough is not None and lam0 >= -htol and dec <= enough:
            break
        reach = np.maximum(1.0, np.abs(x)).max()
        down = -g / max(gmax, 1e-300)
        trials = x + np.concatenate([NEWTON_STEPS[:, None] * newton, reach * CURVE_STEPS[:, None] * curve,
                                     reach * DESCENT_STEPS[:, None] * down])
        full = stencil(trials[1])  # if the full Newton step wins, its derivatives come free
        if lean:
            vals, e = _lean_trials(f, one, trials[None], full[None], fx[None], ftol[None], gmax[None])
            vals = vals[0]
        else:
            vals = call(np.concatenate([trials, full]))
            e = len(vals)
        evals += e
        tv = np.where(np.isfinite(vals[:nT]), vals[:nT], np.inf)
        best = int(np.argmin(tv))
        fbest = tv[best]
        better = fbest < fx - ftol
        f_full, g_full, H_full = derivatives(vals[nT:], trials[1])
        if not better and tv[1] <= fx + ftol and np.abs(g_full).max() < 0.5 * gmax:  # settle, as _run
            best, better = 1, True
        slow = slow + 1 if better and fbest > fx - 10 * ftol else 0
        if not better or slow >= SLOW:
            flat = gmax <= 10 * gtol or dec <= 10 * ftol
            verified = bool(flat and lam0 >= -10 * htol and _stencil_not_lower(sv, x, 10 * gtol, ftol))
            it = min(it + 1, MAX_ITER)  # _run counts the pass that finds nothing left to do
            break
        x = trials[best]
        if best == 1:
            sv, fx, g, H = vals[nT:], f_full, g_full, H_full
        else:
            sv = call(stencil(x))
            fx, g, H = derivatives(sv, x)
            evals += len(sv)
    return x[None], np.array([fx]), np.array([verified]), evals, it


def _lean_trials(f, act, trials, full, fx, ftol, gmax):
    """The values of a step's trial points, for costly evaluations: the full Newton step's stencil
    first (its centre is the step itself); where that step neither gains nor settles, the half and
    quarter steps; where those gain nothing either, every other trial point. Near the optimum one
    stencil per step instead of a stencil and every trial point. Returns values laid out as the
    batched call's, inf where not evaluated."""
    nT = trials.shape[1]
    vf = f(act, full)
    vals = np.full((len(act), nT + vf.shape[1]), np.inf)
    vals[:, nT:] = vf
    vals[:, 1] = vf[:, 0]
    g_full = derivatives(vf, trials[:, 1])[1]
    good = (vf[:, 0] < fx - ftol) | ((vf[:, 0] <= fx + ftol) & (np.max(np.abs(g_full), axis=1) < 0.5 * gmax))
    more = np.flatnonzero(~good)
    evals = vf.shape[1]
    if len(more):
        shorter = [2, 3]  # NEWTON_STEPS 1/2 and 1/4
        vals[more[:, None], shorter] = f(act[more], trials[more][:, shorter])
        evals += len(shorter)
        rest = more[np.min(vals[more][:, shorter], axis=1) >= fx[more] - ftol[more]]
        if len(rest):
            others = [i for i in range(nT) if i not in (1, *shorter)]
            vals[rest[:, None], others] = f(act[rest], trials[rest][:, others])
            evals += len(others)
    return vals, evals


def _stencil_not_lower(sv: np.ndarray, x: np.ndarray, gtol: np.ndarray, ftol: np.ndarray) -> np.ndarray:
    """Optimality by value: no stencil point (theta +- h along every axis, +h along every pair) is
    lower than theta by more than the gradient tolerance allows. The gradient and curvature tests
    judge the smooth local model; this one holds the answer to the values themselves."""
    slack = gtol * H_REL * np.maximum(1.0, np.abs(x)).max(axis=-1) * 2 + ftol
    return np.min(sv[..., 1:], axis=-1) >= sv[..., 0] - slack


def minimize_many(f, start: np.ndarray, structure: Structure) -> OptResult:
    """S problems at once. f(idx, thetas (len(idx), B, k)) -> criteria (len(idx), B), +inf where
    undefined; start (S, k) in theta's units."""
    scale = structure.scale
    g = lambda idx, phis: f(idx, phis * scale)  # noqa: E731
    x = np.array(start, dtype=float) / scale
    size = structure.size
    x, fx, ok, evals, iters = _run(g, x, size, structure.lean)
    x = structure.canonical(x)
    zero = np.abs(x[:, structure.diagonal]) < ZERO
    again = np.flatnonzero(zero.any(axis=1))
    if len(again):  # a diagonal at zero: start again elsewhere, keep the best answer
        owner, starts = _restarts(x, again, zero, structure)
        y, fy, ok1, e1, i1 = _run(lambda idx, P: g(owner[idx], P), starts, size, structure.lean)
        evals, iters = evals + e1, iters + i1
        y = structure.canonical(y)
        for s in np.unique(owner):  # the lowest; of answers no lower than it (_not_lower), a verified one
            mine = np.flatnonzero(owner == s)
            xs, fs, oks = np.vstack([x[s], y[mine]]), np.r_[fx[s], fy[mine]], np.r_[ok[s], ok1[mine]]
            fs = np.where(np.isfinite(fs), fs, np.inf)
            near = np.flatnonzero(fs <= fs.min() + _not_lower(fs.min(), size))
            near = near[oks[near]] if oks[near].any() else near
            b = near[np.argmin(fs[near])]
            x[s], fx[s], ok[s] = xs[b], fs[b], oks[b]
    for _ in range(VERIFY_ROUNDS):  # the last word: no point nearby, either way along any axis, is lower
        lower, at, e = _look_around(g, x, fx, size)
        evals += e
        redo = np.flatnonzero(lower)
        if not len(redo):
            break
        y, fy, ok1, e1, i1 = _run(lambda idx, P: g(redo[idx], P), at[redo], size, structure.lean)
        evals, iters = evals + e1, iters + i1
        x[redo], fx[redo], ok[redo] = structure.canonical(y), fy, ok1
    else:
        lower, _, e = _look_around(g, x, fx, size)
        evals += e
        ok &= ~lower
    x, fx = _snap_zeros(g, x, fx, structure)
    return OptResult(x * scale, fx, ok, evals, iters)


def minimize_best_of(f, starts: np.ndarray, structure: Structure) -> OptResult:
    """S problems, each from m starts at once: starts (m, S, k), f as for minimize_many (idx: the
    problems' indices). Each problem keeps its lowest optimum. For criteria that can have distant
    local minima, where every check of optimality, being local, would verify either one."""
    m, S, k = starts.shape
    res = minimize_many(lambda idx, T: f(np.asarray(idx) % S, T), starts.reshape(m * S, k), structure)
    best = np.argmin(np.where(np.isfinite(res.value), res.value, np.inf).reshape(m, S), axis=0)

    def pick(a):
        return a.reshape((m, S) + a.shape[1:])[best, np.arange(S)]

    return OptResult(pick(res.theta), pick(res.value), pick(res.converged), res.evaluations, res.iterations)


def _restarts(x: np.ndarray, rows: np.ndarray, zero: np.ndarray, structure: Structure):
    """Starts for problems that ended on the boundary: the answer with its zero diagonals moved
    inside; lme4's start (each factor the identity); and, with several diagonals, lme4's start with
    each one in turn at zero (another face of the boundary). Small designs can have a boundary
    optimum that is only local, on one face or another. Returns (problem of each start, starts)."""
    d = structure.diagonal
    k = x.shape[1]
    identity = np.zeros(k)
    identity[d] = 1.0
    owner, starts = [], []
    for s in rows:
        inside = x[s].copy()
        inside[d] = np.where(zero[s], 1.0, inside[d])
        cand = [inside, identity]
        if len(d) > 1:
            for j in d:
                face = identity.copy()
                face[j] = 0.0
                cand.append(face)
        owner += [s] * len(cand)
        starts += cand
    return np.array(owner), np.array(starts)


def _look_around(g, x: np.ndarray, fx: np.ndarray, size: float):
    """Move every element of phi both ways by 1e-4 and 1e-2 of max(1, |phi|): lower points (beyond
    rounding) mean the iteration stopped short. Without bounds, a diagonal moved below zero is its
    column with the sign flipped, so both signs of a column at zero are looked at."""
    S, k = x.shape
    E = np.concatenate([np.eye(k), -np.eye(k)])
    offsets = np.concatenate([1e-4 * E, 1e-2 * E])  # (4k, k)
    pts = x[:, None, :] + offsets[None] * np.maximum(1.0, np.abs(x))[:, None, :]
    v = g(np.arange(S), pts)
    v = np.where(np.isfinite(v), v, np.inf)
    best = np.argmin(v, axis=1)
    fbest = v[np.arange(S), best]
    lower = fbest < fx - _not_lower(fx, size)
    return lower, pts[np.arange(S), best], pts.shape[1]


def _not_lower(f, size: float):
    """How much lower than f a value must be to count as lower: the look-around's margin, above the
    noise of the finite-difference tests, so that their answers, equal to it, count as equal."""
    return 1e-7 + 1e-10 * np.maximum(size, np.abs(f))


def _snap_zeros(g, x: np.ndarray, fx: np.ndarray, structure: Structure):
    """Diagonals that ended near zero (|phi| < 0.01) are set to exactly zero when that raises the
    criterion by no more than its rounding: the optimum is then on the boundary, where lme4's bound
    puts it, and a variance of 1e-9 would read as 'not quite zero'. One diagonal at a time."""
    d = structure.diagonal
    for j in d:
        rows = np.flatnonzero((np.abs(x[:, j]) < 100 * ZERO) & (x[:, j] != 0))
        if not len(rows):
            continue
        snapped = x[rows].copy()
        snapped[:, j] = 0.0
        v = g(rows, snapped[:, None, :])[:, 0]
        keep = v <= fx[rows] + 10 * noise(fx[rows], structure.size)[2]
        x[rows[keep]], fx[rows[keep]] = snapped[keep], v[keep]
    return x, fx


def _one_problem(f):
    """f on thetas (B, k) as minimize_many's f(idx, (len(idx), B, k)): every row is this one problem
    (restarts run several starts of it at once)."""
    return lambda idx, T: f(T.reshape(-1, T.shape[-1])).reshape(T.shape[:-1])


def approach(f, start: np.ndarray, structure: Structure, enough: float) -> OptResult:
    """One problem, to within `enough` of its minimum by Newton's own model, unverified: a start
    for another problem (glmer's first stage, whose answer only starts the second), not an answer."""
    x, fx, _, evals, iters = _run(_one_problem(f), np.asarray(start, dtype=float)[None] / structure.scale,
                                  structure.size, structure.lean, enough)
    return OptResult(structure.canonical(x)[0] * structure.scale, float(fx[0]), False, evals, iters)


def minimize(f, start: np.ndarray, structure: Structure) -> OptResult:
    """One problem: f maps thetas (B, k) to values (B,)."""
    res = minimize_many(_one_problem(f), np.asarray(start, dtype=float)[None], structure)
    return OptResult(res.theta[0], float(res.value[0]), bool(res.converged[0]), res.evaluations, res.iterations)
