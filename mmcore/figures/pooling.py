"""The pooling view of lesson 2: what complete, no and partial pooling mean, drawn for every kind of
random-intercept model (Tristan Mahr's "plotting partial pooling" figures are the reference).

- No covariate (Dyestuff, estrone): one column per group, its data, its own mean (no pooling) and the
  mixed model's estimate (partial pooling) with an arrow from one to the other; the overall mean
  (complete pooling) across. Groups are ordered by their own mean, so the arrows point inward.
- A categorical covariate (penicillin's four processes): a panel per group, categories as categories
  (never joined by lines), the three fits as markers side by side at each category.
- A numeric covariate (sleepstudy's Days): a panel per group with all three lines.

Panels are labelled with their group; every mark has a hover label. Style and construction: style.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..lessons.pooling import pooling
from ..lmm.fit import model_data
from ..lmm.results import LmmFit
from .style import POOLING, figure, legend_below, panel_axes, traces_range

__all__ = ["fig_pooling", "covariate_kind"]

DATA = dict(color="#56B4E9", size=6, opacity=0.75)
MARK = {"none": "diamond", "partial": "circle", "complete": "line-ew-open"}


def covariate_kind(fit: LmmFit) -> tuple[str, str | None]:
    """('none' | 'categorical' | 'numeric' | 'several', the covariate) of a fit's fixed part."""
    groups = {v for g in fit.ngroups for v in g.split(":")}
    names = [v for v in fit.variables[1:] if v not in groups]
    if not names:
        return "none", None
    if len(names) > 1:
        return "several", None
    col = fit.source[names[0]]
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    return ("numeric" if numeric else "categorical"), names[0]


def fig_pooling(fit: LmmFit, groups: tuple = (), show=("complete", "none", "partial")) -> go.Figure:
    """The three kinds of pooling for a model with one random intercept, drawn as the covariate
    allows (module docstring). groups: the groups to draw (all if empty)."""
    kind, x = covariate_kind(fit)
    pool = pooling(fit, md=model_data(fit))
    levels = [str(g) for g in pool["group"].cat.categories]
    chosen = [g for g in levels if g in set(map(str, groups))] if groups else levels
    pool = pool.assign(group=pool["group"].astype(str))
    if kind == "none":
        return _columns(fit, pool, chosen, show)
    pool["x"] = fit.data[x].to_numpy()
    return _panels(fit, pool[pool["group"].isin(chosen)], chosen, x, kind == "categorical", show)


def _columns(fit: LmmFit, pool: pd.DataFrame, chosen: list, show) -> go.Figure:
    per = pool[pool["group"].isin(chosen)].groupby("group", sort=False)
    own, mixed, n = per["none"].mean(), per["partial"].mean(), per.size()
    order = list(own.sort_values().index)
    pos = {g: i for i, g in enumerate(order)}
    rng = np.random.default_rng(0)
    xs = np.array([pos[g] for g in pool.loc[pool["group"].isin(chosen), "group"]], dtype=float)
    xs += rng.uniform(-0.18, 0.18, len(xs))
    rows = pool[pool["group"].isin(chosen)]
    traces = [dict(type="scatter", x=xs, y=rows["y"].to_numpy(), mode="markers", name="data",
                   marker=DATA, text=rows["group"].tolist(), hovertemplate="%{text}: %{y:.4g}<extra>data</extra>")]
    at = np.arange(len(order), dtype=float)
    hover = [f"{g}: n = {n[g]}, own mean {own[g]:.4g}, mixed model {mixed[g]:.4g}" for g in order]
    for method, values in (("none", own), ("partial", mixed)):
        if method in show:
            s = POOLING[method]
            traces.append(dict(type="scatter", x=at + (0.25 if method == "partial" else -0.25),
                               y=values[order].to_numpy(), mode="markers", name=s["name"], text=hover,
                               hovertemplate="%{text}<extra></extra>",
                               marker=dict(color=s["color"], size=11, symbol=MARK[method],
                                           line=dict(color="white", width=1))))
    annotations = []
    if "none" in show and "partial" in show and len(order) <= 60:  # the move, as an arrow
        annotations = [dict(x=i + 0.25, y=float(mixed[g]), ax=i - 0.25, ay=float(own[g]), xref="x", yref="y",
                            axref="x", ayref="y", showarrow=True, arrowhead=2, arrowwidth=1.5, arrowsize=1,
                            arrowcolor="#555555", text="") for i, g in enumerate(order)]
    shapes = []
    if "complete" in show:
        overall = float(pool["complete"].mean())
        shapes.append(dict(type="line", xref="paper", x0=0, x1=1, y0=overall, y1=overall,
                           line=dict(color=POOLING["complete"]["color"], dash="dot", width=2)))
        traces.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=POOLING["complete"]["name"],
                           line=dict(color=POOLING["complete"]["color"], dash="dot", width=2)))
    group = fit.re_cov[0][0]
    return figure(traces, dict(
        title=dict(text=f"{fit.response} by {group}: each group's own mean (no pooling) and the mixed model's "
                        "estimate (partial pooling)"),
        height=460, shapes=shapes, annotations=annotations, legend=legend_below(-0.22),
        xaxis=dict(title=dict(text=f"{group} (ordered by its own mean)"), tickmode="array", tickvals=at.tolist(),
                   ticktext=order, range=[-0.7, len(order) - 0.3]),
        yaxis=dict(title=dict(text=fit.response))))


def _panels(fit: LmmFit, pool: pd.DataFrame, chosen: list, x: str, categorical: bool, show) -> go.Figure:
    cols = min(6, max(1, len(chosen)))
    nrows = int(np.ceil(len(chosen) / cols))
    traces, layout = [], dict(height=max(340, 190 * nrows + 120), legend=legend_below(-0.35 / nrows),
                              annotations=[], title=dict(text=f"{fit.response} by {x}, one panel per group: "
                                                              "the three kinds of pooling"))
    cats = sorted(pool["x"].unique().tolist()) if categorical else None
    offset = {"complete": 0.0, "none": -0.22, "partial": 0.22}
    methods = [m for m in ("complete", "none", "partial") if m in show]
    # each group's rows and its fitted values at each x, split once (not a mask and a groupby per panel)
    by_group = dict(tuple(pool.groupby("group", sort=False)))
    means = {g: m.droplevel(0) for g, m in pool.groupby(["group", "x"], sort=True)[methods].mean().groupby(
        level=0, sort=False)} if methods else {}
    for k, g in enumerate(chosen):
        ax, axes, label = panel_axes(k, len(chosen), cols)
        layout.update(axes)
        layout["annotations"].append(label | dict(text=str(g)))
        rows = by_group.get(g, pool.iloc[:0])
        xd = rows["x"].map({c: i for i, c in enumerate(cats)}).to_numpy(float) if categorical else rows["x"].to_numpy()
        traces.append(dict(type="scatter", x=xd, y=rows["y"].to_numpy(), mode="markers", name="data",
                           showlegend=k == 0, legendgroup="data", marker=DATA, xaxis=f"x{ax}", yaxis=f"y{ax}",
                           hovertemplate=f"{g}: {x} %{{x}}, %{{y:.4g}}<extra>data</extra>"))
        for method in methods:
            s = POOLING[method]
            fitted = means[g][method] if g in means else rows.groupby("x")[method].mean()
            common = dict(name=s["name"], showlegend=k == 0, legendgroup=method, xaxis=f"x{ax}", yaxis=f"y{ax}",
                          hovertemplate=f"{g}: %{{y:.4g}}<extra>{s['name']}</extra>")
            if categorical:
                at = np.array([cats.index(c) for c in fitted.index], dtype=float) + offset[method]
                traces.append(dict(type="scatter", x=at, y=fitted.to_numpy(), mode="markers", **common,
                                   marker=dict(color=s["color"], size=10, symbol=MARK[method],
                                               line=dict(color=s["color"], width=2))))
            else:
                traces.append(dict(type="scatter", x=fitted.index.to_numpy(), y=fitted.to_numpy(), mode="lines",
                                   line=dict(color=s["color"], dash=s["dash"], width=2.5), **common))
        if categorical:
            layout[f"xaxis{ax}"].update(tickmode="array", tickvals=list(range(len(cats))), ticktext=[str(c) for c in cats])
    layout["annotations"].append(dict(text=x, x=0.5, y=0, xref="paper", yref="paper", yshift=-28, showarrow=False,
                                      yanchor="top", font=dict(size=14)))
    layout["annotations"].append(dict(text=fit.response, x=0, y=0.5, xref="paper", yref="paper", xshift=-46,
                                      showarrow=False, textangle=-90, font=dict(size=14)))
    layout["margin"] = dict(l=64, r=10, t=60, b=10)
    layout["yaxis"]["range"] = traces_range(traces, "y")
    layout["xaxis"]["range"] = [-0.5, len(cats) - 0.5] if categorical else traces_range(traces, "x", pad=0.05, steps=None)
    return figure(traces, layout)
