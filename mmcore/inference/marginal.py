"""The marginal model y ~ N(X beta, V), V = sum_i gamma_i G_i, and its exact derivatives in the
variance parameters: the pieces of Satterthwaite's and Kenward-Roger's denominator df.

gamma are pbkrtest's parameters: per random term the lower triangle (column-major) of the
covariance matrix of its effects, then sigma^2. G_i = Z D_i Z', D_i the (symmetric) indicator of
that entry repeated for every level of the grouping factor; G = I for sigma^2.

Why our own code: lmerTest differentiates the deviance numerically (numDeriv's Richardson
extrapolation: dozens of PLS solutions) and pbkrtest builds n x n matrices. Here every piece is
exact and lives in the random-effects space. With U = [Z X r] (r the GLS residual), Woodbury gives
V^-1 = sigma^-2 (I - H), H = Z Lambda K^-1 Lambda' Z', K = Lambda' Z'Z Lambda + I, so U'V^-k U
(k = 1, 2, 3) and tr(V^-k) follow from U'U and one Cholesky factor of K (q x q): nothing n x n,
and after U'U nothing grows with n.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse

from ..errors import MixedModelError
from ..lmm.deviance import ThetaLayout
from ..model.design import ModelData

MAX_EFFECTS = 3000  # q beyond which the dense q x q algebra costs too much for a page


@dataclass(frozen=True)
class Entry:
    """One covariance parameter gamma_i: term t's entry (a, b), a >= b; the residual has t = -1."""

    term: int
    a: int
    b: int


def random_effects_matrix(md: ModelData, dense: bool = False):
    """Z (n x q, level-major within each term, as lme4's) and each term's first column; sparse,
    or dense for a small model (numpy's products beat scipy.sparse's overhead there)."""
    n = len(md.y)
    offsets = list(np.cumsum([0] + [t.nlevels * t.q for t in md.terms])[:-1])
    q = sum(t.nlevels * t.q for t in md.terms)
    rows = np.concatenate([np.repeat(np.arange(n), t.q) for t in md.terms])
    cols = np.concatenate([(off + t.codes[:, None] * t.q + np.arange(t.q)).ravel() for t, off in zip(md.terms, offsets)])
    vals = np.concatenate([t.matrix.ravel() for t in md.terms])
    if dense:
        Z = np.zeros((n, q))
        Z[rows, cols] = vals
        return Z, offsets
    return sparse.csc_matrix((vals, (rows, cols)), shape=(n, q)), offsets


class Marginal:
    """V^-1 products of one model at (theta, sigma, beta), and the derivatives built from them."""

    def __init__(self, md: ModelData, theta: np.ndarray, sigma: float, beta: np.ndarray, reml: bool):
        self.md, self.reml, self.sigma = md, reml, float(sigma)
        self.q = sum(t.nlevels * t.q for t in md.terms)
        self.p, self.n = md.X.shape[1], len(md.y)
        if self.q > MAX_EFFECTS:
            raise MixedModelError(
                f"This model has {self.q} random effects: too many for the denominator df here (at most "
                f"{MAX_EFFECTS}). Use the likelihood-ratio test or a Wald test instead.")
        layout = ThetaLayout.from_sizes([t.q for t in md.terms])
        self.T = [layout.factor(np.asarray(theta, dtype=float), t) for t in range(len(md.terms))]
        self.entries = [Entry(t, a, b) for t, term in enumerate(md.terms)
                        for b in range(term.q) for a in range(b, term.q)] + [Entry(-1, 0, 0)]
        r = md.y - md.X @ beta
        dense = self.n * self.q <= 4_000_000
        Z, self.offsets = random_effects_matrix(md, dense)
        self._index = [np.array([off + np.arange(t.nlevels) * t.q + a for a in range(t.q)])
                       for t, off in zip(md.terms, self.offsets)]  # [term][component] -> columns of Z
        if dense:
            U = np.hstack([Z, md.X, r[:, None]])
            UU = U.T @ U
        else:
            U = sparse.hstack([Z, sparse.csc_matrix(md.X), sparse.csc_matrix(r[:, None])], format="csc")
            UU = (U.T @ U).toarray()
        self._inverse_products(UU)

    def _inverse_products(self, UU: np.ndarray) -> None:
        q, p, s2 = self.q, self.p, self.sigma**2
        lam = np.zeros((q, q))  # Lambda: block diagonal, each level's block its term's factor T
        for t, T, off in zip(self.md.terms, self.T, self.offsets):
            i, j = np.nonzero(np.ones_like(T))
            starts = off + np.arange(t.nlevels)[:, None] * t.q
            lam[(starts + i).ravel(), (starts + j).ravel()] = np.tile(T[i, j], t.nlevels)
        B = lam.T @ UU[:q]  # Lambda' Z'U
        C = B[:, :q] @ lam  # Lambda' Z'Z Lambda
        LK = linalg.cholesky(C + np.eye(q), lower=True)
        W = linalg.solve_triangular(LK, B, lower=True)  # U'H U = W'W
        LKinv = linalg.solve_triangular(LK, np.eye(q), lower=True)
        S = LKinv @ LKinv.T
        G2 = np.eye(q) - S  # LK^-1 C LK^-T: U'H^2 U = W' G2 W
        WW, WG = W.T @ W, W.T @ G2
        WGW = WG @ W
        WGGW = WG @ (G2 @ W)
        self.M1 = (UU - WW) / s2  # U'V^-1 U
        self.M2 = (UU - 2 * WW + WGW) / s2**2  # U'V^-2 U
        self.M3 = (UU - 3 * WW + 3 * WGW - WGGW) / s2**3  # U'V^-3 U
        tr_kinv = float(np.sum(LKinv**2))
        tr_h, tr_h2 = q - tr_kinv, q - 2 * tr_kinv + float(np.sum(S**2))
        self.tr_v1 = (self.n - tr_h) / s2
        self.tr_v2 = (self.n - 2 * tr_h + tr_h2) / s2**2
        self.zs, self.xs, self.ri = slice(0, q), slice(q, q + p), q + p
        phi = np.linalg.inv(self.M1[self.xs, self.xs])
        self.phi = (phi + phi.T) / 2  # vcov(beta) = (X'V^-1 X)^-1

    # -- blocks ------------------------------------------------------------------------------------
    @property
    def A(self) -> np.ndarray:
        """Z'V^-1 X."""
        return self.M1[self.zs, self.xs]

    @property
    def w(self) -> np.ndarray:
        """Z'P y = Z'V^-1 r."""
        return self.M1[self.zs, self.ri]

    def p_products(self):
        """Z'PZ, Z'P^2 Z, Z'P^2 y, tr(P), tr(P^2), y'P^2 y, y'P^3 y (P the REML projection)."""
        z, x, r, phi = self.zs, self.xs, self.ri, self.phi
        E1, E2 = self.M1[:, x], self.M2[:, x]
        M2xx = self.M2[x, x]
        NP = self.M1[z, z] - E1[z] @ phi @ E1[z].T
        P2 = self.M2 - E2 @ phi @ E1.T - E1 @ phi @ E2.T + E1 @ (phi @ M2xx @ phi) @ E1.T
        tr_p = self.tr_v1 - np.sum(phi * M2xx)
        tr_p2 = self.tr_v2 - 2 * np.sum(phi * self.M3[x, x]) + np.sum((phi @ M2xx) * (phi @ M2xx).T)
        yp3y = self.M3[r, r] - E2[r] @ phi @ E2[r]
        return NP, P2[z, z], P2[z, r], tr_p, tr_p2, self.M2[r, r], yp3y

    # -- the derivative matrices D_i ---------------------------------------------------------------
    def _halves(self, e: Entry):
        """D_i as a sum of S_a S_b' (S_a selects component a of the term at every level)."""
        ia, ib = self._index[e.term][e.a], self._index[e.term][e.b]
        return [(ia, ib)] if e.a == e.b else [(ia, ib), (ib, ia)]

    @property
    def random_entries(self) -> list[Entry]:
        return self.entries[:-1]

    def apply(self, M: np.ndarray) -> np.ndarray:
        """D_i M for every random entry i: (k, q, ...)."""
        out = np.zeros((len(self.random_entries),) + M.shape)
        for i, e in enumerate(self.random_entries):
            for ia, ib in self._halves(e):
                out[i, ia] += M[ib]
        return out

    def traces(self, N: np.ndarray) -> np.ndarray:
        """tr(D_i N) for every random entry."""
        return np.array([sum(N[ib, ia].sum() for ia, ib in self._halves(e)) for e in self.random_entries])

    def pair_traces(self, N: np.ndarray) -> np.ndarray:
        """tr(D_i N D_j N) for every pair of random entries: tr(S_a S_b' N S_c S_d' N) =
        sum(N[b, c] * N[d, a]') over the halves of D_i and D_j."""
        ents = self.random_entries
        k = len(ents)
        out = np.zeros((k, k))
        for i in range(k):
            for j in range(i, k):
                out[i, j] = out[j, i] = sum(np.sum(N[np.ix_(ib, ic)] * N[np.ix_(id_, ia)].T)
                                            for ia, ib in self._halves(ents[i]) for ic, id_ in self._halves(ents[j]))
        return out

    # -- the deviance's derivatives in gamma ------------------------------------------------------------
    def deviance_derivatives(self) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of the deviance (REML criterion, or ML deviance profiled over beta) in
        gamma: f = log|V| [+ log|X'V^-1 X|] + y'Py, so df/dg_i = tr(P G_i) - y'P G_i P y and
        d2f/dg_i dg_j = -tr(P G_i P G_j) + 2 y'P G_i P G_j P y (V is linear in gamma); for ML, V^-1
        takes P's place in the traces."""
        NP, NP2, zP2y, tr_p, tr_p2, yp2y, yp3y = self.p_products()
        if self.reml:
            Ntr, Ntr2, tr1, tr2 = NP, NP2, tr_p, tr_p2
        else:
            Ntr, Ntr2, tr1, tr2 = self.M1[self.zs, self.zs], self.M2[self.zs, self.zs], self.tr_v1, self.tr_v2
        Dw = self.apply(self.w)  # (k, q)
        k = Dw.shape[0]
        g = np.empty(k + 1)
        H = np.empty((k + 1, k + 1))
        g[:k] = self.traces(Ntr) - Dw @ self.w
        g[k] = tr1 - yp2y
        H[:k, :k] = -self.pair_traces(Ntr) + 2 * Dw @ NP @ Dw.T
        H[:k, k] = H[k, :k] = -self.traces(Ntr2) + 2 * Dw @ zP2y
        H[k, k] = -tr2 + 2 * yp3y
        return g, H

    def vcov_derivatives(self) -> np.ndarray:
        """d vcov(beta) / d gamma_i, (k + 1, p, p): d Phi = Phi (X'V^-1 G_i V^-1 X) Phi."""
        DA = self.apply(self.A)
        inner = np.concatenate([np.einsum("qa,iqb->iab", self.A, DA), self.M2[self.xs, self.xs][None]])
        return self.phi @ inner @ self.phi

    # -- gamma as a function of lme4's (theta, sigma) -------------------------------------------------------
    def varpar_chain(self):
        """Jacobian J (k+1 x m+1) of gamma in varpar = (theta, sigma) and the second derivatives
        (k+1, m+1, m+1): gamma_ab = sigma^2 (T T')_ab, gamma_res = sigma^2."""
        s = self.sigma
        pos = []  # theta element -> (term, row, column)
        for t, term in enumerate(self.md.terms):
            pos += [(t, i, j) for j in range(term.q) for i in range(j, term.q)]
        m, k = len(pos), len(self.entries)
        J = np.zeros((k, m + 1))
        D2 = np.zeros((k, m + 1, m + 1))
        for gi, e in enumerate(self.entries):
            if e.term < 0:
                J[gi, m], D2[gi, m, m] = 2 * s, 2.0
                continue
            T = self.T[e.term]
            a, b = e.a, e.b
            J[gi, m] = 2 * s * (T @ T.T)[a, b]
            D2[gi, m, m] = 2 * (T @ T.T)[a, b]
            for u, (t, c, d) in enumerate(pos):
                if t != e.term:
                    continue
                dT = (T[b, d] if a == c else 0.0) + (T[a, d] if b == c else 0.0)  # d(TT')_ab / dT_cd
                J[gi, u] = s**2 * dT
                D2[gi, u, m] = D2[gi, m, u] = 2 * s * dT
                for v, (t2, c2, d2) in enumerate(pos):
                    if t2 == e.term and d2 == d:
                        D2[gi, u, v] = s**2 * (((a == c) and (b == c2)) + ((b == c) and (a == c2)))
        return J, D2
