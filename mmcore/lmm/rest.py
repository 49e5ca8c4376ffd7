"""The other grouping factors of the blocked Cholesky ("the rest"): everything but block 1.

Why our own code: this is MixedModels.jl's blocked Cholesky (`updateL!`) and what lme4's sparse
factor does for these models, written for this engine's batched evaluation of many thetas at once;
scipy has no sparse Cholesky. Block 1 (deviance.py) is diagonal: G small q1 x q1 blocks. The rest,
the m random effects of the other factors, meets block 1 only through Z1'Z2, which is sparse: a
group of block 1 shares rows with few levels of the other factors. Eliminating block 1 downdates the
rest by sum_g B_g' P_g B_g, where B_g = (Z1'Z2)_g (q1 x m, sparse) and P_g = T1 M_g^-1 T1' (q1 x q1).
That sum is linear in the P_g, so it is one sparse matrix (the "coupling", built once from the data)
times the vector of every P_g: its cost is the number of pairs of rest effects that share a block-1
group, not n, and not m^2 G as a dense product would be.

The rest's own block is dense only where fill-in makes it so. Nested factors (each block-1 group
inside one level of every other factor) with scalar terms keep it diagonal: its factor is a square
root and the fixed effects follow by a Schur complement. Crossed factors fill it in, and it is one
dense m x m Cholesky per theta, as in MixedModels.jl; the resource budget (budget.py) bounds m.

A small design (n m and m^2 G q1 at most SMALL) whose rest does not stay diagonal holds Z2, Z2'Z2
and B as dense arrays and downdates by B_g' P_g B_g directly: scipy's sparse constructors cost more
there than the whole optimization (crossed Penicillin: setup 0.55 -> 0.15 ms, the fit a third faster).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.linalg import solve_triangular
from scipy.linalg.lapack import dpotrf

PAIR_LIMIT = 60_000_000  # pairs in the coupling map (about 1.4 GB while it is built); past it, dense
SMALL = 20_000  # n m and m^2 G q1 at most this: every array dense (Rest._dense)


def coupling_pairs(B: sparse.csr_matrix, q1: int) -> int:
    """How many entries the coupling map of B (G q1 x m, CSR) has: sum over groups of nnz_g^2."""
    per_group = np.diff(B.indptr[:: q1]) if q1 > 1 else np.diff(B.indptr)
    return int(np.sum(per_group.astype(np.int64) ** 2))


class Rest:
    """The rest's structure, built once: Z2 (sparse), Z2'Z2, B = Z1'Z2 and the coupling map."""

    def __init__(self, md, layout, rest: list[int], Z1: np.ndarray, codes1: np.ndarray, G: int, q1: int):
        terms, n = md.terms, len(md.y)
        rows, cols, vals, r2, c2, t2, self.offsets = [], [], [], [], [], [], []
        off = 0
        for k in rest:
            t = terms[k]
            i, j = layout.tri_indices(k)
            self.offsets.append(off)
            base = off + np.arange(t.nlevels)[:, None] * t.q
            r2.append((base + i).ravel())
            c2.append((base + j).ravel())
            t2.append(np.tile(layout.offsets[k] + np.arange(len(i)), t.nlevels))
            for jj in range(t.q):
                rows.append(np.arange(n))
                cols.append(off + t.codes * t.q + jj)
                vals.append(t.matrix[:, jj])
            off += t.nlevels * t.q
        self.m, self.G, self.q1 = off, G, q1
        self.l2_map = tuple(np.concatenate(a).astype(int) for a in (r2, c2, t2))
        self.scalar = all(terms[k].q == 1 for k in rest)
        if self.scalar:
            self.lam_index = np.empty(self.m, dtype=int)
            self.lam_index[self.l2_map[0]] = self.l2_map[2]
        m = self.m
        if n * m <= SMALL and m * m * G * q1 <= SMALL and \
                self._dense(n, Z1, codes1, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)):
            return  # a small design: dense arrays, no sparse overhead
        Z1s = sparse.csr_matrix((Z1.ravel(), (np.repeat(np.arange(n), q1), (codes1[:, None] * q1 + np.arange(q1)).ravel())),
                                shape=(n, G * q1))
        self.Z2 = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                    shape=(n, self.m))
        z2tz2 = (self.Z2.T @ self.Z2).tocoo()
        self.B = (Z1s.T @ self.Z2).tocsr()  # G q1 x m
        self.B.sum_duplicates()
        self.B.sort_indices()
        self.Bt = self.B.T.tocsr()
        self.pairs = coupling_pairs(self.B, q1)
        self.dense_coupling = self.pairs > PAIR_LIMIT or self.pairs > 4 * self.m * self.m * G * q1
        if not self.dense_coupling:
            self._pair_map()
        offdiag = (z2tz2.row != z2tz2.col) & (z2tz2.data != 0)
        self.diagonal = (self.scalar and not offdiag.any() and not self.dense_coupling
                         and bool(np.all(self.ki == self.kj)))
        if self.diagonal:
            self.z2diag = np.asarray(self.Z2.multiply(self.Z2).sum(axis=0)).ravel()
        else:
            self.Z2tZ2 = z2tz2.toarray()
        if self.dense_coupling:
            self.Bd = self.B.toarray().reshape(G, q1, self.m)
        self.nnz = self.B.nnz

    def _dense(self, n: int, Z1: np.ndarray, codes1: np.ndarray, rows, cols, vals) -> bool:
        """Z2, Z2'Z2 and B = Z1'Z2 as dense arrays, and the dense coupling (downdate by B_g' P_g B_g
        directly): for a small design (crossed Penicillin: 144 rows, 6 samples) building the sparse
        matrices costs more (about 0.4 ms) than every evaluation of the fit together. Not for a rest
        that stays diagonal (nested scalar factors), whose square-root factor needs the sparse map:
        then False, and nothing is set."""
        m, G, q1 = self.m, self.G, self.q1
        Z2 = np.zeros((n, m))
        Z2[rows, cols] = vals  # each (row, column) once: a row has one level per factor
        Z2tZ2 = Z2.T @ Z2
        Bd = np.zeros((G, q1, m))
        np.add.at(Bd, codes1, Z1[:, :, None] * Z2[:, None, :])
        if self.scalar and not np.any(Z2tZ2 - np.diag(np.diag(Z2tZ2))) and \
                np.all(np.count_nonzero(np.any(Bd != 0, axis=1), axis=1) <= 1):
            return False
        self.Z2, self.Z2tZ2, self.Bd = Z2, Z2tZ2, Bd
        self.B = self.Bd.reshape(G * q1, m)
        self.Bt = self.B.T.copy()  # (m, G q1)
        self.pairs = m * m * G * q1
        self.nnz = int(np.count_nonzero(self.Bd))
        self.dense_coupling, self.diagonal, self.lower_only = True, False, False
        return True

    def _pair_map(self) -> None:
        """The coupling map: one row per pair (i, j) of rest effects that share a block-1 group, one
        column per (g, a, b) of the P_g; entry B_g[a, i] B_g[b, j]. Built without a Python loop. With
        scalar rest terms only the lower triangle (i >= j) is kept: the Cholesky reads no more."""
        B, q1, m = self.B, self.q1, self.m
        entry_row = np.repeat(np.arange(B.shape[0]), np.diff(B.indptr))
        group = entry_row // q1
        starts = B.indptr[::q1][:-1] if q1 > 1 else B.indptr[:-1]
        counts = np.diff(B.indptr[::q1]) if q1 > 1 else np.diff(B.indptr)
        per_entry = counts[group]
        left = np.repeat(np.arange(B.nnz), per_entry)
        first = np.repeat(np.cumsum(per_entry) - per_entry, per_entry)
        right = starts[group[left]] + (np.arange(len(left)) - first)
        del first
        if self.scalar:
            lower = B.indices[left] >= B.indices[right]
            left, right = left[lower], right[lower]
        keys = B.indices[left].astype(np.int64) * m + B.indices[right]
        column = group[left] * (q1 * q1) + (entry_row[left] % q1) * q1 + entry_row[right] % q1
        value = B.data[left] * B.data[right]
        del left, right
        if m * m <= 50_000_000:  # a slot per possible pair: no sort
            seen = np.zeros(m * m, dtype=bool)
            seen[keys] = True
            uniq = np.flatnonzero(seen)
            slot = np.cumsum(seen, dtype=np.int64) - 1
            inverse = slot[keys]
            del seen, slot
        else:
            uniq, inverse = np.unique(keys, return_inverse=True)
        self.keys, self.ki, self.kj = uniq, uniq // m, uniq % m
        self.coupling = sparse.csr_matrix((value, (inverse.ravel(), column)), shape=(len(uniq), self.G * q1 * q1))
        self.lower_only = self.scalar

    # -- Lambda_2 ---------------------------------------------------------------------------------------
    def lam_dense(self, theta: np.ndarray) -> np.ndarray:
        """Lambda_2 (K, m, m) for K thetas: block diagonal, each level's T of its term."""
        r, c, t = self.l2_map
        L2 = np.zeros((len(theta), self.m, self.m))
        L2[:, r, c] = theta[:, t]
        return L2

    def effects(self, theta: np.ndarray, u2: np.ndarray) -> np.ndarray:
        """b2 = Lambda_2 u2 for one theta (k,) and u2 (..., m)."""
        if self.scalar:
            return theta[self.lam_index] * u2
        return u2 @ self.lam_dense(theta[None])[0].T

    # -- pieces of one evaluation --------------------------------------------------------------------------
    def downdate(self, P: np.ndarray) -> np.ndarray:
        """sum_g B_g' P_g B_g for K sets of P (K, G, q1, q1): (K, m) if diagonal, its values at the
        coupling's pairs (K, pairs) for scalar terms, else (K, m, m)."""
        K, m = len(P), self.m
        if self.dense_coupling:
            U = np.einsum("kgab,gbm->kgam", P, self.Bd).reshape(K, -1, m)
            return self.Bd.reshape(-1, m).T[None] @ U
        vals = (self.coupling @ P.reshape(K, -1).T).T  # (K, pairs)
        if self.diagonal:
            out = np.zeros((K, m))
            out[:, self.ki] = vals
            return out
        if self.scalar:
            return vals  # the lower triangle's pairs: factor() subtracts them in place
        out = np.zeros((K, m * m))
        out[:, self.keys] = vals
        return out.reshape(K, m, m)

    def cross(self, U: np.ndarray) -> np.ndarray:
        """sum_g B_g' U_g for U (K, G, q1, r): (K, m, r), one sparse product for all K."""
        K, r = len(U), U.shape[-1]
        U2 = U.reshape(K, -1, r).transpose(1, 0, 2).reshape(-1, K * r)
        return np.asarray(self.Bt @ U2).reshape(self.m, K, r).transpose(1, 0, 2)

    def factor(self, theta: np.ndarray, P: np.ndarray, U: np.ndarray, Z2tXy: np.ndarray, Dxx: np.ndarray):
        """The rest's block of the Cholesky factor and the fixed effects' Schur complement, for K thetas.
        Returns (log|L22|^2 (K,), L22 ((K, m) diagonal or (K, m, m)), L2x (K, m, r), Lx (K, r, r))."""
        C = self.downdate(P)
        R = Z2tXy - self.cross(U)  # (K, m, r)
        m = self.m
        if self.diagonal:
            lam = theta[:, self.lam_index]
            d = lam**2 * (self.z2diag - C) + 1.0
            with np.errstate(invalid="ignore", divide="ignore"):
                L22 = np.sqrt(d)
                L2x = (lam / L22)[..., None] * R
                logdet = np.log(d).sum(axis=-1)
            Lx = np.linalg.cholesky(Dxx - np.swapaxes(L2x, 1, 2) @ L2x)
            return logdet, L22, L2x, Lx
        K, r = R.shape[0], R.shape[-1]
        D = np.empty((K, m + r, m + r))
        if self.scalar:  # Lambda_2 is diagonal: scale in place; only the lower triangle is read
            lam = theta[:, self.lam_index]
            D[:, :m, :m] = self.Z2tZ2
            if self.dense_coupling:
                D[:, :m, :m] -= C
            else:
                D.reshape(K, -1)[:, self.ki * (m + r) + self.kj] -= C
            D[:, :m, :m] *= lam[:, :, None]
            D[:, :m, :m] *= lam[:, None, :]
            D[:, m:, :m] = np.swapaxes(lam[:, :, None] * R, 1, 2)
        else:
            L2 = self.lam_dense(theta)
            L2t = np.swapaxes(L2, 1, 2)
            D[:, :m, :m] = L2t @ (self.Z2tZ2 - C) @ L2
            D[:, m:, :m] = np.swapaxes(L2t @ R, 1, 2)
        D[:, np.arange(m), np.arange(m)] += 1.0
        D[:, m:, m:] = Dxx
        Ld = _cholesky_lower(D)
        with np.errstate(invalid="ignore", divide="ignore"):
            logdet = 2 * np.log(np.diagonal(Ld[:, :m, :m], axis1=1, axis2=2)).sum(axis=-1)
        return logdet, Ld[:, :m, :m], np.swapaxes(Ld[:, m:, :m], 1, 2), Ld[:, m:, m:]

    # -- the solution at one theta ----------------------------------------------------------------------
    def solve_u(self, L22: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        """u2 from L22' u2 = rhs (one theta)."""
        return rhs / L22 if self.diagonal else solve_triangular(L22, rhs, lower=True, trans="T")

    def conditional(self, theta: np.ndarray, L22: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For one theta: diag(Q) and H_g = B_g Q B_g' (G, q1, q1), where Q = Lambda_2 S^-1 Lambda_2'
        and S = L22 L22' is the rest's block after block 1: the conditional covariance of b2 / sigma^2
        and what it adds to block 1's."""
        if self.diagonal:
            qd = theta[self.lam_index] ** 2 / L22**2
            qvals = qd[self.ki]  # diagonal: every pair is (i, i)
            return qd, (self.coupling.T @ qvals).reshape(self.G, self.q1, self.q1)
        Linv = solve_triangular(L22, np.eye(self.m), lower=True)
        Sinv = Linv.T @ Linv
        if self.scalar:
            lam = theta[self.lam_index]
            Q = lam[:, None] * Sinv * lam[None, :]
        else:
            L2 = self.lam_dense(theta[None])[0]
            Q = L2 @ Sinv @ L2.T
        if self.dense_coupling:
            H = np.einsum("gam,mn,gbn->gab", self.Bd, Q, self.Bd)
        else:
            H = (self.coupling.T @ Q.ravel()[self.keys]).reshape(self.G, self.q1, self.q1)
            if self.lower_only:  # the pairs i > j stand for (j, i) too; the diagonal once
                on_diag = np.where(self.ki == self.kj, Q.ravel()[self.keys], 0.0)
                Hd = (self.coupling.T @ on_diag).reshape(self.G, self.q1, self.q1)
                H = H + np.swapaxes(H, 1, 2) - Hd
        return np.diag(Q).copy(), H


def _cholesky_lower(D: np.ndarray) -> np.ndarray:
    """Cholesky factors of K symmetric matrices (K, s, s) of which only the lower triangle is set,
    in place (LAPACK dpotrf on the transposed, Fortran-ordered view: no copy). The upper triangle of
    the result is left as it was; every reader of the factor reads the lower triangle only."""
    for k in range(len(D)):
        c, info = dpotrf(D[k].T, lower=False, overwrite_a=True, clean=False)
        if info != 0:
            raise np.linalg.LinAlgError("not positive definite")
    return D
