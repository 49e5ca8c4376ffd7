"""The profiled criterion of nlme's lme with AR(1) or continuous-time AR(1) errors within a group.

The model: y_g = X_g beta + Z_g b_g + e_g, b_g ~ N(0, sigma^2 Lambda Lambda'), e_g ~ N(0, sigma^2 C_g(phi)).
Whitening each group by C_g^-1/2 gives an ordinary linear mixed model with independent errors; its
log-likelihood is the whitened model's minus (1/2) sum_g log|C_g| (the Jacobian), for ML and for REML
alike. So the criterion at (theta, phi) is lme4's profiled criterion (deviance.py: the same PLS algebra,
run on whitened cross-products) plus sum_g log|C_g|. The whitened cross-products Z'C^-1Z, Z'C^-1[X y]
(per group) and [X y]'C^-1[X y] are weighted sums of sums made once from the data (correlation.py),
so an evaluation costs what an lme4 evaluation costs, plus a few small weighted sums.

Parameters: theta (lme4's relative covariance factor; one grouping factor, one or more terms on it, as
`(s || Mare)`) followed by u, phi on its unconstrained scale (correlation.py). Batched as deviance.py:
`evaluate` takes (..., k + 1) and returns (...); `with_responses` fits many responses at once.
"""
from __future__ import annotations

import copy

import numpy as np

from ..errors import MixedModelError
from ..model.design import ModelData
from .correlation import WithinGroupCorrelation
from .deviance import Factor, ProfiledDeviance, block1_factor, fixef_from_factor
from .optimize import Structure, minimize_many


class CorrelatedDeviance:
    """d(theta, u) for one model and data; `solve` gives everything a fit reports."""

    def __init__(self, md: ModelData, reml: bool, kind: str | None, times: np.ndarray | None, time_name: str = ""):
        groups = list(dict.fromkeys(t.group for t in md.terms))
        if len(groups) > 1:
            raise MixedModelError(
                f"Correlated errors are modelled within one grouping factor, and this model has random effects for "
                f"{' and '.join(repr(g) for g in groups)}. Keep the random effects of one factor, e.g. "
                f"(1 | {groups[0]}).")
        self.md, self.reml, self.kind = md, reml, kind
        self.lmm = ProfiledDeviance(md, reml, response=False)  # the PLS algebra, theta's layout and scale
        self.n, self.p, self.q = self.lmm.n, self.lmm.p, self.lmm.q1
        self.k = len(self.lmm.layout.start)
        self.correlation = WithinGroupCorrelation(kind, self.lmm.codes1, self.lmm.G, times, time_name)
        self.set_responses(md.y[None])

    # -- data ----------------------------------------------------------------------------------
    def set_responses(self, Y: np.ndarray) -> None:
        """The sums of the data's cross-products for responses Y (S, n): y shifted by its least-squares
        fit on X first, as deviance.py does, so that r^2 loses no digits to cancellation."""
        X = self.md.X
        if self.p:
            self.shift = np.linalg.lstsq(X, Y.T, rcond=None)[0].T  # (S, p)
            Ys = Y - self.shift @ X.T
        else:
            self.shift, Ys = np.zeros((len(Y), 0)), Y
        n = len(X)
        R = np.concatenate([np.broadcast_to(self.lmm.Z1, (len(Y), n, self.q)), np.broadcast_to(X, (len(Y),) + X.shape),
                            Ys[:, :, None]], axis=2)  # (S, n, q + p + 1): [Z X y]
        by_pair, by_class = self.correlation.sums(R, self.q)
        self.z_sums = np.ascontiguousarray(by_pair)  # (S, 3, pairs, q, q + p + 1)
        self.set_layouts(self.correlation.group_class_sums(self.z_sums))
        self.xy_sums = np.ascontiguousarray(by_class)  # (S, 3, classes, p + 1, p + 1)
        self.S = len(Y)

    def set_layouts(self, dense: np.ndarray | None) -> None:
        """The per-group sums in the groups-last layouts deviance.py's algebra takes: Z'C^-1Z as
        (S, 3 classes, q q, G) and Z'C^-1[X y] as (S, 3 classes, p + 1, q, G) from the dense layout;
        without it (many distinct gaps), pair by pair: (S, 3, q q, pairs + 1) and (S, 3, p + 1, q, pairs + 1)."""
        q = self.q
        self.z_dense = dense
        if dense is not None:
            S, K = dense.shape[:2]
            self.zz = np.ascontiguousarray(dense[:, :, :, :q]).reshape(S, K, q * q, -1)
            self.zr = np.ascontiguousarray(dense[:, :, :, q:].transpose(0, 1, 3, 2, 4))
        else:
            z = self.z_sums  # (S, 3, pairs, q, q + p + 1), and a pair of zeros that pads the groups
            z = np.concatenate([z, np.zeros(z.shape[:2] + (1,) + z.shape[3:])], axis=2)
            S, _, P = z.shape[:3]
            self.zz = np.ascontiguousarray(z[..., :q].transpose(0, 1, 3, 4, 2)).reshape(S, 3, q * q, P)
            self.zr = np.ascontiguousarray(z[..., q:].transpose(0, 1, 4, 3, 2))

    def with_responses(self, Y: np.ndarray) -> CorrelatedDeviance:
        """The same model and design for S responses at once: evaluate_some(idx, (len(idx), B, k + 1))."""
        other = copy.copy(self)
        other.set_responses(Y)
        return other

    # -- the optimizer's view ----------------------------------------------------------------------
    def structure(self) -> Structure:
        """theta's structure (deviance.py) with u appended: scale 1, not a diagonal, in no column."""
        s = self.lmm.structure()
        extra = self.correlation.n_params
        return Structure(s.diagonal, s.columns, np.r_[s.scale, np.ones(extra)], s.size)

    def start(self) -> np.ndarray:
        """theta from the groups' own least-squares fits (moments), where they allow it, else lme4's
        identity; phi at correlation.start(). A start near the optimum saves Newton steps: BodyWeight's
        random intercept is 8 residual SDs, far from lme4's start of 1."""
        theta = self.moment_theta()
        if not self.correlation.n_params:
            return theta
        grid = self.correlation.start_grid()  # phi: the best of a coarse grid at theta, one batched call
        values = self.evaluate(np.column_stack([np.tile(theta, (len(grid), 1)), grid]))
        best = int(np.argmin(values)) if np.isfinite(values).any() else 0
        return np.r_[theta, grid[best]]

    def moment_theta(self) -> np.ndarray:
        """Each group's coefficients b_g on its own Z (after the fixed effects' least-squares fit),
        their covariance less the average sampling covariance: D0 (Swamy's estimator, errors taken
        as independent); theta0 = chol(D0) / sigma0 in lme4's layout. lme4's start if fewer than
        three groups can be fitted alone or D0 has no positive part."""
        lmm, q = self.lmm, self.q

        def fallback():  # lme4's start, made only when it is needed (it costs a moment estimate itself)
            lmm.set_response(self.md.y)
            return lmm.start()

        A = lmm.A11  # (G, q, q) Z'Z per group
        ys = self.md.y - self.md.X @ self.shift[0]  # y less its least-squares fit on X
        zy = lmm._group_sums(lmm.Z1 * ys[:, None])  # (G, q): Z'y per group
        det = np.linalg.det(A)
        scale = np.einsum("gii->g", A) ** q
        ok = det > 1e-8 * np.maximum(scale, 1e-300)
        G_ok = int(ok.sum())
        rss = float(ys @ ys)
        dof = self.n - G_ok * q - self.p
        if G_ok < 3 or dof < 1:
            return fallback()
        Ainv = np.linalg.inv(A[ok])
        b = np.einsum("gij,gj->gi", Ainv, zy[ok])
        sigma2 = (rss - np.einsum("gi,gi->", b, zy[ok])) / dof
        if not sigma2 > 0:
            return fallback()
        D0 = np.cov(b, rowvar=False).reshape(q, q) - sigma2 * Ainv.mean(axis=0)
        r, c, t = lmm.t1_map
        same_term = np.zeros((q, q), dtype=bool)
        same_term[r, c] = same_term[c, r] = True  # covariances the model has (none between || terms)
        D0 = np.where(same_term, D0, 0.0)
        w, V = np.linalg.eigh(D0)
        if not np.isfinite(w).all() or w.max() <= 0:
            return fallback()
        D0 = (V * np.maximum(w, 1e-3 * w.max())) @ V.T
        T = np.linalg.cholesky(D0 / sigma2)
        theta = np.zeros(self.k)
        theta[t] = T[r, c]
        return theta if np.isfinite(theta).all() else fallback()

    # -- evaluation --------------------------------------------------------------------------------
    def _whitened(self, params: np.ndarray, sub: slice | np.ndarray = slice(None)):
        """The whitened cross-products at params (S, B, k + 1), in deviance.py's layouts: Z'C^-1Z
        (S, B, q q, G), Z'C^-1[X y] (S, B, p + 1, q, G), [X y]'C^-1[X y] (S, B, p + 1, p + 1); and
        sum_g log|C_g| (S, B)."""
        cor = self.correlation
        u = params[..., self.k] if cor.n_params else np.zeros(params.shape[:-1])
        w, logdet = cor.weights(u)  # (S, B, 3, classes)
        combine = cor.combine_dense if self.z_dense is not None else cor.combine_pairs
        return (combine(w, self.zz[sub]), combine(w, self.zr[sub]), cor.combine_classes(w, self.xy_sums[sub]),
                logdet)

    def _factor(self, params: np.ndarray, sub: slice | np.ndarray = slice(None)):
        """deviance.py's blocked factor (one grouping factor: block 1 only) at every point of params
        (S, B, k + 1), each with its own whitened cross-products, flattened to K = S B points; and
        sum_g log|C_g| (S, B). Raises LinAlgError where R_X is not positive definite."""
        A11, Zxy, XX, logdet = self._whitened(params, sub)
        K = int(np.prod(params.shape[:-1]))
        T1, L1, Wxy, Dxx = block1_factor(params[..., : self.k].reshape(K, self.k), self.lmm.t1_map, self.q,
                                         A11.reshape((K,) + A11.shape[-2:]), Zxy.reshape((K,) + Zxy.shape[-3:]),
                                         XX.reshape((K,) + XX.shape[-2:]))
        return Factor(T1, L1, None, Wxy, np.zeros(K), None, None, np.linalg.cholesky(Dxx)), logdet

    def evaluate_some(self, idx: np.ndarray | slice, params: np.ndarray) -> np.ndarray:
        """Responses idx, each at its own B points: params (len(idx), B, k + 1) -> (len(idx), B)."""
        if not isinstance(idx, slice) and len(idx) == self.S and np.array_equal(idx, np.arange(self.S)):
            idx = slice(None)  # all responses: a view of the sums, not a copy
        try:
            f, logdet = self._factor(params, idx)
            out = self.lmm._criterion(f).reshape(params.shape[:-1]) + logdet
        except np.linalg.LinAlgError:  # some point in the batch: find which, one by one
            rows = np.arange(self.S)[idx]
            out = np.array([[self._one(i, point) for point in points] for i, points in zip(rows, params)])
        return np.where(np.isfinite(out), out, np.inf)

    def _one(self, i: int, point: np.ndarray) -> float:
        try:
            f, logdet = self._factor(point[None, None], slice(i, i + 1))
            return float(self.lmm._criterion(f)[0] + logdet[0, 0])
        except np.linalg.LinAlgError:
            return np.inf

    def evaluate(self, params: np.ndarray) -> np.ndarray:
        """The criterion (ML deviance or REML criterion, -2 log-likelihood) at params (..., k + 1),
        for the first response."""
        params = np.atleast_2d(params)
        lead = params.shape[:-1]
        flat = params.reshape(1, -1, params.shape[-1])
        return self.evaluate_some(slice(0, 1), flat).reshape(lead)

    # -- the solution --------------------------------------------------------------------------------
    def solve(self, params: np.ndarray) -> dict:
        """Everything a fit reports at params (first response): deviance.py's solution on the whitened
        data (beta, vcov, sigma, BLUPs and their conditional variances, fitted values on the data's
        scale), the criterion with sum log|C_g|, and phi."""
        params = np.asarray(params, dtype=float)
        A11, Zxy, XX, logdet = self._whitened(params[None, None], slice(0, 1))
        lmm = copy.copy(self.lmm)  # the LMM algebra on the whitened cross-products
        lmm.A11_cols, lmm.Z1tXy_cols, lmm.XytXy = A11[0, 0], Zxy[0, 0], XX[0, 0]
        lmm.Z2tXy = np.zeros((0, self.p + 1))  # one grouping factor: no rest
        lmm.beta_shift = self.shift[:1]
        sol = lmm.solve(params[: self.k])
        sol["criterion"] += float(logdet[0, 0])
        sol["logdet_c"] = float(logdet[0, 0])
        u = params[self.k] if self.correlation.n_params else None
        sol["phi"] = float(self.correlation.phi(u)) if u is not None else 0.0
        sol["normalized"] = self.correlation.whiten(self.md.y - sol["fitted"], u if u is not None else 0.0) / sol["sigma"]
        return sol

    def estimates_many(self, params: np.ndarray) -> dict:
        """beta, their standard errors and sigma for every response at its own params (S, k + 1):
        the batched summary a simulation study needs."""
        Ld = self._factor(params[:, None, :])[0].Lx  # (S, p + 1, p + 1): R_X' and the response row
        p, n = self.p, self.n
        sigma2 = Ld[:, -1, -1] ** 2 / (n - p if self.reml else n)
        Lbb = Ld[:, :p, :p]
        beta = fixef_from_factor(Ld) + self.shift
        Rinv = np.linalg.solve(Lbb, np.broadcast_to(np.eye(p), Lbb.shape))
        se = np.sqrt(sigma2[:, None] * np.einsum("sij,sij->sj", Rinv, Rinv))
        return dict(beta=beta, se=se, sigma=np.sqrt(sigma2))



def fit_many(dev: CorrelatedDeviance, Y: np.ndarray, chunk: int = 200, progress=None) -> dict:
    """Fit dev's model to each row of Y (S x n) together (optimize.minimize_many: one Newton
    iteration for all replicates per numpy call): params, criterion, converged, beta, se, sigma, phi
    per replicate. progress(done, total) after each chunk."""
    S, parts = len(Y), []
    for lo in range(0, S, chunk):
        block = dev.with_responses(Y[lo : lo + chunk])
        start = np.tile(dev.start(), (block.S, 1))
        with np.errstate(all="ignore"):  # trial points where the criterion is undefined give inf, handled
            opt = minimize_many(block.evaluate_some, start, dev.structure())
            est = block.estimates_many(opt.theta)
        phi = dev.correlation.phi(opt.theta[:, dev.k]) if dev.correlation.n_params else np.zeros(block.S)
        parts.append(dict(params=opt.theta, criterion=opt.value, converged=opt.converged, phi=phi, **est))
        if progress is not None:
            progress(min(lo + chunk, S), S)
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
