"""Figures of the correlated-errors lesson: trajectories per group with the population lines, the
within-group autocorrelation of residuals, and the standard-error simulation. Style: style.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from ..lessons.correlated import SeStudy
from ..lmm.results import LmmFit
from ..model.design import build_model_data
from .style import GREY, PALETTE, figure, hline, legend_below

ACF_COLOURS = {"independent errors": "#E69F00", "AR(1) errors": "#0072B2", "CAR(1) errors": "#0072B2",
               "growth increments": "#009E73"}


def fig_trajectories(fit: LmmFit, x: str, colour: str | None = None, title: str = "") -> go.Figure:
    """Each group's measurements joined in time order (thin lines, coloured by `colour`, e.g. the
    fertilizer), and the population lines X beta of each colour (thick)."""
    data = fit.source.iloc[fit.rows].reset_index(drop=True)  # all columns: x and colour need not be in the model
    md = build_model_data(fit.formula, data)
    group = md.terms[0].group
    xs = data[x].to_numpy(dtype=float)
    population = md.X @ fit.beta
    keys = data[colour].astype(str).to_numpy() if colour else np.array(["all"] * len(xs))
    levels = list(dict.fromkeys(data[colour].cat.categories if colour and hasattr(data[colour], "cat")
                                else sorted(set(keys))))
    traces = []
    for i, level in enumerate(levels):
        rows = np.flatnonzero(keys == level)
        if not len(rows):
            continue
        c = PALETTE[i % len(PALETTE)]
        sub = pd.DataFrame({"g": data[group].astype(str).to_numpy()[rows], "x": xs[rows], "y": fit.y[rows],
                            "pop": population[rows]}).sort_values(["g", "x"])
        lx, ly = _joined(sub, "y")
        name = f"{colour} {level}: " if colour else ""
        traces.append(dict(type="scatter", x=lx, y=ly, mode="lines+markers", name=f"{name}each {group}",
                           line=dict(color=c, width=1), marker=dict(color=c, size=4), opacity=0.55,
                           legendgroup=level, hoverinfo="skip"))
        px, py = _joined(sub.drop_duplicates("x").sort_values("x").assign(g="pop"), "pop")
        traces.append(dict(type="scatter", x=px, y=py, mode="lines", name=f"{name}population",
                           line=dict(color=c, width=5), legendgroup=level))
    return figure(traces, dict(title=dict(text=title or f"{fit.response} over {x}, one line per {group}"),
                               xaxis=dict(title=dict(text=x), dtick=1 if np.all(xs == np.round(xs)) and
                                          np.ptp(xs) <= 12 else None),
                               yaxis=dict(title=dict(text=fit.response)),
                               height=460, legend=legend_below(-0.2)))


def _joined(sub: pd.DataFrame, column: str):
    """One polyline per group with NaN gaps: a family of lines in one trace."""
    breaks = np.flatnonzero(sub["g"].to_numpy()[1:] != sub["g"].to_numpy()[:-1]) + 1
    return (np.insert(sub["x"].to_numpy(dtype=float), breaks, np.nan),
            np.insert(sub[column].to_numpy(dtype=float), breaks, np.nan))


def fig_acf(tables: dict, title: str = "Within-group autocorrelation of the residuals") -> go.Figure:
    """nlme's ACF plot for several models side by side: bars by lag (lag 0 left out: it is 1), with
    nlme's approximate 95% bounds for independent residuals, +-1.96 / sqrt(pairs at that lag)."""
    traces = []
    for i, (name, table) in enumerate(tables.items()):
        t = table[table["lag"] > 0]
        colour = ACF_COLOURS.get(name, PALETTE[i % len(PALETTE)])
        traces.append(dict(type="bar", x=t["lag"].to_numpy(), y=t["ACF"].to_numpy(), name=name,
                           marker=dict(color=colour), hovertemplate="lag %{x}: %{y:.3f}<extra>" + name + "</extra>"))
    first = next(iter(tables.values()))
    first = first[first["lag"] > 0]
    bound = stats.norm.ppf(0.975) / np.sqrt(first["pairs"].to_numpy())
    for sign in (1, -1):
        traces.append(dict(type="scatter", x=first["lag"].to_numpy(), y=sign * bound, mode="lines",
                           line=dict(color=GREY, dash="dot"), name="95% bounds if independent", showlegend=sign > 0,
                           hoverinfo="skip"))
    return figure(traces, dict(title=dict(text=title), barmode="group", height=400,
                               xaxis=dict(title=dict(text="lag (steps apart within a group)"), dtick=1),
                               yaxis=dict(title=dict(text="autocorrelation"), range=[-1, 1]),
                               shapes=[hline(0.0, "#000000", "solid")], legend=legend_below(-0.25)))


def fig_se_study(study: SeStudy) -> go.Figure:
    """Per model: the true spread of the estimates over the simulated data sets (black) against the
    standard error the fits report (coloured); the coverage of their 95% intervals as text."""
    table = study.table
    models = list(table.index)
    y = list(range(len(models)))[::-1]
    top = float(np.nanmax(table[["true SD of the estimates", "mean reported SE"]].to_numpy()))
    return figure([
        dict(type="scatter", x=table["true SD of the estimates"].to_numpy(), y=y, mode="markers",
             name="true SD of the estimates (over the simulated data sets)", marker=dict(color="#000000", size=14,
                                                                                         symbol="x")),
        dict(type="scatter", x=table["mean reported SE"].to_numpy(), y=y, mode="markers",
             name="standard error the fit reports (mean)",
             marker=dict(color="#D55E00", size=17, symbol="circle-open", line=dict(width=3))),
        dict(type="scatter", x=[1.2 * top] * len(y), y=y, mode="text", showlegend=False, hoverinfo="skip",
             text=[f"95% intervals cover {c:.0%}" for c in table["coverage of 95% intervals"]],
             textposition="middle right"),
    ], dict(title=dict(text=f"Honest standard errors? {study.nsim} simulated data sets"), height=380,
            yaxis=dict(tickvals=y, ticktext=models, automargin=True),
            xaxis=dict(title=dict(text="SD of a fertilizer's yearly growth estimate (feet a year)"),
                       range=[0, 1.75 * top]),
            legend=legend_below(-0.3), margin=dict(l=10, r=90, t=60, b=10)))
