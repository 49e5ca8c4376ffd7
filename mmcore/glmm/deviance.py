"""glmer's objective: the Laplace approximation and adaptive Gauss-Hermite quadrature of the
deviance, -2 log L, for a batch of parameter points (the optimizer's stencil) at once.

lme4 (src/external.cpp, glmerLaplace and glmerAGQ):

- nAGQ = 0 (glmer's first stage): parameters theta; beta is found by PIRLS with u.
  Objective log|L|^2 + |u|^2 - 2 log p(y | u, beta).
- nAGQ = 1 (Laplace): parameters (theta, beta); PIRLS finds u only. The same objective.
- nAGQ > 1 (one scalar random effect): around each group's mode u_g, with sd_g = 1 / L_gg,
  sum over the nodes z_k of w_k exp(-(devc_g(u_g + z_k sd_g) - devc_g(u_g)) / 2 + z_k^2 / 2),
  devc_g(u) = u^2 - 2 log p(y_g | u); objective sum(devc_g(u_g)) + log|L|^2 - 2 sum(log mult_g).

lme4 builds devc from deviance residuals, which leaves out the saturated model's log-likelihood at
nAGQ > 1 (a constant: for cbpp -50.005 against -92.027 at the Laplace approximation). Here every
objective is the full -2 log-likelihood, constants included, so Laplace and quadrature fits are
comparable and anova between them means something.
"""
from __future__ import annotations

import numpy as np

from .pirls import GlmmSystem, Modes
from .scalar import scalar_modes

MAX_NAGQ = 25  # lme4 1.1-31 allows nAGQ up to 25


def gauss_hermite(nagq: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for the integral against the standard normal density (lme4's GHrule)."""
    z, w = np.polynomial.hermite_e.hermegauss(nagq)
    return z, w / w.sum()


class GlmmDeviance:
    """The objective of one GLMM at nAGQ = 0, 1 or more, for S responses (bootstrap replicates)."""

    def __init__(self, system: GlmmSystem, nagq: int, Y: np.ndarray | None = None):
        """Y: S responses (S, rows) in the data's rows (default: the model's own response)."""
        self.system, self.nagq = system, nagq
        self.k, self.p = len(system.layout.start), system.p
        md = system.md
        rows = np.atleast_2d(md.y if Y is None else Y)
        trials = md.trials if md.trials is not None else np.ones(rows.shape[1])
        self.constant = np.array([system.family.constant(y, trials) for y in rows])  # from the rows, not cells
        self.Y = system.aggregate(rows)  # (S, cells)
        S = len(self.Y)
        self.warm_u1 = np.zeros((S, system.q1, system.G))
        self.warm_u2 = np.zeros((S, system.m))
        self.warm_beta = np.zeros((S, self.p))
        # one scalar random effect, second stage: the mode moves with the parameters as du/dparams
        # (implicit differentiation at the stored mode), so a stencil point starts ~1e-8 from its mode
        self.predicts = system.q1 == 1 and system.m == 0
        self.warm_at = np.full((S, self.dim), np.nan)
        self.warm_slope = np.zeros((S, system.G, self.dim))
        self.warm_beta_slope = np.zeros((S, self.p, self.dim))  # nAGQ = 0: beta moves with theta too
        if nagq > 1:
            self.nodes, self.weights = gauss_hermite(nagq)

    @property
    def dim(self) -> int:
        return self.k if self.nagq == 0 else self.k + self.p

    def set_warm(self, beta: np.ndarray) -> None:
        self.warm_beta[:] = beta

    def evaluate(self, params: np.ndarray) -> np.ndarray:
        """One response: params (B, dim) -> objective (B,)."""
        return self.evaluate_some(np.zeros(1, dtype=int), params[None])[0]

    def evaluate_some(self, idx: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Responses idx, each at its own B points: params (len(idx), B, dim) -> (len(idx), B)."""
        S, B, _ = params.shape
        flat = params.reshape(S * B, -1)
        rep = np.repeat(idx, B)
        with np.errstate(all="ignore"):
            try:
                modes = self.modes(flat, rep)
                values = self.value(flat, rep, modes)
            except np.linalg.LinAlgError:
                values = np.array([self._one(flat[i : i + 1], rep[i : i + 1]) for i in range(len(flat))])
                modes = None
        values = np.where(np.isfinite(values), values, np.inf).reshape(S, B)
        if modes is not None:
            self._remember(idx, values, modes, flat)
        return values

    def _one(self, params, rep) -> float:
        try:
            return float(self.value(params, rep, self.modes(params, rep))[0])
        except np.linalg.LinAlgError:
            return np.inf

    def modes(self, params: np.ndarray, rep: np.ndarray) -> Modes:
        """PIRLS at each point (P, dim) for the responses rep (P,), from the warm starts."""
        sys = self.system
        theta = params[:, : self.k]
        u1, u2 = self.warm_u1[rep].copy(), self.warm_u2[rep].copy()
        if self.nagq == 0:
            zero = np.zeros((len(rep), sys.n))
            if self.predicts:
                move = params - self.warm_at[rep]
                move[np.isnan(move)] = 0.0  # no mode stored yet: start from the stored u as it is
                u = u1[:, 0] + np.einsum("pgd,pd->pg", self.warm_slope[rep], move)
                beta = self.warm_beta[rep] + np.einsum("pjd,pd->pj", self.warm_beta_slope[rep], move)
                return scalar_modes(sys, theta, self._responses(rep), zero, u, beta)
            return sys.modes(theta, self.Y[rep], zero, u1, u2, self.warm_beta[rep])
        offset = params[:, self.k :] @ sys.X.T
        if self.predicts:  # one scalar random effect: group by group, from the predicted mode
            move = params - self.warm_at[rep]
            move[np.isnan(move)] = 0.0  # no mode stored yet: start from the stored u as it is
            u = u1[:, 0] + np.einsum("pgd,pd->pg", self.warm_slope[rep], move)
            return scalar_modes(sys, theta, self._responses(rep), offset, u, nagq=self.nagq)
        return sys.modes(theta, self.Y[rep], offset, u1, u2)

    def _responses(self, rep: np.ndarray) -> np.ndarray:
        """The responses of points rep: one row (n,) when there is one response, else (P, n)."""
        return self.Y[0] if len(self.Y) == 1 else self.Y[rep]

    def value(self, params: np.ndarray, rep: np.ndarray, modes: Modes) -> np.ndarray:
        penalty = (modes.u1**2).sum(axis=(1, 2)) + (modes.u2**2).sum(axis=1)
        laplace = modes.logdet + penalty - 2 * (modes.loglik + self.constant[rep])
        if self.nagq <= 1:
            return np.where(modes.converged, laplace, np.inf)
        return np.where(modes.converged, self._quadrature(params, rep, modes), np.inf)

    def _quadrature(self, params: np.ndarray, rep: np.ndarray, modes: Modes) -> np.ndarray:
        sys, fam = self.system, self.system.family
        u = modes.u1[:, 0]  # (P, G)
        sd = 1.0 / modes.L1[:, 0, 0]  # (P, G)
        Y, z = self.Y[rep], self.nodes[None, :, None]
        ll0 = sys._group_sums(fam.loglik(modes.eta, Y, sys.trials))  # (P, G)
        fast = np.zeros(len(u), dtype=bool)
        if self._intercept_only and fam.link in ("logit", "log"):
            fast = np.abs(modes.eta).max(axis=1) < 30  # no row near lme4's clamp of mu at the mode
        gain = np.empty((len(u), len(self.nodes), sys.G))
        if fast.any():
            gain[fast] = self._gain_intercept(params[fast, 0, None] * sd[fast], modes.eta[fast], Y[fast])
        if not fast.all():
            slow = ~fast
            V1, _ = sys.columns(params[slow, : self.k])  # (P, 1, n)
            scale = V1[:, 0] * sd[slow][:, sys.codes1]  # (P, n): the move of eta per unit of z
            eta_k = modes.eta[slow, None, :] + z * scale[:, None, :]  # (P, K, n)
            gain[slow] = sys._group_sums(fam.loglik(eta_k, Y[slow, None, :], sys.trials)) - ll0[slow, None, :]
        uk = u[:, None, :] + z * sd[:, None, :]
        delta = (uk**2 - u[:, None, :] ** 2) - 2 * gain  # devc_k - devc_0
        mult = np.einsum("k,pkg->pg", self.weights, np.exp(-0.5 * delta + 0.5 * z**2))
        devc0 = u**2 - 2 * ll0
        return devc0.sum(axis=1) + modes.logdet - 2 * np.log(mult).sum(axis=1) - 2 * self.constant[rep]

    @property
    def _intercept_only(self) -> bool:
        return bool(np.all(self.system.Z1 == 1.0))

    def _gain_intercept(self, step: np.ndarray, eta: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """log p(y_g | u + z sd) - log p(y_g | u) for a random intercept, all nodes: eta moves by the
        same delta = lambda z sd in every row of a group. Poisson: delta Y_g - (e^delta - 1) M_g, no
        pass over the rows; logit: delta K_g - sum n log(1 + mu (e^delta - 1)), one log per row and
        node instead of three transcendentals. (lme4 clamps mu at eps beyond |eta| = 36; rows pushed
        there by a far node change that node's share of the integral by less than 1e-14.)"""
        sys = self.system
        delta = self.nodes[None, :, None] * step[:, None, :]  # (P, K, G)
        k = sys._group_sums(sys.trials * Y)  # successes or counts per group
        if sys.family.link == "log":
            m = sys._group_sums(sys.trials * np.exp(eta))
            return delta * k[:, None, :] - np.expm1(delta) * m[:, None, :]
        mu = 1.0 / (1.0 + np.exp(-eta))
        # rows first, (n, P, K): every step is a pass over long contiguous rows, and the sums within
        # groups add whole rows (four times faster than groups on the last axis)
        spread = np.repeat(np.expm1(delta).transpose(2, 0, 1), sys.counts, axis=0)  # (n, P, K)
        spread *= mu.T[:, :, None]
        np.log1p(spread, out=spread)
        if not sys.all_single:
            spread *= sys.trials[:, None, None]
        return delta * k[:, None, :] - np.add.reduceat(spread, sys.starts, axis=0).transpose(1, 2, 0)

    def _remember(self, idx: np.ndarray, values: np.ndarray, modes: Modes, params: np.ndarray) -> None:
        """Start each response's next PIRLS from the mode at its best point of this batch."""
        S, B = values.shape
        best = np.argmin(values, axis=1)
        ok = np.isfinite(values[np.arange(S), best])
        pick = (np.arange(S) * B + best)[ok]
        self.warm_u1[idx[ok]] = modes.u1[pick]
        self.warm_u2[idx[ok]] = modes.u2[pick]
        if self.nagq == 0:
            self.warm_beta[idx[ok]] = modes.beta[pick]
        if self.predicts and len(pick):
            self.warm_at[idx[ok]] = params[pick]
            if self.nagq == 0:
                du, db = self._slope_joint(params[pick], idx[ok], modes.u1[pick, 0], modes.eta[pick])
                self.warm_slope[idx[ok]], self.warm_beta_slope[idx[ok]] = du, db
            else:
                self.warm_slope[idx[ok]] = self._slope(params[pick], idx[ok], modes.u1[pick, 0], modes.eta[pick])

    def _slope_joint(self, params, idx, u, eta):
        """nAGQ = 0: d(u, beta)/dlambda from the joint stationarity conditions
        [A C'; C X'WX] [du; dbeta] = [sum_g z w r - lambda u sum_g w z^2; -sum x w z u], C = lambda sum_g w z x."""
        sys = self.system
        _, _, _, w, res, _ = sys.family.state(eta, self.Y[idx], sys.trials)
        z, lam = sys.Z1[:, 0], params[:, :1]
        wz = w * z
        wzz = sys._group_sums(wz * z)
        A = 1.0 + lam * lam * wzz  # (P, G)
        C = lam[:, :, None] * sys._group_sums(wz[:, None, :] * sys.X.T)  # (P, p, G)
        ru = sys._group_sums(wz * res) - lam * u * wzz
        rb = -((wz * u[:, sys.codes1]) @ sys.X)  # (P, p)
        CA = C / A[:, None, :]
        S = (w[:, None, :] * sys.X.T) @ sys.X - CA @ C.transpose(0, 2, 1)
        db = np.linalg.solve(S, (rb - (CA @ ru[:, :, None])[..., 0])[..., None])[..., 0]
        du = (ru - (db[:, None, :] @ C)[:, 0]) / A
        return du[:, :, None], db[:, :, None]

    def _slope(self, params, idx, u, eta) -> np.ndarray:
        """du/d(theta, beta) at modes u (P, G): from lambda sum_g z w r - u = 0 (r the working
        residual), du = A^-1 (sum_g z w r - lambda u sum_g w z^2) dlambda - A^-1 lambda sum_g w z x' dbeta."""
        sys = self.system
        _, _, _, w, res, _ = sys.family.state(eta, self.Y[idx], sys.trials)
        z, lam = sys.Z1[:, 0], params[:, :1]
        wz = w * z
        wzz = sys._group_sums(wz * z)
        A = 1.0 + lam * lam * wzz
        dlam = (sys._group_sums(wz * res) - lam * u * wzz) / A
        dbeta = -lam[:, :, None] * sys._group_sums(wz[:, None, :] * sys.X.T).transpose(0, 2, 1) / A[:, :, None]
        return np.concatenate([dlam[:, :, None], dbeta], axis=2)
