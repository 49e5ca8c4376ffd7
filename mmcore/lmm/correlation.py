"""Residuals correlated within a group: nlme's corAR1 and corCAR1 as Markov chains.

Both structures give two residuals of one group the correlation phi^|t_i - t_j|: corAR1 with t the
position within the group (or a whole-number time; nlme then switches to corARMA(1, 0), the same
correlation), corCAR1 with a continuous time. Sorted by time, such a chain is Markov, so the
inverse of a group's correlation matrix C is tridiagonal (Pinheiro & Bates 2000, sec. 5.3):

    a' C^-1 b = a_1 b_1 + sum_t w_t (a_{t+1} - rho_t a_t)(b_{t+1} - rho_t b_t),
    rho_t = phi^(t_{t+1} - t_t),  w_t = 1 / (1 - rho_t^2),  log|C| = sum_t log(1 - rho_t^2).

Why not nlme's way (a dense n_i x n_i Cholesky per group, per evaluation): expanded, every
cross-product a' C^-1 b is a fixed combination of three sums per *gap* (a_{t+1} b_{t+1},
a_t b_{t+1} + a_{t+1} b_t, a_t b_t), with weights w, -w rho, w rho^2 that depend on phi and the gap
only. The sums are made once from the data per (group, distinct gap); an evaluation then forms each
group's cross-products as a weighted sum of a few precomputed matrices. With equally spaced times
(or a few distinct gaps) its cost does not grow with the group sizes, only with the number of groups.

phi is optimised on an unbounded scale, nlme's own: atanh(phi) for AR(1) (nlme's
log((1 + phi) / (1 - phi)) is twice that), logit(phi) for CAR(1).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError

KINDS = ("ar1", "car1")


class WithinGroupCorrelation:
    """The transitions (consecutive rows of a group, sorted by time) of one data set, grouped into
    (group, gap) pairs, and the weights of each pair's cross-product sums at given phis.

    kind: "ar1", "car1", or None (independent errors: every weight fixed at phi = 0).
    codes: the group of each row (0..G-1); times: the time of each row (None: position in the data).
    """

    def __init__(self, kind: str | None, codes: np.ndarray, G: int, times: np.ndarray | None, time_name: str = ""):
        self.kind, self.G = kind, G
        n = len(codes)
        if times is None:  # position within the group, in data order (nlme's default ~ 1 | group)
            by_group = np.argsort(codes, kind="stable")
            starts = np.searchsorted(codes[by_group], np.arange(G))
            times = np.empty(n)
            times[by_group] = np.arange(n) - np.repeat(starts, np.bincount(codes, minlength=G)) + 1
        times = np.asarray(times, dtype=float)
        order = np.lexsort((times, codes))  # by group, then by time
        c, t = codes[order], times[order]
        same = c[1:] == c[:-1]
        gaps = np.diff(t)
        if np.any(same & (gaps == 0)):
            g = int(c[1:][same & (gaps == 0)][0])
            raise DataError(
                f"Two rows of one group have the same time in '{time_name}' (group number {g + 1}). A correlation "
                "over time needs one observation per time within each group (nlme: 'covariate must have unique "
                "values within groups'). Average or drop the repeated rows.")
        if kind == "ar1" and np.any(same & (gaps != np.round(gaps))):
            raise DataError(
                f"AR(1) errors by position need whole-number times, and '{time_name}' has fractions. For a "
                "continuous time use correlation='car1' (nlme's corCAR1).")
        self.order = order
        self.first = np.flatnonzero(np.r_[True, ~same])  # each group's first row, in sorted order
        if len(self.first) != G:
            raise DataError("Every level of the grouping factor needs at least one observation.")
        later = np.flatnonzero(same) + 1  # rows t + 1 of each transition (t = later - 1)
        gaps = gaps[same]
        # gap classes: class 0 is "a group's first row" (weight 1, rho 0); then the distinct gaps
        distinct, cls = np.unique(gaps, return_inverse=True)
        self.class_gap = np.r_[np.inf, distinct]
        self.class_count = np.r_[0, np.bincount(cls, minlength=len(distinct))]
        row_class = np.zeros(n, dtype=int)
        row_class[later] = cls.ravel() + 1
        self.row_class = row_class  # per sorted row: its transition's class (0 for a group's first row)
        # (group, class) pairs in group order: each group's first row is its first pair
        key = c * len(self.class_gap) + row_class
        pairs, self.row_pair = np.unique(key, return_inverse=True)
        self.row_pair = self.row_pair.ravel()
        self.pair_class = pairs % len(self.class_gap)
        self.group_start = np.flatnonzero(np.r_[True, np.diff(pairs // len(self.class_gap)) != 0])
        counts = np.diff(np.r_[self.group_start, len(pairs)])
        slot = np.arange(counts.max())
        self._group_pairs = np.where(slot < counts[:, None], self.group_start[:, None] + slot, len(pairs))
        self._pair_class_padded = np.r_[self.pair_class, 0]
        self.median_gap = float(np.median(gaps)) if len(gaps) else 1.0
        self._odd = np.mod(distinct, 2) == 1  # odd gaps: rho = phi^d keeps phi's sign (AR(1))
        # rows ordered by pair (and by class), with where each pair (class) starts: sums by np.add.reduceat
        self._by_pair = np.argsort(self.row_pair, kind="stable")
        self._pair_starts = np.searchsorted(self.row_pair[self._by_pair], np.arange(len(pairs)))
        self._by_class = np.argsort(row_class, kind="stable")
        self._class_starts = np.searchsorted(row_class[self._by_class], np.arange(len(self.class_gap)))

    @property
    def n_params(self) -> int:
        return 0 if self.kind is None else 1

    # -- phi and its unconstrained scale -----------------------------------------------------------
    def phi(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        return np.tanh(u) if self.kind == "ar1" else 1.0 / (1.0 + np.exp(-u))

    def unconstrained(self, phi: float) -> float:
        return float(np.arctanh(phi)) if self.kind == "ar1" else float(np.log(phi) - np.log1p(-phi))

    def start(self) -> np.ndarray:
        """nlme's start for AR(1), phi = 0; for CAR(1) a correlation of 0.2 at the median gap (nlme
        starts at phi = 0.2 per unit of time, whatever the unit)."""
        if self.kind is None:
            return np.zeros(0)
        if self.kind == "ar1":
            return np.zeros(1)
        return np.array([self.unconstrained(0.2 ** (1.0 / self.median_gap))])

    def start_grid(self) -> np.ndarray:
        """Unconstrained values to try first: correlations at the median gap from -0.6 to 0.95 (AR(1))
        or 0.05 to 0.95 (CAR(1), which cannot be negative); the start (correlation.start) among them."""
        rho = np.array([-0.6, -0.3, 0.0, 0.2, 0.4, 0.6, 0.75, 0.85, 0.95]) if self.kind == "ar1" else \
            np.array([0.05, 0.2, 0.4, 0.6, 0.75, 0.85, 0.95])
        if self.kind == "ar1":
            return np.arctanh(rho)
        return np.array([self.unconstrained(r ** (1.0 / self.median_gap)) for r in rho])

    def _rho(self, u: np.ndarray):
        """rho and 1 - rho^2 (accurate near 1) for the gap classes after class 0: (..., classes - 1)."""
        d = self.class_gap[1:]
        if self.kind is None:
            rho = np.zeros(u.shape + d.shape)
            return rho, np.ones_like(rho)
        if self.kind == "ar1":
            phi = np.tanh(u)[..., None]
            scaled = d * np.log(np.abs(phi))
            rho = np.exp(scaled)
            rho = np.where((phi < 0) & self._odd, -rho, rho)
        else:
            scaled = d * -np.logaddexp(0.0, -u)[..., None]  # d log(expit(u)), no overflow
            rho = np.exp(scaled)
        return rho, -np.expm1(2 * scaled)

    def weights(self, u: np.ndarray):
        """u (...,) -> weights (..., 3, classes) of the three sums, and sum_g log|C_g| (...). Class 0 (a
        group's first row) has weights (1, 0, 0); a transition over gap d has w, -w rho, w rho^2 with
        rho = phi^d, w = 1 / (1 - rho^2). Points where a weight is not finite get logdet +inf."""
        u = np.asarray(u, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            rho, one_minus = self._rho(u)
            w = 1.0 / one_minus
            out = np.empty(u.shape + (3, len(self.class_gap)))
            out[..., :, 0] = (1.0, 0.0, 0.0)
            out[..., 0, 1:] = w
            out[..., 1, 1:] = -w * rho
            out[..., 2, 1:] = w * rho**2
            logdet = np.log(one_minus) @ self.class_count[1:]
        bad = ~np.isfinite(logdet)  # every class after 0 has transitions, so 1 - rho^2 = 0 or NaN shows here
        if bad.any():
            out[bad] = np.nan
            logdet = np.where(bad, np.inf, logdet)
        return out, logdet

    # -- the precomputed sums --------------------------------------------------------------------
    def sums(self, R: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
        """The three sums of r_i r_j' over the transitions, for rows R (S, n, c) in data order: per
        (group, gap) pair for the first q columns against all, (S, 3, pairs, q, c), and per gap class,
        over all groups, for the other columns against themselves, (S, 3, classes, c - q, c - q): the
        random effects' columns are combined group by group, the fixed effects' and the response's
        only in total. A group's first row counts as its own pair (class 0), with r_1 r_1' as the
        first sum and zeros as the others."""
        S, n, c = R.shape
        R = R[:, self.order]
        R0 = np.concatenate([R[:, :1], R[:, :-1]], axis=1) * (self.row_class > 0)[None, :, None]  # row t beside t + 1

        def three(A, A0, B, B0, starts):  # sums per segment of rows: (S, 3, segments, a, b)
            # rows last, so that every elementwise product runs along them (not along a or b, 1-9 long)
            A, A0, B, B0 = (np.ascontiguousarray(np.swapaxes(x, 1, 2)) for x in (A, A0, B, B0))
            outer = lambda a, b: a[:, :, None, :] * b[:, None, :, :]  # noqa: E731
            parts = np.stack([outer(A, B), outer(A0, B) + outer(A, B0), outer(A0, B0)])  # (3, S, a, b, rows)
            return np.add.reduceat(parts, starts, axis=-1).transpose(1, 0, 4, 2, 3)

        Rp, R0p = R[:, self._by_pair], R0[:, self._by_pair]
        by_pair = three(Rp[..., :q], R0p[..., :q], Rp, R0p, self._pair_starts)
        Rc, R0c = R[:, self._by_class, q:], R0[:, self._by_class, q:]
        by_class = three(Rc, R0c, Rc, R0c, self._class_starts)
        return by_pair, by_class

    def group_class_sums(self, pair_sums: np.ndarray) -> np.ndarray | None:
        """Pair sums (S, 3, pairs, a, b) laid out densely as (S, 3 classes, a, b, G), groups last, so
        that combining them at B phis is one matrix product whose result is already in the layout of
        deviance.py's algebra. None when that layout would be mostly zeros (many distinct gaps:
        continuous times at irregular visits); combine_pairs then works pair by pair."""
        S, _, P, a, b = pair_sums.shape
        C = len(self.class_gap)
        # dense costs C G per entry and phi, pair by pair P (with more overhead per entry)
        if C * self.G > 8 * P or 3 * C * self.G * a * b * S > 4_000_000:
            return None
        group = np.repeat(np.arange(self.G), np.diff(np.r_[self.group_start, P]))
        out = np.zeros((S, 3, C, self.G, a, b))
        out[:, :, self.pair_class, group] = pair_sums
        return np.ascontiguousarray(out.transpose(0, 1, 2, 4, 5, 3)).reshape(S, 3 * C, a, b, self.G)

    def combine_dense(self, weights: np.ndarray, dense: np.ndarray) -> np.ndarray:
        """Each group's a' C^-1 b at every phi from group_class_sums (S, 3 classes, *shape):
        weights (S, B, 3, classes) -> (S, B, *shape)."""
        S, B = weights.shape[:2]
        flat = dense.reshape(dense.shape[0], dense.shape[1], -1)
        return (weights.reshape(S, B, -1) @ flat).reshape((S, B) + dense.shape[2:])

    def combine_pairs(self, weights: np.ndarray, sums: np.ndarray) -> np.ndarray:
        """As combine_dense, pair by pair, for sums laid out (S, 3, *shape, pairs + 1), pairs last and a
        last pair of zeros (padding):
        weights (S, B, 3, classes) -> (S, B, *shape, G). Its cost grows with the number of pairs."""
        per_pair = weights[..., self._pair_class_padded]  # (S, B, 3, pairs + 1): the last one pads
        S, B = per_pair.shape[:2]
        shape = sums.shape[2:-1]
        flat = sums.reshape(S, 3, -1, sums.shape[-1])[:, None]  # (S, 1, 3, x, pairs + 1)
        terms = per_pair[:, :, 0, None] * flat[:, :, 0]
        for k in (1, 2):
            terms += per_pair[:, :, k, None] * flat[:, :, k]
        # each group's pairs side by side (padded with the zero pair): a sum over a short last axis,
        # not a reduceat with one tiny reduction per group and entry
        grouped = terms[..., self._group_pairs].sum(axis=-1)
        return grouped.reshape((S, B) + shape + (self.G,))

    def combine_classes(self, weights: np.ndarray, sums: np.ndarray) -> np.ndarray:
        """sum over all groups of a' C^-1 b: weights (S, B, 3, classes), sums per class
        (S, 3, classes, a, b) -> (S, B, a, b)."""
        S, B = weights.shape[:2]
        return (weights.reshape(S, B, -1) @ sums.reshape(S, -1, sums.shape[-2] * sums.shape[-1])).reshape(
            S, B, sums.shape[-2], sums.shape[-1])

    def whiten(self, e: np.ndarray, u: float) -> np.ndarray:
        """C^-1/2 e per group (the lower Cholesky factor's inverse, as nlme's normalized residuals):
        e_1, then (e_{t+1} - rho_t e_t) / sqrt(1 - rho_t^2); e in data order, result in data order."""
        with np.errstate(divide="ignore"):
            rho, one_minus = self._rho(np.asarray(u, dtype=float))
        rho, one_minus = np.r_[0.0, rho], np.r_[1.0, one_minus]  # class 0: a group's first row
        es = e[self.order]
        r, om = rho[self.row_class], one_minus[self.row_class]
        prev = np.r_[0.0, es[:-1]]
        out = np.where(self.row_class > 0, (es - r * prev) / np.sqrt(om), es)
        back = np.empty_like(out)
        back[self.order] = out
        return back
