"""The lecture notes' mathematics made visible: X, Z, Lambda, D = sigma^2 Lambda Lambda' and
V = Z D Z' + sigma^2 I of a fit as dense matrices, and the textbook formulas computed from them:
GLS beta = (X' V^-1 X)^-1 X' V^-1 y and the BLUPs E(b | y) = D Z' V^-1 (y - X beta).

Dense n x n matrices: for the small teaching data sets only (the engine never forms V)."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..lmm.deviance import ThetaLayout
from ..lmm.fit import model_data
from ..lmm.results import LmmFit
from ..model.design import z_columns

MAX_ROWS = 600


def marginal(fit: LmmFit) -> dict:
    """X, Z, Lambda, D, V, and GLS beta and BLUPs computed from V, for a fit of at most 600 rows."""
    md = model_data(fit)
    n = len(md.y)
    if n > MAX_ROWS:
        raise DataError(f"Forming V needs an n x n matrix; this view is for data of up to {MAX_ROWS} rows (these have {n}).")
    Z, z_names = z_columns(md)
    layout = ThetaLayout.from_sizes([t.q for t in md.terms])
    blocks = [np.kron(np.eye(t.nlevels), layout.factor(fit.theta, k)) for k, t in enumerate(md.terms)]
    Lam = np.zeros((Z.shape[1], Z.shape[1]))
    at = 0
    for b in blocks:
        Lam[at : at + len(b), at : at + len(b)] = b
        at += len(b)
    D = fit.sigma**2 * Lam @ Lam.T
    V = Z @ D @ Z.T + fit.sigma**2 * np.eye(n)
    Vinv_X = np.linalg.solve(V, md.X)
    beta = np.linalg.solve(md.X.T @ Vinv_X, Vinv_X.T @ md.y)
    blup = D @ Z.T @ np.linalg.solve(V, md.y - md.X @ beta)
    return dict(X=md.X, x_names=list(md.fixed_names), Z=Z, z_names=z_names, Lambda=Lam, D=D, V=V,
                beta=beta, blup=blup, y=md.y)


def engine_blups(fit: LmmFit) -> np.ndarray:
    """The engine's BLUPs in Z's column order (term by term, level-major), to set beside `marginal`'s."""
    md = model_data(fit)
    out = []
    for t in md.terms:
        out.append(fit.ranef[t.group][list(t.columns)].to_numpy().ravel())
    return np.concatenate(out)
