"""The views every page shares, built from a fit: lines per group with the three kinds of
pooling, BLUP caterpillar, Q-Q plots with a simulation envelope, residuals, one panel per group.
Style and construction: style.py."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from ..lessons.pooling import pooling
from ..lmm.fit import model_data
from ..lmm.results import LmmFit
from ..model.design import ModelData
from .style import (
    LIGHT,
    MAX_POINTS,
    PALETTE,
    PALETTE_MANY,
    POOLING,
    figure,
    hline,
    legend_below,
    note,
    panel_axes,
    styled,
    traces_range,
    vline,
)

__all__ = ["fig_lines", "fig_panels", "fig_caterpillar", "fig_qq", "fig_qq_ranef", "fig_qq_residuals",
           "fig_residuals", "styled", "x_variable", "PALETTE", "POOLING"]


def x_variable(fit: LmmFit) -> str | None:
    """The predictor to put on the x axis: the first numeric fixed predictor, else the first factor."""
    groups = {v for g in fit.ngroups for v in g.split(":")}
    names = [v for v in fit.variables[1:] if v not in groups]
    data = fit.source
    numeric = [v for v in names if pd.api.types.is_numeric_dtype(data[v]) and not pd.api.types.is_bool_dtype(data[v])]
    return (numeric or names or [None])[0]


def _segments(keys: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    """One polyline per key (sorted by x, mean y at repeated x), joined with gaps: a whole family
    of lines in a single trace, which plotly draws and serialises far faster than one per line."""
    _, k = np.unique(keys, return_inverse=True)
    xv, xi = np.unique(x, return_inverse=True)
    cells, inverse = np.unique(k.ravel() * len(xv) + xi.ravel(), return_inverse=True)
    ys = np.bincount(inverse, y) / np.bincount(inverse)
    ck, cx = cells // len(xv), xv[cells % len(xv)]
    breaks = np.flatnonzero(ck[1:] != ck[:-1]) + 1
    if cx.dtype.kind in "fiu":  # numeric x: NaN gaps keep the arrays numeric (base64 on the wire)
        return np.insert(cx.astype(float), breaks, np.nan), np.insert(ys, breaks, np.nan)
    return np.insert(cx.astype(object), breaks, None).tolist(), np.insert(ys.astype(object), breaks, None).tolist()


def _line(x, y, name: str, color: str, dash: str = "solid", width: float = 2, mode: str = "lines", **kw) -> dict:
    line = dict(type="scatter", x=x, y=y, mode=mode, name=name, hoverinfo="skip",
                line=dict(color=color, dash=dash, width=width))
    line.update(kw)  # a hovertemplate (with hoverinfo None) gives the line a hover label
    return {k: v for k, v in line.items() if v is not None}


def fig_lines(fit: LmmFit, groups: list | None = None, show=("partial", "population"),
              x: str | None = None, md: ModelData | None = None) -> go.Figure:
    """Data and fitted lines per group, with complete / no / partial pooling and the population
    line. Colour marks the group (its points and its lines); dash marks the kind of fit. Groups
    that share a colour share a trace: at most 7 traces per kind of fit, however many groups."""
    md = md or model_data(fit)
    pool = pooling(fit, md=md)
    x = x if x is not None else x_variable(fit)
    pool["x"] = fit.data[x].to_numpy() if x else pool["group"].to_numpy()
    levels = list(pool["group"].cat.categories)  # a categorical: no pass over the rows in Python
    chosen = [g for g in groups if g in set(levels)] if groups else levels
    rows = pool[pool["group"].isin(chosen)] if len(chosen) < len(levels) else pool
    palette = PALETTE if len(chosen) <= len(PALETTE) else PALETTE_MANY
    colour_of = {g: palette[i % len(palette)] for i, g in enumerate(chosen)}
    code_colour = np.array([colour_of.get(g, PALETTE[0]) for g in levels], dtype=object)
    numeric_x = x is not None and pd.api.types.is_numeric_dtype(rows["x"])
    many = len(rows) > MAX_POINTS
    shown = rows.sample(MAX_POINTS, random_state=0) if many else rows
    traces = [dict(type="scattergl", x=shown["x"].to_numpy(), y=shown["y"].to_numpy(), mode="markers",
                   name="data (colour: group)", text=shown["group"].astype(str).tolist(),
                   marker=dict(color=code_colour[shown["group"].cat.codes.to_numpy()].tolist(), size=7, opacity=0.7),
                   hovertemplate="%{text}<br>%{x}, %{y:.4g}<extra></extra>")]
    if "complete" in show:  # one line for everyone
        sx, sy = _segments(np.zeros(len(rows)), rows["x"].to_numpy(), rows["complete"].to_numpy())
        traces.append(_line(sx, sy, POOLING["complete"]["name"], POOLING["complete"]["color"], "dot", 3))
    colours = code_colour[rows["group"].cat.codes.to_numpy()]
    for method in ("none", "partial"):  # a line per group in the group's colour; one trace per colour
        if method not in show:
            continue
        style = POOLING[method]
        for colour in dict.fromkeys(colour_of.values()):
            part = rows[colours == colour]
            codes = part["group"].cat.codes.to_numpy()
            sx, sy = _segments(codes, part["x"].to_numpy(), part[method].to_numpy())
            names = _segments(codes, part["x"].to_numpy(), codes.astype(float))[1]  # the group of each point
            label = [levels[int(c)] if c == c and c is not None else "" for c in names]
            traces.append(_line(sx, sy, style["name"], colour, style["dash"], 2.5 if method == "partial" else 2,
                                legendgroup=method, showlegend=False, connectgaps=False, text=label,
                                hoverinfo=None, hovertemplate=f"%{{text}}: %{{y:.4g}}<extra>{style['name']}</extra>",
                                **({} if numeric_x else {"mode": "lines+markers"})))
        traces.append(_line([None], [None], style["name"], "#555555", style["dash"], legendgroup=method))
    if "population" in show:
        pop = pool.groupby("x", sort=True, observed=True)["population"].mean()
        traces.append(_line(pop.index.to_numpy(), pop.to_numpy(), POOLING["population"]["name"], "#000000",
                            width=4))
    notes = [f"{len(chosen)} of {len(levels)} groups shown"] if len(chosen) < len(levels) else []
    notes += [f"a random {MAX_POINTS:,} of {len(rows):,} points"] if many else []
    # every trace's x: the population line spans all groups, not only those shown
    xs = {"range": traces_range(traces, "x", steps=None)} if numeric_x else {"type": "category"}
    return figure(traces, dict(
        title=dict(text=f"{fit.response} by {x or 'group'}, a line per group"), height=460,
        xaxis=dict(title=dict(text=x or md.terms[0].group), **xs),
        yaxis=dict(title=dict(text=fit.response), range=traces_range(traces, "y")), legend=legend_below(),
        annotations=[note("; ".join(notes))] if notes else []))


def fig_panels(fit: LmmFit, show=("partial", "none", "population"), md: ModelData | None = None,
               max_panels: int = 24) -> go.Figure:
    """One small panel per group (lattice's xyplot): data, the group's lines and the population line."""
    md = md or model_data(fit)
    pool = pooling(fit, md=md)
    x = x_variable(fit)
    pool["x"] = fit.data[x].to_numpy() if x else 0
    levels = list(pool["group"].cat.categories)[:max_panels]
    cols = min(6, len(levels))
    nrows = int(np.ceil(len(levels) / cols))
    traces, layout = [], dict(height=max(300, 170 * nrows), legend=legend_below(-0.08), annotations=[],
                              title=dict(text=f"{fit.response} by {x or 'group'}, one panel per group"))
    for k, g in enumerate(levels):
        ax, axes, label = panel_axes(k, len(levels), cols)
        layout.update(axes)
        layout["annotations"].append(label | dict(text=str(g)))
        rows = pool[pool["group"] == g]
        traces.append(dict(type="scatter", x=rows["x"].to_numpy(), y=rows["y"].to_numpy(), mode="markers",
                           showlegend=False, marker=dict(color="#56B4E9", size=5), xaxis=f"x{ax}", yaxis=f"y{ax}"))
        for method in [m for m in ("none", "partial", "population") if m in show]:
            s = POOLING[method]
            fitted = rows.groupby("x", sort=True, observed=True)[method].mean()
            traces.append(_line(fitted.index.to_numpy(), fitted.to_numpy(), s["name"], s["color"], s["dash"],
                                showlegend=k == 0, legendgroup=method, xaxis=f"x{ax}", yaxis=f"y{ax}"))
    return figure(traces, layout)


def fig_caterpillar(fit: LmmFit, group: str | None = None, term: str | None = None) -> go.Figure:
    """Each group's conditional mode (BLUP) with a 95% interval (+-1.96 conditional SD), sorted."""
    group = group or next(iter(fit.ranef))
    term = term or fit.ranef[group].columns[0]
    est = fit.ranef[group][term].to_numpy()
    sd = fit.ranef_sd[group][term].to_numpy()
    order = np.argsort(est, kind="stable")
    labels = [str(v) for v in fit.ranef[group].index[order]]
    title = dict(text=f"Random effects of {group}: {term} (conditional modes, 95% intervals)")
    if len(labels) > 80:  # too many to label: rank on x, the interval as a band, the group on hover
        rank = np.arange(1, len(labels) + 1)
        lo, hi = est[order] - 1.96 * sd[order], est[order] + 1.96 * sd[order]
        return figure([
            dict(type="scattergl", x=rank, y=hi, mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip"),
            dict(type="scattergl", x=rank, y=lo, mode="lines", line=dict(width=0), fill="tonexty",
                 fillcolor=LIGHT, name="95% interval", hoverinfo="skip"),
            dict(type="scattergl", x=rank, y=est[order], mode="markers", name="BLUP", text=labels,
                 marker=dict(color="#0072B2", size=4), hovertemplate="%{text}: %{y:.4g}<extra></extra>"),
        ], dict(title=title, xaxis=dict(title=dict(text=f"{group}, ranked ({len(labels):,} groups)")),
                yaxis=dict(title=dict(text=f"{term} deviation")), shapes=[hline(0)], height=420,
                legend=legend_below(-0.2)))
    trace = dict(type="scatter", x=est[order], y=labels, mode="markers", name="BLUP +- 1.96 SD",
                 error_x=dict(type="data", array=1.96 * sd[order], color="#56B4E9", thickness=2),
                 marker=dict(color="#0072B2", size=8), hovertemplate="%{y}: %{x:.4g}<extra></extra>")
    return figure([trace], dict(
        title=title, xaxis=dict(title=dict(text=f"{term} deviation from the population")),
        yaxis=dict(title=dict(text=group), type="category"), shapes=[vline(0)],
        height=max(320, 18 * len(labels) + 120)))


@lru_cache(maxsize=256)
def qq_envelope(n: int, nsim: int = 199, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise 95% band of sorted standardised normal samples of size n (the simulation envelope)."""
    sims = np.random.default_rng(seed).standard_normal((nsim, n))
    sims = (sims - sims.mean(axis=1, keepdims=True)) / sims.std(axis=1, ddof=1, keepdims=True)
    sims.sort(axis=1)
    return np.quantile(sims, 0.025, axis=0), np.quantile(sims, 0.975, axis=0)


def fig_qq(values: np.ndarray, title: str, labels=None) -> go.Figure:
    """Normal Q-Q plot of standardised values with a 95% simulation envelope (shaded; the dotted
    line is the normal). No legend: pages say this in a caption, and narrow columns need the room."""
    v = np.asarray(values, dtype=float)
    notes = []
    if len(v) > 2000:  # quantiles of the sample, so the envelope stays meaningful and light
        v = np.quantile(v, (np.arange(2000) + 0.5) / 2000)
        labels, notes = None, [note(f"{len(values):,} values shown as 2,000 quantiles")]
    order = np.argsort(v)
    z = (v[order] - v.mean()) / (v.std(ddof=1) or 1.0)
    theo = stats.norm.ppf((np.arange(1, len(z) + 1) - 0.5) / len(z))
    lo, hi = qq_envelope(len(z))
    points = dict(type="scatter", x=theo, y=z, mode="markers", name="standardised values",
                  marker=dict(color="#0072B2", size=6))
    if labels is not None:
        points.update(text=[str(labels[i]) for i in order], hovertemplate="%{text}<br>%{y:.2f}<extra></extra>")
    return figure([
        dict(type="scatter", x=theo, y=hi, mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip"),
        dict(type="scatter", x=theo, y=lo, mode="lines", line=dict(width=0), fill="tonexty", fillcolor=LIGHT,
             name="95% simulation envelope", hoverinfo="skip"),
        _line(theo, theo, "normal", "#7F7F7F", "dot"),
        points,
    ], dict(title=dict(text=title), xaxis=dict(title=dict(text="normal quantile")), showlegend=False,
            yaxis=dict(title=dict(text="standardised value")), height=360, annotations=notes))


def fig_qq_ranef(fit: LmmFit, group: str | None = None, term: str | None = None) -> go.Figure:
    """Q-Q plot of one random effect's conditional modes."""
    group = group or next(iter(fit.ranef))
    term = term or fit.ranef[group].columns[0]
    values = fit.ranef[group][term]
    return fig_qq(values.to_numpy(), f"Q-Q: {group} {term}", labels=list(values.index))


def fig_qq_residuals(fit: LmmFit) -> go.Figure:
    return fig_qq(fit.residuals, "Q-Q: residuals")


def fig_residuals(fit: LmmFit) -> go.Figure:
    """Residuals against fitted values (thinned above MAX_POINTS, with a note)."""
    idx = np.arange(fit.nobs)
    if fit.nobs > MAX_POINTS:
        idx = np.sort(np.random.default_rng(0).choice(fit.nobs, MAX_POINTS, replace=False))
    trace = dict(type="scattergl", x=fit.fitted[idx], y=fit.residuals[idx], mode="markers",
                 marker=dict(color="#0072B2", size=6, opacity=0.6), name="residual")
    return figure([trace], dict(
        title=dict(text="Residuals vs fitted"), xaxis=dict(title=dict(text="fitted")),
        yaxis=dict(title=dict(text="residual")), height=380, shapes=[hline(0)],
        annotations=[note(f"a random {MAX_POINTS:,} of {fit.nobs:,} points")] if len(idx) < fit.nobs else []))
