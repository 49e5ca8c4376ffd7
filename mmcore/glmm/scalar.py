"""PIRLS for the commonest GLMM, one scalar random effect such as (1 | subject), in glmer's second
stage (u only): the groups are independent, so each iteration is a one-dimensional Newton step per
group, and L is diagonal, L_g^2 = 1 + theta^2 sum_g w z^2.

The general solver (pirls.py) gives the same answer; this one does it in a dozen numpy calls per
iteration instead of forty, which is most of the cost of a fit when the optimizer's whole stencil
is evaluated at once (the lesson's ctsib fit, the bootstrap's thousands of refits).
"""
from __future__ import annotations

import numpy as np

from .pirls import HALVINGS, MAX_ITER, PLATEAU, STALL, STEP_TOL, TAIL, Modes


def scalar_modes(system, theta: np.ndarray, Y: np.ndarray, offset: np.ndarray, u: np.ndarray,
                 beta: np.ndarray | None = None) -> Modes:
    """u (P, G) at the mode for thetas (P, 1), responses Y (P, n), offset X beta (P, n); with beta
    (P, p) given as a start (glmer's first stage), beta is solved with u: then offset is 0.

    Each iteration makes one pass over the rows at the new point (eta, log-likelihood, weights and
    working residuals together), so the weights at the final point, hence log|L|^2 at the mode,
    come without an extra pass."""
    fam, trials, codes = system.family, system.trials, system.codes1
    P, n, G = theta.shape[0], system.n, system.G
    z = system.Z1[:, 0]
    ones = bool(np.all(z == 1.0))  # a random intercept: no products with z
    lam = theta[:, 0]
    Y = np.broadcast_to(Y, (P, n))
    sums = system._group_sums
    u = u.copy()
    stage1 = beta is not None
    X = system.X
    beta = beta.copy() if stage1 else np.zeros((P, 0))
    canonical = fam.link in ("logit", "log")

    def at(a, u, b):
        """eta, -2 log p + |u|^2, log p, weights and working residuals at points a."""
        shift = lam[a, None] * u[:, codes]
        eta = offset[a] + (shift if ones else shift * z)
        if stage1:
            eta = eta + b @ X.T
        ll, w, _, wn, rn = fam.state(eta, Y[a], trials)
        return eta, -2 * ll + (u * u).sum(axis=1), ll, w, wn, rn

    eta, pdev, ll, w, wn, rn = at(np.arange(P), u, beta)
    failed = ~np.isfinite(pdev)
    done = failed.copy()
    last = np.full(P, np.inf)
    A = np.ones((P, G))
    tail = TAIL
    for _ in range(MAX_ITER):
        a = np.flatnonzero(~done)
        in_tail = len(a) <= P // 4
        tail -= in_tail
        if not len(a) or tail < 0:  # the last quarter had its chance: far trial points, not modes
            failed[a] = True
            break
        la = lam[a, None]
        A[a] = 1.0 + la * la * (sums(w[a]) if ones else sums(w[a] * z * z))  # lme4's L: IRLS weights
        An = A[a] if canonical else 1.0 + la * la * (sums(wn[a]) if ones else sums(wn[a] * z * z))
        if stage1:
            nu, nbeta = _joint_step(X, sums, la, wn[a], rn[a], eta[a] - offset[a], An, z, ones)
        else:  # Newton step on -log p(y | u) + |u|^2 / 2
            wa = wn[a] if ones else wn[a] * z
            nu, nbeta = u[a] + (la * sums(wa * rn[a]) - u[a]) / An, beta[a]
        shift = la * (nu - u[a])[:, codes]
        step = np.abs(shift if ones else shift * z).max(axis=1)
        if stage1:
            step = np.maximum(step, np.abs((nbeta - beta[a]) @ X.T).max(axis=1))
        step = np.maximum(step, np.abs(nu - u[a]).max(axis=1))
        size = np.maximum(1.0, np.abs(eta[a]).max(axis=1))
        # at the mode: a step at rounding level, or one that no longer shrinks tenfold (Newton's steps
        # square each time until rounding stops them); the weights are those at this point
        slow = step > 0.1 * last[a]
        now = (step <= STEP_TOL * size) | ((step <= STALL * size) & slow)
        last[a] = step
        done[a[now]] = True
        a, nu, nbeta, slow = a[~now], nu[~now], nbeta[~now], slow[~now]
        new = at(a, nu, nbeta)
        # a plateau: the step is not shrinking and the deviance no longer moves (eta pushed past lme4's
        # clamp of mu, quasi-separation); lme4 stops here on its relative-change rule, and so do we
        flat = slow & (np.abs(new[1] - pdev[a]) <= PLATEAU * np.maximum(1.0, np.abs(pdev[a])))
        if flat.any():
            done[a[flat]] = True
            a, nu, nbeta = a[~flat], nu[~flat], nbeta[~flat]
            new = tuple(arr[~flat] for arr in new)
        for halving in range(HALVINGS + 1):  # lme4's step halving, for the points whose deviance rose
            worse = ~(new[1] <= pdev[a] + 1e-10 * np.abs(pdev[a]))
            if not worse.any():
                break
            if halving == HALVINGS or in_tail:  # lme4 errs after 20; in the tail: a far trial point
                failed[a[worse]] = done[a[worse]] = True
                break
            b = a[worse]
            nu[worse] = (nu[worse] + u[b]) / 2
            nbeta[worse] = (nbeta[worse] + beta[b]) / 2
            again = at(b, nu[worse], nbeta[worse])
            for arr, val in zip(new, again):
                arr[worse] = val
        u[a], beta[a] = nu, nbeta
        eta[a], pdev[a], ll[a], w[a], wn[a], rn[a] = new
    L1 = np.sqrt(A)[:, None, None, :]
    logdet = np.log(A).sum(axis=1)
    return Modes(u[:, None, :], np.zeros((P, 0)), beta, eta, logdet, L1, ll, done & ~failed)


def _joint_step(X, sums, lam, w, res, work_fixed, A, z, ones):
    """One PWRSS solve for (u, beta) together (nAGQ = 0): eliminate each group's u, solve the
    p x p Schur complement for beta, back-substitute u. work_fixed = eta - offset."""
    work = work_fixed + res  # the working response
    wz = w if ones else w * z
    wX = wz[:, None, :] * X.T  # (P, p, n)
    C = lam[:, None, :] * sums(wX)  # (P, p, G): lambda Z_g' W X
    b = lam * sums(wz * work)  # (P, G)
    CA = C / A[:, None, :]
    XW = wX if ones else w[:, None, :] * X.T
    S = XW @ X - CA @ C.transpose(0, 2, 1)
    r = (XW @ work[:, :, None])[..., 0] - (CA @ b[:, :, None])[..., 0]
    beta = np.linalg.solve(S, r[..., None])[..., 0]
    return (b - (beta[:, None, :] @ C)[:, 0]) / A, beta
