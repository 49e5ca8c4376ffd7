"""PIRLS: the conditional modes of the random effects (and, in glmer's first stage, of beta) for a
batch of parameter points at once, and log|L|^2 at the mode.

Why our own code: lme4's penalized iteratively reweighted least squares (Bates et al. 2015, and
lme4's pwrssUpdate / glmerLaplace in src/external.cpp) for one parameter point at a time is what
glmer spends its time in. Here the optimizer's whole stencil (a few dozen points) goes through
each numpy call together, and each point starts from the last mode, so three or four Newton
steps reach the mode to 1e-10.

One iteration solves lme4's penalized weighted least squares at the current weights W:

    (Lambda' Z' W Z Lambda + I) u = Lambda' Z' W z,   z = eta - offset + (y - mu) / mu.eta

(with X and beta beside u in the first stage). The structure is the LMM engine's (lmm/deviance.py):
the grouping factor with the most random effects is block 1 (G small q1 x q1 blocks, groups on the
last axis; rows are kept sorted by its groups so every within-group sum is one `np.add.reduceat`),
every other factor is a sparse "rest" of m columns, and the dense columns (X in stage 1, and the
working response) are eliminated last. The rest's cross-products are scatter-adds over index maps
made once from the design, so a Poisson model with one random effect per observation (403 levels)
never forms a dense n x q matrix.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from ..lmm.deviance import ThetaLayout
from ..lmm.optimize import Structure
from ..lmm.small import cholesky_small, forward_small
from ..model.design import ModelData
from .family import Family

MAX_ITER = 40
HALVINGS = 20
STEP_TOL = 1e-13  # a step in eta this small (relative to max(1, |eta|)): the mode is reached
# When three quarters of a batch have reached their modes, the rest get TAIL more iterations: the
# optimizer's batch mixes its stencil (near, a few steps each) with trial points far along a line,
# where PIRLS may crawl for dozens of halved steps; those count as failed (+inf), as lme4 errs there.
TAIL = 2
PLATEAU = 1e-13  # a step that does not shrink and moves the deviance by less than this (relative): flat
STALL = 1e-8  # below this, a step that no longer shrinks tenfold is rounding: the mode is reached
# glmer's first stage: a Newton step that moves X beta by more than this is shortened to it. Under
# quasi-separation the weights of the separated rows fall to ~1e-16 (lme4's clamp of mu), the Schur
# complement for beta is singular to rounding, and the full step is rounding noise: 1e4 to 1e5 in eta,
# by machine (AVX-512 or not), after which the second stage wanders on a plateau. Shortened, eta walks
# towards the clamp as lme4's does; a regular fit from glm's start never steps this far.
BETA_STEP = 10.0


def shorten(step_beta: np.ndarray) -> np.ndarray:
    """The factor (<= 1) for each point's step, given its largest move of X beta (1 for a step that
    is not finite: PIRLS's own checks fail that point)."""
    with np.errstate(invalid="ignore"):
        f = np.minimum(1.0, BETA_STEP / np.maximum(step_beta, 1e-300))
    return np.where(np.isfinite(step_beta), f, 1.0)


@dataclass
class Modes:
    """The answer of PIRLS at P points: modes, linear predictor, log|L|^2 and the pieces AGQ needs."""

    u1: np.ndarray  # (P, q1, G)
    u2: np.ndarray  # (P, m)
    beta: np.ndarray  # (P, p) (the given beta in stage 2)
    eta: np.ndarray  # (P, n), rows sorted by block-1 group
    logdet: np.ndarray  # (P,) log|L|^2
    L1: np.ndarray  # (P, q1, q1, G) block-1 Cholesky factors at the mode
    loglik: np.ndarray  # (P,) sum of log p(y | eta) without the family's constant
    converged: np.ndarray  # (P,) bool


class GlmmSystem:
    """One GLMM's design, with its rows sorted by block-1 group and the index maps of the rest."""

    def __init__(self, md: ModelData, family: Family):
        self.md, self.family = md, family
        terms = md.terms
        self.layout = ThetaLayout.from_sizes([t.q for t in terms])
        counts: dict[str, int] = {}
        for t in terms:
            counts[t.group] = counts.get(t.group, 0) + t.nlevels * t.q
        group1 = max(counts, key=counts.get)
        self.block1 = [k for k, t in enumerate(terms) if t.group == group1]
        self.rest = [k for k in range(len(terms)) if k not in self.block1]
        self._cells(md)
        self.G = terms[self.block1[0]].nlevels
        self.starts = np.searchsorted(self.codes1, np.arange(self.G))
        self.counts = np.diff(np.append(self.starts, self.n))  # cells per group
        self.all_single = bool(np.all(self.trials == 1))
        if np.any(np.bincount(self.codes1, minlength=self.G) == 0):
            raise ValueError("a level of the grouping factor without rows")
        self.q1 = self.Z1.shape[1]
        self._t1_map = self._map(self.block1)
        self._rest_maps()

    def _cells(self, md: ModelData) -> None:
        """Rows with the same design (X, Z and every grouping factor) become one cell whose response
        is their total: Bernoulli rows become binomial counts, Poisson rows a sum over a multiplicity.
        The likelihood is the same function of eta (its constant is kept from the rows), so every
        number is unchanged and each evaluation touches fewer rows (ctsib: 480 rows, 240 cells).
        Cells are sorted by block-1 group."""
        terms = md.terms
        trials = md.trials if md.trials is not None else np.ones(len(md.y))
        codes = [terms[k].codes for k in self.block1] + [t.codes for k, t in enumerate(terms) if k not in self.block1]
        design = np.column_stack([codes[0], md.X] + [t.matrix for t in terms] + codes[1:])
        _, first, self.cell_of_row = np.unique(design, axis=0, return_index=True, return_inverse=True)
        self.cell_of_row = self.cell_of_row.ravel()  # design rows sort by block-1 code first
        self.n, self.p = len(first), md.X.shape[1]
        self.X = md.X[first]
        self.trials = np.bincount(self.cell_of_row, trials, self.n)
        self.y = self.aggregate(md.y)
        self.codes1 = codes[0][first]
        self.Z1 = np.column_stack([terms[k].matrix for k in self.block1])[first]  # (n, q1)
        self.first = first

    def aggregate(self, Y: np.ndarray) -> np.ndarray:
        """Responses per data row (..., rows) -> per cell (..., cells): successes or counts over trials."""
        trials = self.md.trials if self.md.trials is not None else np.ones(self.md.y.shape[0])
        Y2 = np.atleast_2d(Y)
        S = Y2.shape[0]
        idx = (self.cell_of_row[None, :] + self.n * np.arange(S)[:, None]).ravel()
        sums = np.bincount(idx, (Y2 * trials).ravel(), S * self.n).reshape(S, self.n)
        return (sums / self.trials)[0] if np.ndim(Y) == 1 else sums / self.trials

    def theta_scale(self) -> np.ndarray:
        """Each theta element in units of 1 / RMS of its random-effect column (as the LMM engine)."""
        scale = []
        for k, t in enumerate(self.md.terms):
            rms = np.sqrt(np.mean(t.matrix**2, axis=0))
            rms = np.where((rms > 0) & np.isfinite(rms), rms, 1.0)
            scale.append(1.0 / rms[self.layout.tri_indices(k)[0]])
        return np.concatenate(scale)

    def structure(self, with_beta: bool = False) -> Structure:
        """The optimizer's view of the parameters: theta (its diagonals and columns, scaled), and in
        glmer's second stage beta after it, free, each in units of 1 / RMS of its column of X.
        Lean (optimize.py, "costly evaluations"): a PIRLS call costs about as much for the full
        Newton step's stencil alone as for it and twenty trial points, some far along a line where
        PIRLS needs many iterations; near the optimum the full step is taken, so the trial points
        are evaluated only when it fails (ctsib: 30 -> 18 ms, a 1000-replicate bootstrap 2.4 -> 2.1 s)."""
        scale = self.theta_scale()
        if with_beta:
            rms = np.sqrt(np.mean(self.md.X**2, axis=0))
            scale = np.concatenate([scale, 1.0 / np.where(rms > 0, rms, 1.0)])
        return Structure(self.layout.diagonal, tuple(self.layout.columns()), scale, float(self.n), lean=True)

    # -- index maps, made once --------------------------------------------------------------------
    def _map(self, ks: list[int]):
        r, c, t, col = [], [], [], 0
        for k in ks:
            i, j = self.layout.tri_indices(k)
            r += list(col + i)
            c += list(col + j)
            t += list(self.layout.offsets[k] + np.arange(len(i)))
            col += self.md.terms[k].q
        return np.array(r, dtype=int), np.array(c, dtype=int), np.array(t, dtype=int), col

    def _rest_maps(self) -> None:
        terms, n = self.md.terms, self.n
        cols, self.rest_offsets, off = [], [], 0
        for k in self.rest:
            t = terms[k]
            self.rest_offsets.append(off)
            cols.append(off + t.codes[self.first][:, None] * t.q + np.arange(t.q))
            off += t.nlevels * t.q
        self.m = off
        self.Zr = np.column_stack([terms[k].matrix for k in self.rest])[self.first] if self.rest else np.zeros((n, 0))
        self.rest_cols = np.column_stack(cols) if cols else np.zeros((n, 0), dtype=int)  # (n, r)
        self.r = self.rest_cols.shape[1]
        self._rest_map = self._map(self.rest)
        if not self.m:
            return
        m, r = self.m, self.r
        # the (group, rest column) pairs that occur: the sparsity pattern of Z1' W Z2
        key = self.codes1[:, None] * m + self.rest_cols  # (n, r)
        pairs, self.row_pattern = np.unique(key.ravel(), return_inverse=True)
        self.row_pattern = self.row_pattern.reshape(n, r)
        self.pat_group, self.pat_col = pairs // m, pairs % m
        # Schur complement: every two patterns of one group meet in (col_a, col_b)
        a, b = [], []
        bounds = np.searchsorted(self.pat_group, np.arange(self.G + 1))
        for g in range(self.G):
            idx = np.arange(bounds[g], bounds[g + 1])
            a.append(np.repeat(idx, len(idx)))
            b.append(np.tile(idx, len(idx)))
        self.pair_a, self.pair_b = np.concatenate(a), np.concatenate(b)
        pair_target = self.pat_col[self.pair_a] * m + self.pat_col[self.pair_b]
        zz_target = (self.rest_cols[:, :, None] * m + self.rest_cols[:, None, :]).ravel()
        # the entries of the rest's block that can be non-zero: both scatters go into this short list
        self.zz_entries, inverse = np.unique(np.concatenate([zz_target, pair_target]), return_inverse=True)
        self.zz_index, self.pair_index = inverse[: len(zz_target)], inverse[len(zz_target) :]
        self.zz_rows, self.zz_cols = self.zz_entries // m, self.zz_entries % m
        # the rest's leading columns whose block stays diagonal after block 1 is eliminated (a factor
        # within which block 1 is nested: grouseticks' broods, each chick in one brood): they are
        # eliminated as scalars and only the rest of the rest needs a dense Cholesky
        off = self.zz_rows != self.zz_cols
        self.diagonal_lead = int(np.maximum(self.zz_rows[off], self.zz_cols[off]).min(initial=m))

    # -- theta -> the random-effect columns times Lambda -------------------------------------------
    def columns(self, theta: np.ndarray):
        """V1 = (Z1 T1)' (P, q1, n) and the rest's Z T (P, r, n) for thetas (P, k)."""
        P = theta.shape[0]
        r1, c1, t1, q1 = self._t1_map
        T1 = np.zeros((P, q1, q1))
        T1[:, r1, c1] = theta[:, t1]
        V1 = np.einsum("ni,pij->pjn", self.Z1, T1)
        if not self.r:
            return V1, np.zeros((P, 0, self.n))
        r2, c2, t2, qr = self._rest_map
        T2 = np.zeros((P, qr, qr))  # the rest's factors, block diagonal by term
        T2[:, r2, c2] = theta[:, t2]
        return V1, np.einsum("ni,pij->pjn", self.Zr, T2)

    def predictor(self, V1, R, u1, u2):
        """Lambda-scaled random part of eta (P, n) from modes u1 (P, q1, G), u2 (P, m)."""
        eta = np.einsum("pjn,pjn->pn", V1, u1[:, :, self.codes1])
        if self.r:
            eta += np.einsum("pcn,pcn->pn", R, u2[:, self.rest_cols.T])
        return eta

    # -- one penalized weighted least-squares solve ------------------------------------------------
    def _group_sums(self, a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a, self.starts, axis=-1)

    def _scatter(self, target: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
        """Sums of values (P, N) into size bins by target (N,), for each of P points: (P, size)."""
        P = values.shape[0]
        idx = (target[None, :] + size * np.arange(P)[:, None]).ravel()
        return np.bincount(idx, values.ravel(), P * size).reshape(P, size)

    def solve(self, V1, R, w, dense):
        """The PWRSS system at weights w (P, n) with dense columns (P, c, n) (X and the working
        response, last). Returns L1, the forward-solved blocks, the rest's Cholesky factor Ld."""
        P, q1, m, c = w.shape[0], self.q1, self.m, dense.shape[1]
        wV1 = w[:, None, :] * V1
        A11 = self._group_sums(wV1[:, :, None, :] * V1[:, None, :, :])  # (P, q1, q1, G)
        A11[:, np.arange(q1), np.arange(q1), :] += 1.0
        L1 = cholesky_small(A11)
        A1d = self._group_sums(dense[:, :, None, :] * wV1[:, None, :, :])  # (P, c, q1, G)
        W1d = forward_small(L1, A1d)
        wd = w[:, None, :] * dense
        D = np.empty((P, m + c, m + c))
        D[:, m:, m:] = np.einsum("pan,pbn->pab", wd, dense) - np.einsum("pajg,pbjg->pab", W1d, W1d)
        if m:
            npat = len(self.pat_col)
            wR = w[:, None, :] * R
            A12 = np.stack([self._scatter(self.row_pattern.ravel(), (wV1[:, j, :, None] * R.transpose(0, 2, 1))
                                          .reshape(P, -1), npat) for j in range(q1)], axis=1)  # (P, q1, npat)
            W12 = forward_small(L1[..., self.pat_group], A12[:, None])[:, 0]  # (P, q1, npat)
            zz = (wR.transpose(0, 2, 1)[:, :, :, None] * R.transpose(0, 2, 1)[:, :, None, :]).reshape(P, -1)
            entries = len(self.zz_entries)
            values = self._scatter(self.zz_index, zz, entries)
            values -= self._scatter(self.pair_index, np.einsum("pja,pja->pa", W12[:, :, self.pair_a],
                                                               W12[:, :, self.pair_b]), entries)
            D[:, :m, :m] = 0.0
            D[:, self.zz_rows, self.zz_cols] = values
            D[:, np.arange(m), np.arange(m)] += 1.0
            if c:
                zd = (wR[:, None, :, :] * dense[:, :, None, :]).transpose(0, 1, 3, 2).reshape(P, c, -1)
                Dzd = np.stack([self._scatter(self.rest_cols.ravel(), zd[:, k], m) for k in range(c)], axis=2)
                cross = np.einsum("pje,pkje->pke", W12, W1d[..., self.pat_group])  # (P, c, npat)
                Dzd -= np.stack([self._scatter(self.pat_col, cross[:, k], m) for k in range(c)], axis=2)
                D[:, :m, m:] = Dzd
                D[:, m:, :m] = Dzd.transpose(0, 2, 1)
        else:
            W12 = None
        return L1, W1d, W12, self._cholesky(D)

    def _cholesky(self, D: np.ndarray) -> np.ndarray:
        """Cholesky factors of D (P, r, r), whose first `diagonal_lead` rows and columns form a
        diagonal block: L = [[sqrt(d), 0], [D21 / sqrt(d), chol(D22 - L21 L21')]]."""
        k = self.diagonal_lead if self.m else 0
        if k < 8:
            return np.linalg.cholesky(D)
        L = D  # in place: D is not needed again, and its lead block is zero off the diagonal already
        idx = np.arange(k)
        root = np.sqrt(D[:, idx, idx])  # (P, k)
        L[:, idx, idx] = root
        L[:, k:, :k] /= root[:, None, :]
        L[:, :k, k:] = 0.0
        L21 = L[:, k:, :k]
        L[:, k:, k:] = np.linalg.cholesky(D[:, k:, k:] - L21 @ np.swapaxes(L21, 1, 2))
        return L

    def back(self, L1, W1d, W12, Ld):
        """The solution: u1 (P, q1, G), u2 (P, m), beta (P, c - 1 - m... the dense coefficients)."""
        m = self.m
        k = self.diagonal_lead if m and self.diagonal_lead >= 8 else 0
        Lt, c = np.swapaxes(Ld[:, k:-1, k:-1], 1, 2), Ld[:, -1, :-1]
        if Lt.shape[1] <= 64:  # small: one batched call; large: triangular solves (LU would cost a Cholesky)
            rest = np.linalg.solve(Lt, c[:, k:, None])[..., 0]
        else:
            rest = np.array([solve_triangular(L, b, lower=False) for L, b in zip(Lt, c[:, k:])])
        if k:  # the diagonal lead (see _cholesky): back-substitute it as scalars
            first = (c[:, :k] - np.einsum("pik,pi->pk", Ld[:, k:-1, :k], rest)) / np.diagonal(Ld[:, :k, :k], axis1=1, axis2=2)
            sol = np.concatenate([first, rest], axis=1)
        else:
            sol = rest
        u2, coef = sol[:, :m], sol[:, m:]
        rhs = W1d[:, -1] - np.einsum("pk,pkjg->pjg", coef, W1d[:, :-1])  # (P, q1, G)
        if m:
            rhs -= self._pattern_sums(W12 * u2[:, None, self.pat_col])
        u1 = np.empty_like(rhs)
        for i in reversed(range(self.q1)):  # L1' u1 = rhs, group by group
            s = rhs[:, i] - np.einsum("pjg,pjg->pg", L1[:, i + 1 :, i], u1[:, i + 1 :])
            u1[:, i] = s / L1[:, i, i]
        return u1, u2, coef

    def _pattern_sums(self, values: np.ndarray) -> np.ndarray:
        """(P, q1, npat) -> (P, q1, G): the patterns of each group summed."""
        P, q1, _ = values.shape
        return self._scatter(self.pat_group, values.reshape(P * q1, -1), self.G).reshape(P, q1, self.G)

    @staticmethod
    def logdet(L1, Ld, m: int) -> np.ndarray:
        d1 = np.diagonal(L1, axis1=1, axis2=2)  # (P, G, q1)
        return 2 * np.log(d1).sum(axis=(1, 2)) + 2 * np.log(np.diagonal(Ld, axis1=1, axis2=2)[:, :m]).sum(axis=1)

    # -- the iteration -----------------------------------------------------------------------------
    def modes(self, theta, Y, offset, u1, u2, beta=None) -> Modes:
        """PIRLS to the mode at thetas (P, k) for responses Y (P, n) or (n,), sorted rows.

        offset (P, n): X beta in glmer's second stage (beta=None: u only); in the first stage pass
        beta (P, p) as the start and offset 0: beta is then solved with u, as lme4 does at nAGQ = 0.
        """
        fam, trials = self.family, self.trials
        P, n = theta.shape[0], self.n
        Y = np.broadcast_to(Y, (P, n))
        V1, R = self.columns(theta)
        stage1 = beta is not None
        beta = np.zeros((P, 0)) if beta is None else beta.copy()
        u1, u2 = u1.copy(), u2.copy()
        canonical = fam.link in ("logit", "log")

        def eta_of(a, u1, u2, beta):  # the linear predictor of points a
            eta = offset[a] + self.predictor(V1[a], R[a], u1, u2)
            return eta + beta @ self.X.T if stage1 else eta

        def penalized(a, eta, u1, u2):
            ll = fam.loglik(eta, Y[a], trials).sum(axis=1)
            return -2 * ll + (u1**2).sum(axis=(1, 2)) + (u2**2).sum(axis=1), ll

        everyone = np.arange(P)
        eta = eta_of(everyone, u1, u2, beta)
        pdev, ll = penalized(everyone, eta, u1, u2)
        done = np.zeros(P, dtype=bool)
        failed = ~np.isfinite(pdev)
        done |= failed
        last = np.full(P, np.inf)
        logdet = np.full(P, np.nan)
        L1_at = np.empty((P, self.q1, self.q1, self.G))
        tail = TAIL
        for _ in range(MAX_ITER):
            a = np.flatnonzero(~done)  # points still iterating: the others are at their mode
            in_tail = len(a) <= P // 4
            tail -= in_tail
            if not len(a) or tail < 0:  # the last quarter had its chance: far trial points, not modes
                failed[a] = True
                break
            _, w, _, wn, rn, _ = fam.state(eta[a], Y[a], trials)  # Newton weights step, IRLS weights make L
            work = eta[a] - offset[a] + rn
            dense = np.concatenate([np.broadcast_to(self.X.T, (len(a), self.p, n)), work[:, None]], axis=1) \
                if stage1 else work[:, None]
            L1, W1d, W12, Ld = self.solve(V1[a], R[a], wn, dense)
            if canonical:
                logdet[a], L1_at[a] = self.logdet(L1, Ld, self.m), L1
            else:
                F1, _, _, Fd = self.solve(V1[a], R[a], w, dense[:, :0])
                logdet[a], L1_at[a] = self.logdet(F1, Fd, self.m), F1
            nu1, nu2, nbeta = self.back(L1, W1d, W12, Ld)
            if stage1:
                f = shorten(np.abs((nbeta - beta[a]) @ self.X.T).max(axis=1))
                if (f < 1).any():
                    nu1 = u1[a] + f[:, None, None] * (nu1 - u1[a])
                    nu2 = u2[a] + f[:, None] * (nu2 - u2[a])
                    nbeta = beta[a] + f[:, None] * (nbeta - beta[a])
            neta = eta_of(a, nu1, nu2, nbeta)
            # the step in eta and u: beta alone can be ill-determined (collinear columns) where eta is not
            step = np.maximum(np.abs(neta - eta[a]).max(axis=1), np.abs(nu1 - u1[a]).max(axis=(1, 2)))
            size = np.maximum(1.0, np.abs(eta[a]).max(axis=1))
            # at the mode: a step at rounding level, or one that no longer shrinks (Newton's steps
            # square each time until rounding stops them)
            slow = step > 0.1 * last[a]
            now = (step <= STEP_TOL * size) | ((step <= STALL * size) & slow)
            last[a] = step
            done[a[now]] = True
            move = ~now
            a, nu1, nu2, nbeta, neta, slow = a[move], nu1[move], nu2[move], nbeta[move], neta[move], slow[move]
            npdev, nll = penalized(a, neta, nu1, nu2)
            flat = slow & (np.abs(npdev - pdev[a]) <= PLATEAU * np.maximum(1.0, np.abs(pdev[a])))
            if flat.any():  # a plateau (quasi-separation, eta past lme4's clamp): stop, as lme4 does
                done[a[flat]] = True
                keep = ~flat
                a, nu1, nu2, nbeta, neta, npdev, nll = (x[keep] for x in (a, nu1, nu2, nbeta, neta, npdev, nll))
            for halving in range(HALVINGS + 1):  # lme4's step halving, for the points whose deviance rose
                worse = ~(npdev <= pdev[a] + 1e-10 * np.abs(pdev[a]))
                if not worse.any():
                    break
                if halving == HALVINGS or in_tail:  # lme4 errs after 20; in the tail: a far trial point
                    failed[a[worse]] = done[a[worse]] = True
                    break
                b = a[worse]
                nu1[worse], nu2[worse] = (nu1[worse] + u1[b]) / 2, (nu2[worse] + u2[b]) / 2
                nbeta[worse] = (nbeta[worse] + beta[b]) / 2
                neta[worse] = eta_of(b, nu1[worse], nu2[worse], nbeta[worse])
                npdev[worse], nll[worse] = penalized(b, neta[worse], nu1[worse], nu2[worse])
            u1[a], u2[a], beta[a], eta[a], pdev[a], ll[a] = nu1, nu2, nbeta, neta, npdev, nll
        return Modes(u1, u2, beta, eta, logdet, L1_at, ll, done & ~failed)
