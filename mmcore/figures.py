"""The views every page shares, as plotly graph_objects figures built from a fit.

One palette (Okabe & Ito's, which colour-blind readers can tell apart), line dashes that carry the
same meaning without colour, and fonts large enough for a projector; `styled(fig, scale)` enlarges
everything for presenter mode. Figures with many points are thinned with a note, never silently.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from .design import ModelData
from .pooling import model_data, pooling
from .results import LmmFit

# Okabe & Ito's palette without its yellow, which is too faint as a line on white; black is kept
# for the population line.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255"]
POOLING = {  # the three answers, and the population line: colour and dash both carry the meaning
    "complete": dict(name="complete pooling: one line for all", color="#7F7F7F", dash="dot"),
    "none": dict(name="no pooling: each group alone", color="#E69F00", dash="dash"),
    "partial": dict(name="partial pooling: mixed model", color="#0072B2", dash="solid"),
    "population": dict(name="population: fixed effects", color="#000000", dash="solid"),
}
MAX_POINTS = 5000  # beyond this a scatter is thinned (with a note on the figure)


def styled(fig: go.Figure, scale: float = 1.0, height: int | None = None) -> go.Figure:
    """House style; scale > 1 enlarges fonts, markers and lines (presenter mode). No plotly template:
    applying one costs ~7 ms per figure, and Streamlit themes charts in the browser anyway."""
    fig.update_layout(
        font=dict(size=round(14 * scale)), margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(font=dict(size=round(13 * scale))), title_font=dict(size=round(17 * scale)),
        height=round((height or fig.layout.height or 420) * (1 + (scale - 1) * 0.5)),
    )
    if scale != 1.0:
        fig.update_traces(marker_size=round(7 * scale), selector=dict(mode="markers"))
        fig.update_traces(line_width=2.5 * scale, selector=dict(type="scatter"))
    return fig


def _note(fig: go.Figure, text: str) -> None:
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=1.02, showarrow=False,
                       xanchor="left", yanchor="bottom", font=dict(size=12, color="#555555"))


def x_variable(fit: LmmFit) -> str | None:
    """The predictor to put on the x axis: the first numeric fixed predictor, else the first factor."""
    names = [v for v in fit.variables[1:] if v not in _group_vars(fit)]
    data = fit.source
    numeric = [v for v in names if pd.api.types.is_numeric_dtype(data[v]) and not pd.api.types.is_bool_dtype(data[v])]
    return (numeric or names or [None])[0]


def _group_vars(fit: LmmFit) -> set:
    return {v for g in fit.ngroups for v in g.split(":")}


def _segments(keys: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One polyline per key (sorted by x, mean y at repeated x), joined with gaps: a whole family
    of lines in a single trace, which plotly draws and serialises far faster than one per line."""
    frame = pd.DataFrame({"k": keys, "x": x, "y": y}).groupby(["k", "x"], sort=True, observed=True)["y"].mean()
    k = frame.index.get_level_values(0).to_numpy()
    xs, ys = frame.index.get_level_values(1).to_numpy(), frame.to_numpy()
    breaks = np.flatnonzero(k[1:] != k[:-1]) + 1
    return (np.insert(xs.astype(object), breaks, None), np.insert(ys.astype(object), breaks, None))


def fig_lines(fit: LmmFit, groups: list | None = None, show=("partial", "population"),
              x: str | None = None, md: ModelData | None = None) -> go.Figure:
    """Data and fitted lines per group, with complete / no / partial pooling and the population
    line. Colour marks the group (its points and its lines); dash marks the kind of fit. Groups
    that share a colour share a trace: at most 7 traces per kind of fit, however many groups."""
    md = md or model_data(fit)
    pool = pooling(fit, md=md)
    x = x if x is not None else x_variable(fit)
    pool["x"] = fit.data[x].to_numpy() if x else pool["group"].to_numpy()
    levels = list(dict.fromkeys(pool["group"]))
    chosen = [g for g in groups if g in set(levels)] if groups else levels
    rows = pool[pool["group"].isin(chosen)] if len(chosen) < len(levels) else pool
    colour_of = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(chosen)}
    numeric_x = x is not None and pd.api.types.is_numeric_dtype(rows["x"])
    many = len(rows) > MAX_POINTS
    shown = rows.sample(MAX_POINTS, random_state=0) if many else rows
    fig = go.Figure(go.Scattergl(
        x=shown["x"], y=shown["y"], mode="markers", name="data (colour: group)",
        marker=dict(color=[colour_of[g] for g in shown["group"]], size=7, opacity=0.7),
        text=shown["group"].astype(str), hovertemplate="%{text}<br>%{x}, %{y:.4g}<extra></extra>"))
    if "complete" in show:  # one line for everyone
        sx, sy = _segments(np.zeros(len(rows)), rows["x"].to_numpy(), rows["complete"].to_numpy())
        st = POOLING["complete"]
        fig.add_trace(go.Scatter(x=sx, y=sy, mode="lines", name=st["name"], hoverinfo="skip",
                                 line=dict(color=st["color"], dash=st["dash"], width=3)))
    colours = np.array([colour_of[g] for g in rows["group"]])
    for method in ("none", "partial"):  # a line per group in the group's colour; one trace per colour
        if method not in show:
            continue
        st = POOLING[method]
        for k, colour in enumerate(dict.fromkeys(colour_of.values())):
            part = rows[colours == colour]
            sx, sy = _segments(part["group"].to_numpy(), part["x"].to_numpy(), part[method].to_numpy())
            fig.add_trace(go.Scatter(x=sx, y=sy, mode="lines" if numeric_x else "lines+markers", name=st["name"],
                                     legendgroup=method, showlegend=False, hoverinfo="skip", connectgaps=False,
                                     line=dict(color=colour, dash=st["dash"], width=2.5 if method == "partial" else 2)))
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=st["name"], legendgroup=method,
                                 line=dict(color="#555555", dash=st["dash"], width=2)))
    if "population" in show:
        pop = pool.groupby("x", sort=True, observed=True)["population"].mean()
        fig.add_trace(go.Scatter(x=pop.index, y=pop.values, mode="lines", name=POOLING["population"]["name"],
                                 line=dict(color="#000000", width=4)))
    fig.update_layout(title=f"{fit.response} by {x or 'group'}, a line per group",
                      xaxis_title=x or md.terms[0].group, yaxis_title=fit.response, height=460,
                      legend=dict(orientation="h", y=-0.18))
    if x is None or not numeric_x:
        fig.update_xaxes(type="category")
    notes = []
    if len(chosen) < len(levels):
        notes.append(f"{len(chosen)} of {len(levels)} groups shown")
    if many:
        notes.append(f"a random {MAX_POINTS:,} of {len(rows):,} points")
    if notes:
        _note(fig, "; ".join(notes))
    return fig


def fig_panels(fit: LmmFit, show=("partial", "none", "population"), md: ModelData | None = None,
               max_panels: int = 24) -> go.Figure:
    """One small panel per group (lattice's xyplot): data, the group's lines and the population line."""
    from plotly.subplots import make_subplots

    md = md or model_data(fit)
    pool = pooling(fit, md=md)
    x = x_variable(fit)
    pool["x"] = fit.data[x].to_numpy() if x else 0
    levels = list(dict.fromkeys(pool["group"]))[:max_panels]
    cols = min(6, len(levels))
    rows_n = int(np.ceil(len(levels) / cols))
    fig = make_subplots(rows=rows_n, cols=cols, shared_xaxes=True, shared_yaxes=True,
                        subplot_titles=[str(g) for g in levels], vertical_spacing=0.06, horizontal_spacing=0.02)
    for k, g in enumerate(levels):
        r, c = divmod(k, cols)
        rows = pool[pool["group"] == g].sort_values("x", kind="stable")
        fig.add_trace(go.Scatter(x=rows["x"], y=rows["y"], mode="markers", showlegend=False,
                                 marker=dict(color="#56B4E9", size=5)), row=r + 1, col=c + 1)
        for method in [m for m in ("none", "partial", "population") if m in show]:
            s = POOLING[method]
            fitted = rows.groupby("x", sort=True, observed=True)[method].mean()
            fig.add_trace(go.Scatter(x=fitted.index, y=fitted.values, mode="lines", name=s["name"],
                                     showlegend=k == 0, legendgroup=method,
                                     line=dict(color=s["color"], dash=s["dash"], width=2)), row=r + 1, col=c + 1)
    fig.update_layout(height=max(300, 170 * rows_n), title=f"{fit.response} by {x or 'group'}, one panel per group",
                      legend=dict(orientation="h", y=-0.08))
    fig.update_annotations(font_size=11)
    return fig


def fig_caterpillar(fit: LmmFit, group: str | None = None, term: str | None = None) -> go.Figure:
    """Each group's conditional mode (BLUP) with a 95% interval (+-1.96 conditional SD), sorted."""
    group = group or next(iter(fit.ranef))
    term = term or fit.ranef[group].columns[0]
    est = fit.ranef[group][term]
    sd = fit.ranef_sd[group][term]
    order = np.argsort(est.to_numpy(), kind="stable")
    labels = [str(v) for v in est.index[order]]
    fig = go.Figure(go.Scatter(
        x=est.to_numpy()[order], y=labels, mode="markers",
        error_x=dict(type="data", array=1.96 * sd.to_numpy()[order], color="#56B4E9", thickness=2),
        marker=dict(color="#0072B2", size=8), name="BLUP +- 1.96 SD",
        hovertemplate="%{y}: %{x:.4g}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#7F7F7F", dash="dot"))
    fig.update_layout(title=f"Random effects of {group}: {term} (conditional modes, 95% intervals)",
                      xaxis_title=f"{term} deviation from the population", yaxis_title=group,
                      height=max(320, 18 * len(labels) + 120), yaxis=dict(type="category"))
    return fig


def qq_envelope(n: int, nsim: int = 199, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise 95% band of sorted standardised normal samples of size n (the simulation envelope)."""
    sims = np.random.default_rng(seed).standard_normal((nsim, n))
    sims = (sims - sims.mean(axis=1, keepdims=True)) / sims.std(axis=1, ddof=1, keepdims=True)
    sims.sort(axis=1)
    return np.quantile(sims, 0.025, axis=0), np.quantile(sims, 0.975, axis=0)


def fig_qq(values: np.ndarray, title: str, labels=None) -> go.Figure:
    """Normal Q-Q plot of standardised values with a 95% simulation envelope."""
    v = np.asarray(values, dtype=float)
    note = ""
    if len(v) > 2000:  # quantiles of the sample, so the envelope stays meaningful and light
        v = np.quantile(v, (np.arange(2000) + 0.5) / 2000)
        labels, note = None, f"{len(values):,} values shown as 2,000 quantiles"
    order = np.argsort(v)
    z = (v[order] - v.mean()) / (v.std(ddof=1) or 1.0)
    theo = stats.norm.ppf((np.arange(1, len(z) + 1) - 0.5) / len(z))
    lo, hi = qq_envelope(len(z))
    fig = go.Figure([
        go.Scatter(x=theo, y=hi, mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip"),
        go.Scatter(x=theo, y=lo, mode="lines", line=dict(width=0), fill="tonexty", fillcolor="rgba(86,180,233,0.25)",
                   name="95% simulation envelope", hoverinfo="skip"),
        go.Scatter(x=theo, y=theo, mode="lines", line=dict(color="#7F7F7F", dash="dot"), name="normal"),
        go.Scatter(x=theo, y=z, mode="markers", marker=dict(color="#0072B2", size=6), name="standardised values",
                   text=None if labels is None else [str(labels[i]) for i in order],
                   hovertemplate="%{text}<br>%{y:.2f}<extra></extra>" if labels is not None else None),
    ])
    fig.update_layout(title=title, xaxis_title="normal quantile", yaxis_title="standardised value", height=380,
                      legend=dict(orientation="h", y=-0.2))
    if note:
        _note(fig, note)
    return fig


def fig_residuals(fit: LmmFit) -> go.Figure:
    """Residuals against fitted values (thinned above MAX_POINTS, with a note)."""
    idx = np.arange(fit.nobs)
    if fit.nobs > MAX_POINTS:
        idx = np.random.default_rng(0).choice(fit.nobs, MAX_POINTS, replace=False)
    fig = go.Figure(go.Scattergl(x=fit.fitted[idx], y=fit.residuals[idx], mode="markers",
                                 marker=dict(color="#0072B2", size=6, opacity=0.6), name="residual"))
    fig.add_hline(y=0, line=dict(color="#7F7F7F", dash="dot"))
    fig.update_layout(title="Residuals against fitted values", xaxis_title="fitted", yaxis_title="residual",
                      height=380)
    if len(idx) < fit.nobs:
        _note(fig, f"a random {MAX_POINTS:,} of {fit.nobs:,} points")
    return fig


def fig_qq_ranef(fit: LmmFit, group: str | None = None, term: str | None = None) -> go.Figure:
    """Q-Q plot of one random effect's conditional modes."""
    group = group or next(iter(fit.ranef))
    term = term or fit.ranef[group].columns[0]
    values = fit.ranef[group][term]
    return fig_qq(values.to_numpy(), f"Q-Q of the random effects: {group}, {term}", labels=list(values.index))


def fig_qq_residuals(fit: LmmFit) -> go.Figure:
    return fig_qq(fit.residuals, "Q-Q of the residuals")
