"""Views of the model itself rather than of the data: matrices, the random-effects plane with
its covariance ellipse, variance components side by side."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from scipy import stats

from .design import ModelData
from .results import LmmFit

MAX_ROWS = 120  # rows of a matrix heatmap; more cannot be read on a screen


def fig_matrix(M: np.ndarray, columns, title: str, row_labels=None, colorscale: str = "Blues") -> go.Figure:
    """A design matrix as a heatmap, columns labelled; long matrices show their first rows."""
    n = len(M)
    shown = M[:MAX_ROWS]
    labels = [str(r) for r in (row_labels if row_labels is not None else range(1, n + 1))][:MAX_ROWS]
    fig = go.Figure(go.Heatmap(z=shown, x=[str(c) for c in columns], y=labels, colorscale=colorscale,
                               showscale=False, hovertemplate="row %{y}, %{x}: %{z}<extra></extra>", xgap=1))
    fig.update_layout(title=title + (f" (first {MAX_ROWS} of {n} rows)" if n > MAX_ROWS else ""),
                      yaxis=dict(autorange="reversed", title="row", showticklabels=n <= 40, type="category"),
                      xaxis=dict(side="top", tickangle=-45 if len(columns) > 8 else 0, type="category"),
                      height=460, margin=dict(t=110))
    return fig


def z_columns(md: ModelData) -> tuple[np.ndarray, list[str]]:
    """Z as a dense matrix (level-major within each term) with lme4-style column labels."""
    blocks, names = [], []
    for t in md.terms:
        Zt = np.zeros((len(md.y), t.nlevels * t.q))
        for j in range(t.q):
            Zt[np.arange(len(md.y)), t.codes * t.q + j] = t.matrix[:, j]
        blocks.append(Zt)
        names += [f"{lv}" if t.q == 1 else f"{lv}:{c}" for lv in t.levels for c in t.columns]
    return np.hstack(blocks), names


def fig_ranef_plane(fit: LmmFit, group: str | None = None) -> go.Figure:
    """Random intercept against random slope, one point per group, with the fitted 95% ellipse."""
    group = group or next(iter(fit.ranef))
    re = fit.ranef[group]
    if re.shape[1] < 2:
        raise ValueError(f"{group} has only one random effect: no plane to draw")
    a, b = re.columns[:2]
    D = np.zeros((2, 2))
    for grp, cols, cov in fit.re_cov:  # the covariance of (a, b) from the terms on this factor
        if grp.split(".")[0] == group:
            idx = [list(re.columns).index(c) for c in cols]
            for i, ci in enumerate(idx):
                for j, cj in enumerate(idx):
                    if ci < 2 and cj < 2:
                        D[ci, cj] = cov[i, j]
    r = np.sqrt(stats.chi2.ppf(0.95, 2))
    t = np.linspace(0, 2 * np.pi, 120)
    w, V = np.linalg.eigh(D)
    ellipse = (V * np.sqrt(np.maximum(w, 0))) @ np.vstack([np.cos(t), np.sin(t)]) * r
    corr = D[0, 1] / np.sqrt(D[0, 0] * D[1, 1]) if D[0, 0] * D[1, 1] > 0 else float("nan")
    fig = go.Figure([
        go.Scatter(x=ellipse[0], y=ellipse[1], mode="lines", line=dict(color="#E69F00", width=2.5),
                   name=f"fitted 95% ellipse (corr {corr:.2f})"),
        go.Scatter(x=re[a], y=re[b], mode="markers+text", text=[str(i) for i in re.index], textposition="top center",
                   marker=dict(color="#0072B2", size=9), name="BLUPs, one per group",
                   textfont=dict(size=10, color="#555555")),
    ])
    fig.update_layout(title=f"Random effects of {group}: {a} against {b}", xaxis_title=f"{a} (b0)",
                      yaxis_title=f"{b} (b1)", height=460)
    return fig


def fig_variance_components(fits: dict) -> go.Figure:
    """Standard deviations of every variance component, one colour per model."""
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"]
    fig = go.Figure()
    for k, (label, f) in enumerate(fits.items()):
        rows = f.varcorr[f.varcorr["var2"].isna() | (f.varcorr["grp"] == "Residual")]
        names = [f"{g.split('.')[0]}: {v}" if isinstance(v, str) else "Residual" for g, v in zip(rows.grp, rows.var1)]
        fig.add_trace(go.Bar(x=names, y=rows.sdcor, name=label, marker_color=palette[k % 4],
                             text=[f"{s:.3g}" for s in rows.sdcor], textposition="outside"))
    fig.update_layout(barmode="group", title="Variance components (standard deviations)",
                      yaxis_title="standard deviation", height=400, legend=dict(orientation="h", y=-0.2))
    return fig


def fig_design(fit: LmmFit, which: str = "X") -> go.Figure:
    """X or Z of the fit as a heatmap with labelled columns: the seeds' picture of y = X beta + Z b + e."""
    from .pooling import model_data

    md = model_data(fit)
    if which == "X":
        return fig_matrix(md.X, md.fixed_names, "X: the fixed-effects design", colorscale="Blues")
    Z, names = z_columns(md)
    return fig_matrix(Z, names, "Z: which group each row belongs to", colorscale="Oranges")
