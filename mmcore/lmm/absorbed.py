"""Models with many fixed-effect columns (a factor of thousands of levels): X eliminated first.

Why a second elimination order: the usual order (random effects, then X and y; deviance.py) makes
X's block a dense (p + 1) square refactored at every evaluation, p^3 / 3 work each time. But X's
block does not depend on theta. Eliminated first, once, it leaves the random effects' block projected
off X, Z'(I - P_X)Z, a dense m_Z square (m_Z: all random effects, few here), and y's. An evaluation
is then one m_Z + 1 Cholesky, whatever p is.

The criteria stay exact: the REML criterion's log|L|^2 + log|R_X|^2 is the log-determinant of the
whole system [Lambda'Z'Z Lambda + I, Lambda'Z'X; X'Z Lambda, X'X], which does not depend on the order
of elimination: log|X'X| + log|Lambda' Z'(I - P_X)Z Lambda + I|; r^2 is the minimum of the penalized
sum of squares, order-free too. ML needs log|L|^2 of the random effects alone,
log|Lambda'Z'Z Lambda + I|, one more m_Z Cholesky. X enters only through X'X, X'Z and X'y, formed
from X as a sparse matrix (a factor's indicator columns are mostly zeros).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.linalg import cho_solve, solve_triangular
from scipy.linalg.lapack import dpotri

from ..model.design import ModelData
from .deviance import ProfiledDeviance, ThetaLayout, criterion

ABSORB_COLUMNS = 200  # X with at least this many columns ...
ABSORB_EFFECTS = 3000  # ... and at most this many random effects in all: X first


def absorbs(md: ModelData) -> bool:
    """Is X eliminated first for this model (many fixed-effect columns, few random effects)?"""
    return md.X.shape[1] >= ABSORB_COLUMNS and sum(t.nlevels * t.q for t in md.terms) <= ABSORB_EFFECTS


class AbsorbedDeviance:
    """d(theta) and the solution with X eliminated first; the interface of ProfiledDeviance."""

    structure = ProfiledDeviance.structure
    _make_structure = ProfiledDeviance._make_structure

    def __init__(self, md: ModelData, reml: bool):
        self.md, self.reml = md, reml
        self.n, self.p = md.X.shape
        self.layout = ThetaLayout.from_sizes([t.q for t in md.terms])
        counts: dict[str, int] = {}
        for t in md.terms:
            counts[t.group] = counts.get(t.group, 0) + t.nlevels * t.q
        self.block1_group = max(counts, key=counts.get)
        self.block1 = [k for k, t in enumerate(md.terms) if t.group == self.block1_group]
        self.rest = [k for k in range(len(md.terms)) if k not in self.block1]
        self._structure = None
        self._columns()
        if md.gram is not None:  # made by the rank check (design.py)
            X, self.XtX, self.chol_x = md.gram
        else:
            X = sparse.csr_matrix(md.X)
            self.XtX = (X.T @ X).toarray()
            self.chol_x = np.linalg.cholesky(self.XtX)
        Zy = sparse.hstack([self.Z, sparse.csr_matrix(md.y[:, None])]).tocsr()
        self.logdet_xtx = 2 * np.log(np.diag(self.chol_x)).sum()
        self.XtZy = np.asarray((X.T @ Zy).todense())
        B = solve_triangular(self.chol_x, self.XtZy, lower=True)
        self.ZytZy = np.asarray((Zy.T @ Zy).todense())
        self.S = self.ZytZy - B.T @ B  # [Z y]'(I - P_X)[Z y]

    def _columns(self) -> None:
        """Z (n x m_Z, sparse): block 1 group-major (g q1 + column), then the rest as rest.py lays it
        out; and the map from theta to Lambda over those columns."""
        md, lay, n = self.md, self.layout, self.n
        self.G = md.terms[self.block1[0]].nlevels
        self.q1 = sum(md.terms[k].q for k in self.block1)
        rows, cols, vals, r_, c_, t_ = [], [], [], [], [], []
        col = 0
        for k in self.block1:
            t = md.terms[k]
            i, j = lay.tri_indices(k)
            base = np.arange(self.G)[:, None] * self.q1 + col
            r_.append((base + i).ravel()), c_.append((base + j).ravel())
            t_.append(np.tile(lay.offsets[k] + np.arange(len(i)), self.G))
            for jj in range(t.q):
                rows.append(np.arange(n)), cols.append(t.codes * self.q1 + col + jj), vals.append(t.matrix[:, jj])
            col += t.q
        off, self.rest_offsets = self.G * self.q1, []
        for k in self.rest:
            t = md.terms[k]
            i, j = lay.tri_indices(k)
            self.rest_offsets.append(off - self.G * self.q1)
            base = off + np.arange(t.nlevels)[:, None] * t.q
            r_.append((base + i).ravel()), c_.append((base + j).ravel())
            t_.append(np.tile(lay.offsets[k] + np.arange(len(i)), t.nlevels))
            for jj in range(t.q):
                rows.append(np.arange(n)), cols.append(off + t.codes * t.q + jj), vals.append(t.matrix[:, jj])
            off += t.nlevels * t.q
        self.mz, self.m = off, off - self.G * self.q1
        self.lam_map = tuple(np.concatenate(a).astype(int) for a in (r_, c_, t_))
        self.Z = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                   shape=(n, self.mz))

    def evaluation_flops(self) -> float:
        return float((self.mz + 1) ** 3 / 3 * (1 if self.reml else 2) + 4 * self.mz**3)

    def start(self) -> np.ndarray:
        return self.layout.start * self.structure().scale

    def lam(self, theta: np.ndarray) -> np.ndarray:
        r, c, t = self.lam_map
        L = np.zeros((self.mz, self.mz))
        L[r, c] = theta[t]
        return L

    def _factor(self, theta: np.ndarray):
        """Cholesky factor of [Lambda'S_zz Lambda + I, Lambda's_zy; ., s_yy] and Lambda."""
        L = self.lam(theta)
        mz = self.mz
        D = np.empty((mz + 1, mz + 1))
        D[:mz, :mz] = L.T @ self.S[:mz, :mz] @ L + np.eye(mz)
        D[mz, :mz] = L.T @ self.S[:mz, mz]
        D[mz, mz] = self.S[mz, mz]
        return np.linalg.cholesky(D), L

    def _logdet_z(self, L: np.ndarray) -> float:
        """log|Lambda'Z'Z Lambda + I|: ML's log|L|^2, of the random effects alone."""
        G = L.T @ self.ZytZy[: self.mz, : self.mz] @ L + np.eye(self.mz)
        return 2 * float(np.log(np.diag(np.linalg.cholesky(G))).sum())

    def _one(self, theta: np.ndarray) -> tuple[float, float, float]:
        """(log|L|^2, log|R_X|^2, r^2) at one theta."""
        Ld, L = self._factor(theta)
        logdet_all = self.logdet_xtx + 2 * np.log(np.diag(Ld)[:-1]).sum()  # log|L|^2 + log|R_X|^2
        logdet_z = self._logdet_z(L)
        return logdet_z, logdet_all - logdet_z, Ld[-1, -1] ** 2

    def parts(self, theta: np.ndarray):
        theta = np.atleast_2d(theta)
        out = np.array([self._safe(t) for t in theta.reshape(-1, theta.shape[-1])])
        return out[:, 0], out[:, 1], out[:, 2]

    def _safe(self, theta: np.ndarray) -> tuple[float, float, float]:
        try:
            return self._one(theta)
        except np.linalg.LinAlgError:
            return np.nan, np.nan, np.nan

    def evaluate(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        return criterion(*self.parts(theta), self.n, self.p, self.reml).reshape(theta.shape[:-1])

    def sigma_at(self, theta: np.ndarray) -> np.ndarray:
        r2 = self.parts(theta)[2]
        return np.sqrt(r2 / (self.n - self.p if self.reml else self.n))

    def solve(self, theta: np.ndarray) -> dict:
        """beta, b, sigma, vcov(beta) and the conditional variances of b at one theta."""
        theta = np.asarray(theta, dtype=float)
        mz, n, p = self.mz, self.n, self.p
        Ld, L = self._factor(theta)
        crit = float(self.evaluate(theta[None])[0])
        sigma2 = Ld[-1, -1] ** 2 / (n - p if self.reml else n)
        u = solve_triangular(Ld[:mz, :mz], Ld[mz, :mz], lower=True, trans="T")
        b = L @ u
        beta = cho_solve((self.chol_x, True), self.XtZy[:, mz] - self.XtZy[:, :mz] @ b)
        Lg = np.linalg.cholesky(L.T @ self.ZytZy[:mz, :mz] @ L + np.eye(mz))
        E = solve_triangular(Lg, L.T @ self.XtZy[:, :mz].T, lower=True)  # Lg^-1 Lambda'Z'X
        Rx = np.linalg.cholesky(self.XtX - E.T @ E)  # X'V0^-1 X = R_X'R_X
        inverse, info = dpotri(Rx, lower=True)
        vcov = sigma2 * (np.tril(inverse) + np.tril(inverse, -1).T)
        Ginv_half = solve_triangular(Lg, L.T, lower=True)  # Lg^-1 Lambda'
        var_b = sigma2 * np.einsum("ji,ji->i", Ginv_half, Ginv_half)
        G1 = self.G * self.q1
        return dict(
            beta=beta, vcov=vcov, sigma=float(np.sqrt(sigma2)),
            b1=b[:G1].reshape(self.G, self.q1), var_b1=var_b[:G1].reshape(self.G, self.q1),
            b2=b[G1:], var_b2=var_b[G1:], fitted=self.md.X @ beta + self.Z @ b, criterion=crit,
            logdet_rx=2 * np.log(np.diag(Rx)).sum(),
        )
