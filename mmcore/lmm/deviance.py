"""The profiled deviance d(theta) of lme4's penalized least squares, and the solution at a theta.

Why our own code and not statsmodels: lme4's exact criterion (profiled over beta and sigma, the
relative covariance factor theta as parameter) at a cost per evaluation that does not grow with n.

Structure (MixedModels.jl's blocked Cholesky): the grouping factor with the most random effects is
"block 1": its Z'Z is block diagonal, G blocks of q1 x q1, factored as one batched Cholesky. The
other factors (nested, crossed; usually few effects) form a small dense block which, with X and y,
is eliminated into one dense (m + p + 1) square matrix. Its Cholesky holds everything: the rest of
log|L|^2, R_X (for log|R_X|^2 and vcov(beta)), and in its last diagonal entry sqrt(r^2).

All cross-products are made once from the data; after that an evaluation touches only
G small blocks and one (m + p + 1) matrix. `evaluate` takes a batch of K thetas and returns K
deviances in one pass of numpy calls: a central-difference gradient costs one call, not 2k + 1.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..model.design import ModelData
from .optimize import Structure


@dataclass
class ThetaLayout:
    """Where each term's theta lives and how it fills the relative covariance factors."""

    sizes: list[int]  # q of each term, in lme4's term order
    offsets: list[int]  # start of each term's slice of theta
    lower: np.ndarray  # lower bound per theta element (0 on diagonals, -inf elsewhere)
    start: np.ndarray  # lme4's start: identity

    @classmethod
    def from_sizes(cls, sizes: list[int]) -> ThetaLayout:
        offsets, lower, start, off = [], [], [], 0
        for q in sizes:
            offsets.append(off)
            for j in range(q):  # column-wise lower triangle
                for i in range(j, q):
                    lower.append(0.0 if i == j else -np.inf)
                    start.append(1.0 if i == j else 0.0)
            off += q * (q + 1) // 2
        return cls(sizes, offsets, np.array(lower), np.array(start))

    def tri_indices(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        q = self.sizes[t]
        pairs = [(i, j) for j in range(q) for i in range(j, q)]
        return np.array([i for i, _ in pairs]), np.array([j for _, j in pairs])

    @property
    def diagonal(self) -> np.ndarray:
        """Indices of the diagonal elements (bounded below by 0 in lme4)."""
        return np.flatnonzero(self.lower == 0)

    def columns(self) -> list[np.ndarray]:
        """Each column of each term's factor as indices into theta, its diagonal first."""
        out = []
        for q, off in zip(self.sizes, self.offsets):
            for j in range(q):
                start = off + sum(q - c for c in range(j))
                out.append(np.arange(start, start + q - j))
        return out

    def rows(self) -> np.ndarray:
        """The row of its term's factor that each theta element sits in."""
        return np.concatenate([self.tri_indices(t)[0] for t in range(len(self.sizes))]) if self.sizes \
            else np.zeros(0, dtype=int)

    def factor(self, theta: np.ndarray, t: int) -> np.ndarray:
        """Term t's q x q lower-triangular factor T from one theta vector."""
        q = self.sizes[t]
        T = np.zeros((q, q))
        i, j = self.tri_indices(t)
        T[i, j] = theta[self.offsets[t] : self.offsets[t] + len(i)]
        return T


class ProfiledDeviance:
    """Cross-products of one model and data; d(theta) for ML or REML, and the PLS solution."""

    def __init__(self, md: ModelData, reml: bool):
        self.md, self.reml = md, reml
        self.n, self.p = md.X.shape
        self.layout = ThetaLayout.from_sizes([t.q for t in md.terms])
        counts = {}
        for t in md.terms:
            counts[t.group] = counts.get(t.group, 0) + t.nlevels * t.q
        self.block1_group = max(counts, key=counts.get)  # first one among ties
        self.block1 = [k for k, t in enumerate(md.terms) if t.group == self.block1_group]
        self.rest = [k for k in range(len(md.terms)) if k not in self.block1]
        self._scatter_maps()
        self._structure: Structure | None = None
        self.set_response(md.y)

    def structure(self) -> Structure:
        if self._structure is None:
            self._structure = self._make_structure()
        return self._structure

    def _make_structure(self) -> Structure:
        """theta's shape for the optimizer, scaled by the size of each random-effect column: the
        element in row i of a term's factor multiplies that term's column i of Z, so it is measured
        in units of 1 / RMS(column i). A predictor in units of 1e-3 or 1e3 then looks standardised."""
        scale = []
        for k, t in enumerate(self.md.terms):
            rms = np.sqrt(np.mean(t.matrix**2, axis=0))
            rms = np.where((rms > 0) & np.isfinite(rms), rms, 1.0)
            scale.append(1.0 / rms[self.layout.tri_indices(k)[0]])
        scale = np.concatenate(scale) if scale else np.zeros(0)
        return Structure(self.layout.diagonal, tuple(self.layout.columns()), scale, float(self.n))

    def start(self) -> np.ndarray:
        """Where the optimizer starts (start.py: a moment estimate, else lme4's identity, scaled)."""
        from .start import start_theta

        return start_theta(self)

    # -- structure -----------------------------------------------------------------------
    def _scatter_maps(self) -> None:
        """Index maps from theta to T1 (block 1) and Lambda2 (the rest), built once."""
        lay, terms = self.layout, self.md.terms
        r1, c1, t1 = [], [], []
        col = 0
        for k in self.block1:
            i, j = lay.tri_indices(k)
            r1 += list(col + i)
            c1 += list(col + j)
            t1 += list(lay.offsets[k] + np.arange(len(i)))
            col += terms[k].q
        self.q1 = col
        self.t1_map = (np.array(r1, dtype=int), np.array(c1, dtype=int), np.array(t1, dtype=int))
        r2, c2, t2, self.rest_offsets = [], [], [], []
        off = 0
        for k in self.rest:
            t = terms[k]
            i, j = lay.tri_indices(k)
            self.rest_offsets.append(off)
            base = off + np.arange(t.nlevels)[:, None] * t.q
            r2 += list((base + i).ravel())
            c2 += list((base + j).ravel())
            t2 += list(np.tile(lay.offsets[k] + np.arange(len(i)), t.nlevels))
            off += t.nlevels * t.q
        self.m = off
        self.l2_map = (np.array(r2, dtype=int), np.array(c2, dtype=int), np.array(t2, dtype=int))
        md = self.md
        self.codes1 = md.terms[self.block1[0]].codes
        self.G = md.terms[self.block1[0]].nlevels
        self.Z1 = np.column_stack([md.terms[k].matrix for k in self.block1])  # n x q1
        Z2 = np.zeros((self.n, self.m))
        for k, off in zip(self.rest, self.rest_offsets):
            t = md.terms[k]
            for j in range(t.q):
                Z2[np.arange(self.n), off + t.codes * t.q + j] = t.matrix[:, j]
        self.Z2 = Z2
        # cross-products that do not involve y
        Z1 = self.Z1
        self.A11 = self._group_sums((Z1[:, :, None] * Z1[:, None, :]).reshape(self.n, -1)).reshape(self.G, self.q1, self.q1)
        self.Z1tZ2 = self._group_sums((Z1[:, :, None] * Z2[:, None, :]).reshape(self.n, -1)).reshape(self.G, self.q1, self.m)
        self.Z2tZ2 = Z2.T @ Z2
        self.A11_cols = np.ascontiguousarray(self.A11.reshape(self.G, -1).T)  # q1^2 x G
        self.Z2tZ1 = np.ascontiguousarray(self.Z1tZ2.transpose(2, 1, 0).reshape(self.m, self.q1 * self.G))  # m x q1 G

    def _group_sums(self, V: np.ndarray) -> np.ndarray:
        """Sums of the rows of V (n x c) within each block-1 group: G x c."""
        if V.shape[1] <= 16:  # a bincount per column beats a sparse product for few columns
            return np.column_stack([np.bincount(self.codes1, V[:, j], self.G) for j in range(V.shape[1])]) \
                if V.shape[1] else np.zeros((self.G, 0))
        ind = sparse.csr_matrix((np.ones(self.n), (self.codes1, np.arange(self.n))), shape=(self.G, self.n))
        return np.asarray(ind @ V)

    def set_response(self, y: np.ndarray) -> None:
        """(Re)compute the cross-products that involve y."""
        self.y = y
        products, self.beta_shift = self._products(y[None])
        self.__dict__.update({k: v[0] for k, v in products.items()})

    def with_responses(self, Y: np.ndarray) -> ProfiledDeviance:
        """The same model for S responses at once (rows of Y): thetas of shape (S, B, k)
        evaluate response s at B thetas each. Simulation studies and the bootstrap fit all
        their replicates together through this (batch.py)."""
        other = copy.copy(self)
        products, shifts = self._products(Y)
        other.__dict__.update({k: v[:, None] for k, v in products.items()})
        other.beta_shift = shifts
        return other

    def _products(self, Y: np.ndarray) -> tuple[dict, np.ndarray]:
        """Cross-products of [X y] with Z1, Z2 and itself for each row of Y (S x n).

        Each y is first shifted by its least-squares fit on X: that moves only beta (added back
        in `solve`) and keeps y'y small, so r^2 = y'y - ... loses no digits to cancellation.
        """
        X, S = self.md.X, len(Y)
        if self.p:
            shifts = np.linalg.lstsq(X, Y.T, rcond=None)[0].T  # S x p
            Ys = Y - shifts @ X.T
        else:
            shifts, Ys = np.zeros((S, 0)), Y
        Xy = np.concatenate([np.broadcast_to(X, (S,) + X.shape), Ys[:, :, None]], axis=2)  # S x n x (p+1)
        # per-group sums via one sparse product: groups x rows
        ZXy = (self.Z1[None, :, :, None] * Xy[:, :, None, :]).transpose(1, 0, 2, 3).reshape(self.n, -1)
        Z1tXy = self._group_sums(ZXy).reshape(self.G, S, self.q1, self.p + 1).transpose(1, 0, 2, 3)
        products = {
            "Z1tXy_cols": np.ascontiguousarray(Z1tXy.transpose(0, 3, 2, 1)),  # S x (p+1) x q1 x G
            "Z2tXy": self.Z2.T @ Xy,
            "XytXy": np.swapaxes(Xy, 1, 2) @ Xy,
        }
        return products, shifts

    # -- evaluation ----------------------------------------------------------------------
    def _factors(self, theta: np.ndarray):
        lead = theta.shape[:-1]
        r, c, t = self.t1_map
        T1 = np.zeros(lead + (self.q1, self.q1))
        T1[..., r, c] = theta[..., t]
        r, c, t = self.l2_map
        L2 = np.zeros(lead + (self.m, self.m))
        L2[..., r, c] = theta[..., t]
        return T1, L2

    def _decompose(self, theta: np.ndarray):
        """Batched over theta's leading axes (...): block-1 Cholesky factors L1 (..., q1, q1, G),
        the blocks W = L1^-1 T' [Z1'Z2 Lambda2 | Z1'X | Z1'y] as (..., r, q1, G) with
        r = m + p + 1, and the dense Cholesky factor Ld (..., r, r) of the rest, X and y.

        Groups run along the last axis so that every elementwise step works on contiguous rows;
        M_g = T' A_g T for all g is one (q1^2 x q1^2)(q1^2 x G) product with kron(T, T), and W'W
        is one GEMM per theta.
        """
        T1, L2 = self._factors(theta)
        lead, m, p, G, q1 = theta.shape[:-1], self.m, self.p, self.G, self.q1
        TTt = (T1[..., :, None, :, None] * T1[..., None, :, None, :]).reshape(lead + (q1 * q1, q1 * q1))
        M = (np.swapaxes(TTt, -1, -2) @ self.A11_cols).reshape(lead + (q1, q1, G))
        for i in range(q1):
            M[..., i, i, :] += 1.0
        T1t = np.swapaxes(T1, -1, -2)[..., None, :, :]
        right = T1t @ self.Z1tXy_cols  # (..., p + 1, q1, G)
        if m:
            ZL = (np.swapaxes(L2, -1, -2) @ self.Z2tZ1).reshape(lead + (m, q1, G))
            right = np.concatenate([T1t @ ZL, right], axis=-3)
        L1 = _cholesky_small(M)
        W = _forward_small(L1, right)
        D = np.empty(lead + (m + p + 1, m + p + 1))
        if m:
            L2t = np.swapaxes(L2, -1, -2)
            D[..., :m, :m] = L2t @ self.Z2tZ2 @ L2
            D[..., np.arange(m), np.arange(m)] += 1.0
            D[..., :m, m:] = L2t @ self.Z2tXy
            D[..., m:, :m] = np.swapaxes(D[..., :m, m:], -1, -2)
        D[..., m:, m:] = self.XytXy
        Wf = W.reshape(lead + (m + p + 1, q1 * G))
        D -= Wf @ np.swapaxes(Wf, -1, -2)
        Ld = np.linalg.cholesky(D)
        return T1, L2, L1, W, Ld

    def evaluate_some(self, idx: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Many responses: the criterion of responses idx, each at its own B thetas (len(idx), B, k)."""
        sub = copy.copy(self)
        for k in ("Z1tXy_cols", "Z2tXy", "XytXy"):
            setattr(sub, k, getattr(self, k)[idx])
        return sub.evaluate(theta)

    def evaluate(self, theta: np.ndarray) -> np.ndarray:
        """Deviance (ML) or REML criterion at each theta: shape (..., k) -> (...)."""
        theta = np.atleast_2d(theta)
        try:
            _, _, L1, _, Ld = self._decompose(theta)
        except np.linalg.LinAlgError:  # some theta in the batch: find which, one by one
            flat = theta.reshape(-1, theta.shape[-1])
            return np.array([self._evaluate_one(t, i, theta.shape[:-1]) for i, t in enumerate(flat)]).reshape(theta.shape[:-1])
        return self._criterion(L1, Ld)

    def _evaluate_one(self, theta: np.ndarray, flat_index: int, lead: tuple) -> float:
        sub = self
        if len(lead) == 2:  # many responses: evaluate against this theta's own response
            s = np.unravel_index(flat_index, lead)[0]
            sub = copy.copy(self)
            for k in ("Z1tXy_cols", "Z2tXy", "XytXy"):
                setattr(sub, k, getattr(self, k)[s])
        try:
            _, _, L1, _, Ld = sub._decompose(theta[None])
        except np.linalg.LinAlgError:
            return np.inf
        return float(sub._criterion(L1, Ld)[0])

    def _parts(self, L1: np.ndarray, Ld: np.ndarray):
        m, p = self.m, self.p
        d1 = np.diagonal(L1, axis1=-3, axis2=-2)  # L1 is (..., q1, q1, G)
        dd = np.diagonal(Ld, axis1=-2, axis2=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            logdet_l = 2 * np.log(d1).sum(axis=(-1, -2)) + 2 * np.log(dd[..., :m]).sum(axis=-1)
            logdet_rx = 2 * np.log(dd[..., m : m + p]).sum(axis=-1)
        return logdet_l, logdet_rx, dd[..., -1] ** 2

    def _criterion(self, L1: np.ndarray, Ld: np.ndarray) -> np.ndarray:
        logdet, logdet_rx, r2 = self._parts(L1, Ld)
        n, p = self.n, self.p
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.reml:
                out = logdet + logdet_rx + (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p)))
            else:
                out = logdet + n * (1 + np.log(2 * np.pi * r2 / n))
        return np.where(np.isfinite(out), out, np.inf)

    def parts(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log|L|^2, log|R_X|^2 and the penalized residual sum of squares r^2 at each theta: the
        pieces of both criteria, so a page can draw them unprofiled over sigma (mmcore/lessons/criteria.py)."""
        _, _, L1, _, Ld = self._decompose(np.atleast_2d(theta))
        return self._parts(L1, Ld)

    def sigma_at(self, theta: np.ndarray) -> np.ndarray:
        """The profiled residual SD at each theta (ML: r^2/n, REML: r^2/(n-p))."""
        _, _, _, _, Ld = self._decompose(np.atleast_2d(theta))
        return np.abs(Ld[..., -1, -1]) / np.sqrt(self.n - self.p if self.reml else self.n)

    # -- solution at one theta ---------------------------------------------------------------
    def solve(self, theta: np.ndarray) -> dict:
        """Everything a fit reports, at one theta: beta, b, sigma, vcov, conditional variances."""
        theta = np.asarray(theta, dtype=float)
        T1, L2, L1, W, Ld = (a[0] for a in self._decompose(theta[None]))
        crit = float(self._criterion(L1[None], Ld[None])[0])
        L1 = L1.transpose(2, 0, 1)  # G x q1 x q1
        W = W.transpose(2, 1, 0)  # G x q1 x (m + p + 1)
        m, p, n = self.m, self.p, self.n
        r2 = Ld[-1, -1] ** 2
        sigma2 = r2 / (n - p if self.reml else n)
        Lsub = Ld[:-1, :-1]
        sol = np.linalg.solve(Lsub.T, Ld[-1, :-1])  # [u2; beta - shift]
        u2, beta = sol[:m], sol[m:] + self.beta_shift[0]
        u1 = np.linalg.solve(np.swapaxes(L1, 1, 2), (W[:, :, -1] - W[:, :, :-1] @ sol)[..., None])[..., 0]
        b1 = u1 @ T1.T  # G x q1
        b2 = L2 @ u2
        Lbb = Ld[m : m + p, m : m + p]
        Rinv = np.linalg.solve(Lbb, np.eye(p))
        vcov = sigma2 * Rinv.T @ Rinv
        # conditional covariances of u: (L L')^-1, diagonal blocks only
        L1inv = np.linalg.inv(L1)
        cov_u1 = np.swapaxes(L1inv, 1, 2) @ L1inv
        if m:
            Luu_inv = np.linalg.solve(Ld[:m, :m], np.eye(m))
            Sinv = Luu_inv.T @ Luu_inv
            P = np.swapaxes(L1inv, 1, 2) @ W[:, :, :m]  # G x q1 x m
            cov_u1 = cov_u1 + P @ Sinv @ np.swapaxes(P, 1, 2)
            var_b2 = sigma2 * np.einsum("ij,jk,ik->i", L2, Sinv, L2)
        else:
            var_b2 = np.zeros(0)
        var_b1 = sigma2 * np.einsum("ij,gjk,ik->gi", T1, cov_u1, T1)
        fitted = self.md.X @ beta + np.einsum("nq,nq->n", self.Z1, b1[self.codes1]) + self.Z2 @ b2
        return dict(
            beta=beta, vcov=vcov, sigma=float(np.sqrt(sigma2)), b1=b1, var_b1=var_b1, b2=b2,
            var_b2=var_b2, fitted=fitted, criterion=crit, logdet_rx=2 * np.log(np.diag(Lbb)).sum(),
        )


def _cholesky_small(M: np.ndarray) -> np.ndarray:
    """Cholesky factors of G small SPD matrices stored as (..., q, q, G), groups last.

    A column loop over q in numpy, each step on contiguous G-vectors: far cheaper than
    np.linalg.cholesky's per-matrix calls for the K thetas x G groups of an evaluation.
    A block that is not positive definite gets NaN, which the criterion turns into +inf.
    """
    q = M.shape[-2]
    L = np.zeros_like(M)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(q):
            s = M[..., j, j, :] - (L[..., j, :j, :] ** 2).sum(axis=-2) if j else M[..., j, j, :]
            L[..., j, j, :] = np.sqrt(s)
            for i in range(j + 1, q):
                s = M[..., i, j, :] - (L[..., i, :j, :] * L[..., j, :j, :]).sum(axis=-2) if j else M[..., i, j, :]
                L[..., i, j, :] = s / L[..., j, j, :]
    return L


def _forward_small(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve L_g x = b for each group g and right-hand side c: L (..., q, q, G) lower
    triangular, B (..., r, q, G) -> X (..., r, q, G)."""
    q = L.shape[-2]
    Lb = L[..., None, :, :, :]  # broadcast over the right-hand sides
    X = np.empty(np.broadcast_shapes(B.shape, L.shape[:-3] + B.shape[-3:]))
    for i in range(q):
        s = B[..., i, :]
        for j in range(i):
            s = s - Lb[..., i, j, :] * X[..., j, :]
        X[..., i, :] = s / Lb[..., i, i, :]
    return X
