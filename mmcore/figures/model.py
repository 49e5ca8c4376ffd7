"""Views of the model itself rather than of the data: design matrices, the random-effects plane
with its covariance ellipse, variance components side by side. Style and construction: style.py."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from scipy import stats

from ..lmm.fit import model_data
from ..lmm.results import LmmFit
from ..model.design import z_columns
from .style import SCALE_ORANGE, SCALE_SIGNED, SCALE_VALUES, figure, legend_below, place_labels, steady_range

MAX_ROWS = 120  # rows of a matrix heatmap; more cannot be read on a screen
TEXT_CELLS = 12  # a matrix of at most this many rows and columns has its values written in its cells


def fig_matrix(M: np.ndarray, columns, title: str, row_labels=None, colorscale=None, signed: bool = False) -> go.Figure:
    """A matrix as a heatmap, columns labelled; long matrices show their first rows.

    Zero is white. A matrix with negative entries, or one whose signs matter (`signed`: a covariance
    factor, covariances, correlations), gets a diverging scale centred on zero (SCALE_SIGNED:
    vermillion below, blue above, symmetric about 0); others run from white at 0 to the largest value
    (SCALE_VALUES, or `colorscale`). A colour bar is shown wherever the values are more than one
    number besides 0 (an indicator matrix such as Z needs none), and a matrix of at most TEXT_CELLS
    rows and columns has its non-zero values written in its cells."""
    n = len(M)
    z = np.asarray(M[:MAX_ROWS], dtype=float)
    labels = [str(r) for r in (row_labels if row_labels is not None else range(1, n + 1))][:MAX_ROWS]
    finite = z[np.isfinite(z)]
    signed = signed or bool((finite < 0).any())
    top = float(np.abs(finite).max()) if finite.size else 0.0
    top = top or 1.0
    varies = len(np.unique(finite[finite != 0])) > 1
    trace = dict(type="heatmap", z=z, x=[str(c) for c in columns], y=labels, showscale=varies, xgap=1,
                 ygap=1 if len(z) <= 40 else 0, colorscale=SCALE_SIGNED if signed else (colorscale or SCALE_VALUES),
                 zmin=-top if signed else 0.0, zmax=top, colorbar=dict(thickness=14, outlinewidth=0, len=0.9),
                 hovertemplate="row %{y}, %{x}: %{z:.4g}<extra></extra>")
    if z.shape[0] <= TEXT_CELLS and z.shape[1] <= TEXT_CELLS:  # room for the numbers themselves
        trace.update(text=[["" if v == 0 else f"{v:.3g}" for v in row] for row in z], texttemplate="%{text}",
                     textfont=dict(size=11))
    return figure([trace], dict(
        title=dict(text=title + (f" (first {MAX_ROWS} of {n} rows)" if n > MAX_ROWS else "")), height=460,
        yaxis=dict(autorange="reversed", title=dict(text="row"), showticklabels=n <= 40, type="category"),
        xaxis=dict(side="bottom", tickangle=-45 if len(columns) > 8 else 0, type="category"),
        margin=dict(l=10, r=10, t=60, b=90)))


def fig_design(fit: LmmFit, which: str = "X") -> go.Figure:
    """X or Z of the fit as a heatmap with labelled columns: the seeds' picture of y = X beta + Z b + e."""
    md = model_data(fit)
    if which == "X":
        return fig_matrix(md.X, md.fixed_names, "X: the fixed-effects design")
    Z, names = z_columns(md)
    return fig_matrix(Z, names, "Z: which group each row belongs to", colorscale=SCALE_ORANGE)


def random_covariance(fit: LmmFit, group: str) -> np.ndarray:
    """The fitted covariance of a factor's random effects, assembled from all its terms
    (an uncorrelated (x || g) model has two terms on g: the result is diagonal)."""
    columns = list(fit.ranef[group].columns)
    D = np.zeros((len(columns), len(columns)))
    for grp, cols, cov in fit.re_cov:
        if grp.split(".")[0] == group:
            idx = [columns.index(c) for c in cols]
            D[np.ix_(idx, idx)] = cov
    return D


def fig_ranef_plane(fit: LmmFit, group: str | None = None) -> go.Figure:
    """Random intercept against random slope, one point per group (its BLUPs, labelled where a
    label fits), with the fitted covariance's 95% ellipse: where 95% of the groups' true deviations
    lie under the fitted model, its correlation in the subtitle. A square plot box (the units of the
    axes differ); legend below. The axes' ranges are steady (steady_range) and the legend's names do
    not change with the fit: a slider that moves the fit (random slopes' truth, the origin of x) then
    mostly moves the points and labels, which lab/chart.js plays as a frame instead of a new plot."""
    group = group or next(iter(fit.ranef))
    re = fit.ranef[group]
    if re.shape[1] < 2:
        raise ValueError(f"{group} has only one random effect: no plane to draw")
    a, b = re.columns[:2]
    D = random_covariance(fit, group)[:2, :2]
    t = np.linspace(0, 2 * np.pi, 120)
    w, V = np.linalg.eigh(D)
    ellipse = (V * np.sqrt(np.maximum(w, 0))) @ np.vstack([np.cos(t), np.sin(t)]) * np.sqrt(stats.chi2.ppf(0.95, 2))
    corr = D[0, 1] / np.sqrt(D[0, 0] * D[1, 1]) if D[0, 0] * D[1, 1] > 0 else float("nan")
    # a and b in separate terms ((x || g)): their correlation is 0 by the model, not estimated
    apart = not any(grp.split(".")[0] == group and a in cols and b in cols for grp, cols, _ in fit.re_cov)
    if apart:
        about = "0, fixed by the uncorrelated model"
    elif np.isfinite(corr):
        about = f"{corr:.2f} (fitted)" if round(corr, 2) != 0 else "0.00 (fitted)"  # not -0.00
    else:
        about = "none (a variance is 0)"
    xs, ys = re[a].to_numpy(), re[b].to_numpy()
    allx, ally = np.concatenate([xs, ellipse[0]]), np.concatenate([ys, ellipse[1]])
    rx, ry = steady_range(allx, pad=0.08), steady_range(ally, pad=0.08)
    labels = [str(i) for i in re.index]
    positions = place_labels(xs, ys, labels, rx, ry)
    return figure([
        dict(type="scatter", x=ellipse[0], y=ellipse[1], mode="lines", hoverinfo="skip",
             line=dict(color="#E69F00", width=2.5), name="fitted 95% ellipse of the true effects"),
        dict(type="scatter", x=xs, y=ys, mode="markers+text", name="BLUPs (shrunken), one per group",
             text=[lab if pos else "" for lab, pos in zip(labels, positions)],
             textposition=[pos or "top center" for pos in positions], marker=dict(color="#0072B2", size=9),
             textfont=dict(size=11, color="#444444"), customdata=labels,
             hovertemplate=f"{group} %{{customdata}}<br>{a}: %{{x:.4g}}<br>{b}: %{{y:.4g}}<extra></extra>"),
    ], dict(title=dict(text=f"Random effects of {group}: {a} against {b}",
                       subtitle=dict(text=f"the ellipse's correlation: {about}")),
            height=520, legend=legend_below(-0.2), margin=dict(t=90),  # the title, its subtitle below it
            xaxis=dict(title=dict(text=f"{a} deviation"), range=rx, constrain="domain"),
            yaxis=dict(title=dict(text=f"{b} deviation"), range=ry, scaleanchor="x",
                       scaleratio=float((rx[1] - rx[0]) / (ry[1] - ry[0])), constrain="domain")))


def fig_variance_components(fits: dict) -> go.Figure:
    """Standard deviations of every variance component, one colour per model."""
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"]
    traces = []
    for k, (label, f) in enumerate(fits.items()):
        rows = f.varcorr[f.varcorr["var2"].isna() | (f.varcorr["grp"] == "Residual")]
        names = [f"{g.split('.')[0]}: {v}" if isinstance(v, str) else "Residual" for g, v in zip(rows.grp, rows.var1)]
        traces.append(dict(type="bar", x=names, y=rows.sdcor.tolist(), name=label, marker=dict(color=palette[k % 4]),
                           text=[f"{s:.3g}" for s in rows.sdcor], textposition="outside"))
    return figure(traces, dict(barmode="group", title=dict(text="Variance components (standard deviations)"),
                               yaxis=dict(title=dict(text="standard deviation")), height=400,
                               legend=legend_below(-0.2)))
