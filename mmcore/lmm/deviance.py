"""The profiled deviance d(theta) of lme4's penalized least squares, and the solution at a theta.

Why our own code and not statsmodels: lme4's exact criterion (profiled over beta and sigma, the
relative covariance factor theta as parameter) at a cost per evaluation that does not grow with n.

Structure (MixedModels.jl's blocked Cholesky, DESIGN.md "engine structure"): the grouping factor
with the most random effects is "block 1": its Z'Z is block diagonal, G blocks of q1 x q1, factored
as one batched Cholesky (small.py). The other factors, "the rest" (rest.py), meet block 1 through the
sparse Z1'Z2: their block is downdated by a sparse map, stays diagonal for nested factors and is one
dense m x m Cholesky where crossed factors fill it in. X and y come last: a (p + 1) square Schur
complement whose Cholesky holds R_X (log|R_X|^2, vcov(beta)) and, in its last entry, sqrt(r^2).

All cross-products are made once from the data; after that an evaluation touches only G small
blocks, the coupling's pairs and the rest's block. `evaluate` takes a batch of K thetas and returns
K deviances in one pass of numpy calls (in chunks that keep memory bounded): a central-difference
gradient costs one call, not 2k + 1.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import sparse

from ..model.design import ModelData
from .optimize import Structure
from .rest import Rest
from .small import block_factor_small, cholesky_small, forward_small

CHUNK_BYTES = 64 * 2**20  # working memory of one batch of thetas; larger batches are cut into chunks
LEAN_FLOPS = 3e6  # an evaluation costing more (about a millisecond): the optimizer spends evaluations sparingly
DATA = ("Z1tXy_cols", "Z2tXy", "XytXy")  # the cross-products that involve y


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


def criterion(logdet: np.ndarray, logdet_rx: np.ndarray, r2: np.ndarray, n: int, p: int, reml: bool) -> np.ndarray:
    """lme4's profiled criterion from its pieces: the ML deviance, or the REML criterion; +inf where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if reml:
            out = logdet + logdet_rx + (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p)))
        else:
            out = logdet + n * (1 + np.log(2 * np.pi * r2 / n))
    return np.where(np.isfinite(out), out, np.inf)


def fixef_from_factor(Lx: np.ndarray) -> np.ndarray:
    """beta (before the response's least-squares shift) of each of K factors' X-and-y blocks Lx
    (K, p + 1, p + 1), which hold R_X' and the response row: R_X^-1 times that row, (K, p)."""
    p = Lx.shape[-1] - 1
    return np.linalg.solve(np.swapaxes(Lx[:, :p, :p], 1, 2), Lx[:, p, :p][..., None])[..., 0]


def block1_factor(theta: np.ndarray, t1_map: tuple, q1: int, A11: np.ndarray, Zxy: np.ndarray, XX: np.ndarray):
    """Block 1 of the blocked Cholesky factor at K thetas (K, k): T1 (K, q1, q1), its Cholesky
    factors L1 (K, q1, q1, G), Wxy (K, p + 1, q1, G) and the X-and-y block before the rest, Dxx
    (K, p + 1, p + 1). A11 (q1 q1, G) or one per theta (K, q1 q1, G); Zxy (..., p + 1, q1, G) and XX
    (..., p + 1, p + 1) broadcast against K. For q1 <= 2, closed forms (small.block_factor_small); else
    M_g = T' A_g T + I for all g is one (q1^2 x q1^2)(q1^2 x G) product with kron(T, T). W'W is one GEMM
    per theta."""
    K, G = len(theta), A11.shape[-1]
    r, c, t = t1_map
    T1 = np.zeros((K, q1, q1))
    T1[:, r, c] = theta[:, t]
    if q1 <= 2:  # closed forms (small.py), the usual case
        L1, Wxy = block_factor_small(T1, A11, Zxy)
    else:
        TTt = (T1[:, :, None, :, None] * T1[:, None, :, None, :]).reshape(K, q1 * q1, q1 * q1)
        M = (np.swapaxes(TTt, -1, -2) @ A11).reshape(K, q1, q1, G)
        M[:, np.arange(q1), np.arange(q1), :] += 1.0
        L1 = cholesky_small(M)
        Wxy = forward_small(L1, np.swapaxes(T1, -1, -2)[:, None] @ Zxy)  # (K, p+1, q1, G)
    Wf = Wxy.reshape(K, Wxy.shape[-3], q1 * G)
    Dxx = XX - Wf @ np.swapaxes(Wf, -1, -2)
    return T1, L1, Wxy, Dxx


class Factor(NamedTuple):
    """The blocked Cholesky factor at K thetas (K first on every array)."""

    T1: np.ndarray  # (K, q1, q1) block 1's relative covariance factor
    L1: np.ndarray  # (K, q1, q1, G) block 1's Cholesky factors, groups last
    V: np.ndarray | None  # (K, q1, q1, G): V[a, c, g] = (L1_g^-1 T1')[c, a]; None without a rest
    Wxy: np.ndarray  # (K, p + 1, q1, G): (L1_g^-1 T1' Z1'[X y]_g)' per group
    logdet2: np.ndarray  # (K,) log|L22|^2 of the rest
    L22: np.ndarray | None  # the rest's factor: (K, m) diagonal or (K, m, m)
    L2x: np.ndarray | None  # (K, m, p + 1)
    Lx: np.ndarray  # (K, p + 1, p + 1): R_X' and the response row; Lx[-1, -1]^2 = r^2


class ProfiledDeviance:
    """Cross-products of one model and data; d(theta) for ML or REML, and the PLS solution."""

    def __init__(self, md: ModelData, reml: bool, response: bool = True):
        """response False: the structure only, no cross-products with y (set_response makes them),
        for an engine that makes its own (correlated.py)."""
        self.md, self.reml = md, reml
        self.n, self.p = md.X.shape
        self.layout = ThetaLayout.from_sizes([t.q for t in md.terms])
        counts = {}
        for t in md.terms:
            counts[t.group] = counts.get(t.group, 0) + t.nlevels * t.q
        self.block1_group = max(counts, key=counts.get)  # first one among ties
        self.block1 = [k for k, t in enumerate(md.terms) if t.group == self.block1_group]
        self.rest = [k for k in range(len(md.terms)) if k not in self.block1]
        self.many = False  # one response (True: with_responses, data arrays have a response axis)
        self._block1()
        self._structure: Structure | None = None
        if response:
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
        return Structure(self.layout.diagonal, tuple(self.layout.columns()), scale, float(self.n),
                         lean=self.evaluation_flops() > LEAN_FLOPS)

    def evaluation_flops(self) -> float:
        """Floating-point work of one evaluation, from the structure alone (budget.py uses it too)."""
        r, m, G, q1 = self.p + 1, self.m, self.G, self.q1
        work = G * q1 * (q1**3 + q1 * r + r * r) + 2 * r**3
        if m:
            rest = self.rest_block
            work += 2 * (rest.pairs if not rest.dense_coupling else m * m * G * q1) + 2 * rest.nnz * r
            work += m * r * r if rest.diagonal else (m + r) ** 3 / 3 + 4 * (m + r) ** 2
        return float(work)

    def start(self) -> np.ndarray:
        """Where the optimizer starts (start.py: a moment estimate, else lme4's identity, scaled)."""
        from .start import start_theta

        return start_theta(self)

    # -- structure -----------------------------------------------------------------------
    def _block1(self) -> None:
        """Block 1's index map from theta to T1 and its cross-products; the rest (rest.py)."""
        lay, md = self.layout, self.md
        r1, c1, t1 = [], [], []
        col = 0
        for k in self.block1:
            i, j = lay.tri_indices(k)
            r1 += list(col + i)
            c1 += list(col + j)
            t1 += list(lay.offsets[k] + np.arange(len(i)))
            col += md.terms[k].q
        self.q1 = col
        self.t1_map = (np.array(r1, dtype=int), np.array(c1, dtype=int), np.array(t1, dtype=int))
        self.codes1 = md.terms[self.block1[0]].codes
        self.G = md.terms[self.block1[0]].nlevels
        self.Z1 = np.column_stack([md.terms[k].matrix for k in self.block1])  # n x q1
        n, G, q1, Z1 = self.n, self.G, self.q1, self.Z1
        self.A11 = self._group_sums((Z1[:, :, None] * Z1[:, None, :]).reshape(n, -1)).reshape(G, q1, q1)
        self.A11_cols = np.ascontiguousarray(self.A11.reshape(G, -1).T)  # q1^2 x G
        self.rest_block = None
        self.m, self.rest_offsets, self.Z2 = 0, [], np.zeros((n, 0))  # dense when empty: no sparse overhead
        if self.rest:
            self.rest_block = Rest(md, lay, self.rest, Z1, self.codes1, G, q1)
            self.m, self.rest_offsets, self.Z2 = self.rest_block.m, self.rest_block.offsets, self.rest_block.Z2

    def _group_sums(self, V: np.ndarray) -> np.ndarray:
        """Sums of the rows of V (n x c) within each block-1 group: G x c."""
        if V.shape[1] <= 16:  # a bincount per column beats a sparse product for few columns
            return np.column_stack([np.bincount(self.codes1, V[:, j], self.G) for j in range(V.shape[1])]) \
                if V.shape[1] else np.zeros((self.G, 0))
        if "_indicator1" not in self.__dict__:  # made on first use: most models never need it
            self._indicator1 = sparse.csr_matrix((np.ones(self.n), (self.codes1, np.arange(self.n))),
                                                 shape=(self.G, self.n))
        return np.asarray(self._indicator1 @ V)

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
        other.__dict__.update(products)
        other.beta_shift, other.many = shifts, True
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
        r = self.p + 1
        Xy = np.concatenate([np.broadcast_to(X, (S,) + X.shape), Ys[:, :, None]], axis=2)  # S x n x (p+1)
        ZXy = (self.Z1[None, :, :, None] * Xy[:, :, None, :]).transpose(1, 0, 2, 3).reshape(self.n, -1)
        Z1tXy = self._group_sums(ZXy).reshape(self.G, S, self.q1, r).transpose(1, 0, 2, 3)
        flat = Xy.transpose(1, 0, 2).reshape(self.n, S * r)
        Z2tXy = np.asarray(self.Z2.T @ flat).reshape(self.m, S, r).transpose(1, 0, 2)
        return {
            "Z1tXy_cols": np.ascontiguousarray(Z1tXy.transpose(0, 3, 2, 1)),  # S x (p+1) x q1 x G
            "Z2tXy": np.ascontiguousarray(Z2tXy),  # S x m x (p+1)
            "XytXy": np.swapaxes(Xy, 1, 2) @ Xy,
        }, shifts

    # -- evaluation ----------------------------------------------------------------------
    def theta_bytes(self) -> int:
        """Working memory of one theta in an evaluation (the chunk size follows from it)."""
        r, m, G, q1 = self.p + 1, self.m, self.G, self.q1
        rest = 0
        if m:
            dense = not self.rest_block.diagonal
            rest = 4 * (m + r) ** 2 if dense else 4 * m * r
            rest += 2 * m * r + (G * q1 * m if self.rest_block.dense_coupling else self.rest_block.pairs // 2)
        return 8 * (rest + 6 * G * q1 * (q1 + r) + 2 * r * r)

    def _decompose(self, theta: np.ndarray, resp: np.ndarray | None = None) -> Factor:
        """The blocked Cholesky factor at K thetas (K, k); resp (K,) picks each theta's response
        when there are many (and each theta's Z'Z too when A11_cols has one per response, as the
        correlated-errors engine's whitened cross-products do). Groups run along the last axis so
        that every elementwise step works on contiguous rows (block1_factor); then the rest (rest.py)."""
        K, G, q1, m = len(theta), self.G, self.q1, self.m
        Zxy, Z2xy, XX = (getattr(self, k) if resp is None else getattr(self, k)[resp] for k in DATA)
        A11 = self.A11_cols if self.A11_cols.ndim == 2 or resp is None else self.A11_cols[resp]  # per point: whitened
        T1, L1, Wxy, Dxx = block1_factor(theta, self.t1_map, q1, A11, Zxy, XX)
        if not m:
            return Factor(T1, L1, None, Wxy, np.zeros(K), None, None, np.linalg.cholesky(Dxx))
        V = forward_small(L1, np.broadcast_to(T1[..., None], (K, q1, q1, G)))
        P = np.einsum("kacg,kbcg->kgab", V, V)  # P_g = T1 M_g^-1 T1'
        U = np.einsum("kacg,krcg->kgar", V, Wxy)
        logdet2, L22, L2x, Lx = self.rest_block.factor(theta, P, U, Z2xy, Dxx)
        return Factor(T1, L1, V, Wxy, logdet2, L22, L2x, Lx)

    def _chunked(self, theta: np.ndarray, resp: np.ndarray | None) -> np.ndarray:
        """Criteria at K thetas (K, k), cut into chunks that fit in CHUNK_BYTES."""
        K = len(theta)
        step = max(1, int(CHUNK_BYTES // max(self.theta_bytes(), 1)))
        out = np.empty(K)
        for lo in range(0, K, step):
            sl = slice(lo, lo + step)
            rs = None if resp is None else resp[sl]
            try:
                out[sl] = self._criterion(self._decompose(theta[sl], rs))
            except np.linalg.LinAlgError:  # some theta in the chunk: find which, one by one
                out[sl] = [self._evaluate_one(theta[i], None if resp is None else resp[i : i + 1])
                           for i in range(lo, min(lo + step, K))]
        return out

    def evaluate_some(self, idx: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Many responses: the criterion of responses idx, each at its own B thetas (len(idx), B, k)."""
        B = theta.shape[1]
        return self._chunked(theta.reshape(-1, theta.shape[-1]), np.repeat(idx, B)).reshape(theta.shape[:-1])

    def evaluate(self, theta: np.ndarray) -> np.ndarray:
        """Deviance (ML) or REML criterion at each theta: shape (..., k) -> (...). With many
        responses, theta is (S, B, k): response s at its B thetas."""
        theta = np.atleast_2d(theta)
        if self.many:
            return self.evaluate_some(np.arange(theta.shape[0]), theta)
        return self._chunked(theta.reshape(-1, theta.shape[-1]), None).reshape(theta.shape[:-1])

    def _evaluate_one(self, theta: np.ndarray, resp: np.ndarray | None) -> float:
        try:
            return float(self._criterion(self._decompose(theta[None], resp))[0])
        except np.linalg.LinAlgError:
            return np.inf

    def _parts(self, f: Factor):
        p = self.p
        d1 = np.diagonal(f.L1, axis1=-3, axis2=-2)  # L1 is (K, q1, q1, G)
        dd = np.diagonal(f.Lx, axis1=-2, axis2=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            logdet_l = 2 * np.log(d1).sum(axis=(-1, -2)) + f.logdet2
            logdet_rx = 2 * np.log(dd[..., :p]).sum(axis=-1)
        return logdet_l, logdet_rx, dd[..., -1] ** 2

    def _criterion(self, f: Factor) -> np.ndarray:
        return criterion(*self._parts(f), self.n, self.p, self.reml)

    def parts(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log|L|^2, log|R_X|^2 and the penalized residual sum of squares r^2 at each theta: the
        pieces of both criteria, so a page can draw them unprofiled over sigma (mmcore/lessons/criteria.py)."""
        theta = np.atleast_2d(theta)
        out = self._parts(self._decompose(theta.reshape(-1, theta.shape[-1])))
        return tuple(a.reshape(theta.shape[:-1]) for a in out)

    def sigma_at(self, theta: np.ndarray) -> np.ndarray:
        """The profiled residual SD at each theta (ML: r^2/n, REML: r^2/(n-p)); many responses:
        theta (S, B, k)."""
        theta = np.atleast_2d(theta)
        flat = theta.reshape(-1, theta.shape[-1])
        resp = np.repeat(np.arange(theta.shape[0]), theta.shape[1]) if self.many else None
        Lx = self._decompose(flat, resp).Lx
        return (np.abs(Lx[:, -1, -1]) / np.sqrt(self.n - self.p if self.reml else self.n)).reshape(theta.shape[:-1])

    def solve(self, theta: np.ndarray) -> dict:
        """Everything a fit reports, at one theta (solution.py)."""
        from .solution import solve

        return solve(self, np.asarray(theta, dtype=float))
