"""PIRLS for the commonest GLMM, one scalar random effect such as (1 | subject), in glmer's second
stage (u only): the groups are independent, so each iteration is a one-dimensional Newton step per
group, and L is diagonal, L_g^2 = 1 + theta^2 sum_g w z^2.

The general solver (pirls.py) gives the same answer; this one does it in a dozen numpy calls per
iteration instead of forty, which is most of the cost of a fit when the optimizer's whole stencil
is evaluated at once (the lesson's ctsib fit, the bootstrap's thousands of refits).
"""
from __future__ import annotations

import numpy as np

from .pirls import HALVINGS, MAX_ITER, PLATEAU, STALL, STEP_TOL, TAIL, Modes, shorten

ACCEPT = 1e-6  # a Newton step this small (relative): the mode's objective follows to ~1e-12
QUADRATURE_NODES = 20  # from this many nodes on:
QUADRATURE_STOP = 1e-6  # quadrature: nodes centred this close to the mode give the same integral (to 1e-12)


def scalar_modes(system, theta: np.ndarray, Y: np.ndarray, offset: np.ndarray, u: np.ndarray,
                 beta: np.ndarray | None = None, nagq: int = 1) -> Modes:
    """u (P, G) at the mode for thetas (P, 1), responses Y (P, n), offset X beta (P, n); with beta
    (P, p) given as a start (glmer's first stage), beta is solved with u: then offset is 0.

    Each iteration makes one pass over the rows at the new point (eta, log-likelihood, weights and
    working residuals together), so the weights at the final point, hence log|L|^2 at the mode,
    come without an extra pass. And the last pass is spared (canonical links): once Newton's step s
    is below 1e-6, the objective at the mode u + s follows from the pass at u to O(s^2) ~ 1e-12
    (the deviance falls by half the step times the gradient, log|L|^2 moves with dW/deta). With
    quadrature (nAGQ >= 20) the nodes may sit anywhere that close to the mode: the integral does not
    depend on where they are centred (to 1e-12 at 25 nodes, 4e-6 at 2), so PIRLS stops there without
    the correction; with fewer nodes it goes on to the mode."""
    fam, trials, codes = system.family, system.trials, system.codes1
    P, G = theta.shape[0], system.G
    z = system.Z1[:, 0]
    ones = bool(np.all(z == 1.0))  # a random intercept: no products with z
    lam = theta[:, 0]
    one_y = Y.ndim == 1  # one response for every point: broadcast it, never copy it per point
    trials = None if system.all_single else trials
    sums = system._group_sums
    u = u.copy()
    stage1 = beta is not None
    X = system.X
    beta = beta.copy() if stage1 else np.zeros((P, 0))
    canonical = fam.link in ("logit", "log")
    quadrature = nagq > 1

    def at(a, u, b):
        """eta, -2 log p + |u|^2, log p, weights, Newton weights and residuals, mu at points a."""
        whole = len(a) == P  # every point: views, not copies
        shift = (lam[:, None] if whole else lam[a, None]) * u[:, codes]
        eta = shift if ones else shift * z
        if stage1:
            eta += b @ X.T
        else:
            eta += offset if whole else offset[a]
        ll, w, _, wn, rn, mu = fam.state(eta, Y if one_y else Y[a], trials)
        return eta, -2 * ll + (u * u).sum(axis=1), ll, w, wn, rn, mu

    eta, pdev, ll, w, wn, rn, mu = at(np.arange(P), u, beta)
    correction = np.zeros(P)  # log|L|^2 at the mode minus log|L|^2 where the last pass was
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
            f = shorten(np.abs((nbeta - beta[a]) @ X.T).max(axis=1))
            if (f < 1).any():  # pirls.BETA_STEP: a step that far is rounding noise (quasi-separation)
                nu, nbeta = u[a] + f[:, None] * (nu - u[a]), beta[a] + f[:, None] * (nbeta - beta[a])
        else:  # Newton step on -log p(y | u) + |u|^2 / 2
            wa = wn[a] if ones else wn[a] * z
            nu, nbeta = u[a] + (la * sums(wa * rn[a]) - u[a]) / An, beta[a]
        moved = np.abs(nu - u[a])
        if ones and not stage1:  # eta moves by lambda (nu - u) in every row of a group
            step = np.maximum(np.abs(la[:, 0]), 1.0) * moved.max(axis=1)
        else:
            shift = la * (nu - u[a])[:, codes]
            step = np.abs(shift if ones else shift * z).max(axis=1)
            if stage1:
                step = np.maximum(step, np.abs((nbeta - beta[a]) @ X.T).max(axis=1))
            step = np.maximum(step, moved.max(axis=1))
        size = np.maximum(1.0, np.abs(eta[a]).max(axis=1))
        # at the mode: a step at rounding level, or one that no longer shrinks tenfold (Newton's steps
        # square each time until rounding stops them); the weights are those at this point
        slow = step > 0.1 * last[a]
        now = (step <= STEP_TOL * size) | ((step <= STALL * size) & slow)
        if canonical:  # close enough: the mode's objective from this pass (see the docstring)
            close = ~now & (step <= (QUADRATURE_STOP * (nagq >= QUADRATURE_NODES) if quadrature else ACCEPT) * size)
            if close.any() and not quadrature:
                b, c = a[close], close
                d_eta = la[c] * (nu[c] - u[b])[:, codes] * (1.0 if ones else z)
                if stage1:
                    d_eta = d_eta + (nbeta[c] - beta[b]) @ X.T
                gain = (w[b] * rn[b] * d_eta).sum(axis=1) - (u[b] * (nu[c] - u[b])).sum(axis=1)
                zz = 1.0 if ones else z * z
                dw = fam.weight_slope(w[b], mu[b])
                correction[b] = (la[c] ** 2 * sums(dw * zz * d_eta) / A[b]).sum(axis=1)
                pdev[b] -= gain
                u[b], beta[b], eta[b] = nu[c], nbeta[c], eta[b] + d_eta
                ll[b] = ((u[b] ** 2).sum(axis=1) - pdev[b]) / 2
            now |= close
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
        eta[a], pdev[a], ll[a], w[a], wn[a], rn[a] = new[:6]
        if new[6] is not None:
            mu[a] = new[6]
    L1 = np.sqrt(A)[:, None, None, :]
    logdet = np.log(A).sum(axis=1) + correction
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
