"""Figures of tests and intervals: lme4's zeta plot (the profile against the Wald line), intervals
from several methods side by side, a simulation's rejection rates under the null, and the
centring figure of the random slopes lesson."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from ..inference.profile import ParameterProfile
from ..lessons.centring import Centring
from ..lmm.rprint import signif_text
from .style import GREY, PALETTE, figure, hline, legend_below, vline

METHOD_COLOURS = {"Wald": PALETTE[1], "Wald (variance scale)": PALETTE[5], "profile": PALETTE[0],
                  "bootstrap": PALETTE[2], "Satterthwaite t": PALETTE[3], "Kenward-Roger t": PALETTE[6]}


def fig_zeta(profile: ParameterProfile, level: float = 0.95, wald_se: float | None = None) -> go.Figure:
    """lme4's zeta plot of one parameter: zeta(psi) = signed root of the deviance's rise. A straight
    line would mean the Wald interval (estimate +- z SE) is right; the profile interval is where the
    curve crosses +-z."""
    z = float(stats.norm.ppf(0.5 + level / 2))
    x, zeta = np.asarray(profile.values), np.asarray(profile.zeta)
    traces = [dict(type="scatter", x=x, y=zeta, mode="lines+markers", name="profile (the likelihood)",
                   line=dict(color=PALETTE[0], width=3, shape="spline"), marker=dict(size=7))]
    shapes = [hline(z), hline(-z), vline(profile.lower, PALETTE[0], "dash"), vline(profile.upper, PALETTE[0], "dash")]
    se = profile.wald_se if wald_se is None else wald_se
    if se is not None and np.isfinite(se) and se > 0:
        lo, hi = profile.estimate - 1.15 * (profile.estimate - x.min()), profile.estimate + 1.15 * (x.max() - profile.estimate)
        line = np.array([lo, hi])
        traces.append(dict(type="scatter", x=line, y=(line - profile.estimate) / se, mode="lines",
                           name="Wald: a straight line, symmetric", line=dict(color=PALETTE[1], width=2, dash="dash")))
        shapes += [vline(profile.estimate - z * se, PALETTE[1], "dot"), vline(profile.estimate + z * se, PALETTE[1], "dot")]
    if profile.kind == "sd":
        shapes.append(vline(0.0, "#000000", "solid"))
    # the view lme4's zeta plots give: |zeta| up to about 4 (a point at SD = 0 can lie far below)
    inside = x[np.abs(zeta) <= 4.2]
    lo_x, hi_x = (float(inside.min()), float(inside.max())) if len(inside) > 1 else (float(x.min()), float(x.max()))
    span = max(hi_x - lo_x, 1e-12)
    if profile.kind == "sd" and lo_x <= 0.3 * span:
        lo_x = 0.0
    return figure(traces, dict(
        title=dict(text=f"Profile zeta of {profile.name}"), height=400, shapes=shapes, legend=legend_below(-0.3),
        xaxis=dict(title=dict(text=profile.name), zeroline=False, range=[lo_x - 0.06 * span, hi_x + 0.06 * span]),
        yaxis=dict(title=dict(text="zeta"), range=[-4.2, 4.2], zeroline=True)))


def fig_intervals(table: pd.DataFrame, title: str, zero_line: bool = True) -> go.Figure:
    """Intervals of several methods for several parameters. Each parameter has a band of its own
    (labelled once, bands shaded in turn); inside it the methods are dodged one above the other, always
    in the same order (the legend's, left to right), each in its colour with the estimate as a dot.
    table: columns parameter, method, estimate, lower, upper."""
    params = list(dict.fromkeys(table["parameter"]))
    methods = list(dict.fromkeys(table["method"]))
    k = len(methods)
    step = 0.8 / k  # the methods fill 80% of a band; the rest is the gap between parameters
    offset = {m: (j - (k - 1) / 2) * step for j, m in enumerate(methods)}
    row = {p: i for i, p in enumerate(params)}
    traces = []
    for m in methods:
        rows = table[table["method"] == m]
        colour = METHOD_COLOURS.get(m, GREY)
        xs, ys, texts = [], [], []
        for _, r in rows.iterrows():
            y = row[r["parameter"]] + offset[m]
            if np.isfinite(r["lower"]) and np.isfinite(r["upper"]):
                text = (f"{r['parameter']}, {m}: {signif_text(r['estimate'], 4)} "
                        f"({signif_text(r['lower'], 4)} to {signif_text(r['upper'], 4)})")
                xs += [r["lower"], r["upper"], None]
                ys += [y, y, None]
                texts += [text, text, None]
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines+markers", name=m, legendgroup=m,
                           line=dict(color=colour, width=5), marker=dict(symbol="line-ns-open", size=12, color=colour),
                           customdata=texts, hovertemplate="%{customdata}<extra></extra>"))
        traces.append(dict(type="scatter", x=rows["estimate"].to_numpy(),
                           y=[row[p] + offset[m] for p in rows["parameter"]], mode="markers", showlegend=False,
                           legendgroup=m, marker=dict(color="#000000", size=7),
                           customdata=[f"{p}, {m}: estimate {signif_text(v, 4)}" for p, v in zip(rows["parameter"], rows["estimate"])],
                           hovertemplate="%{customdata}<extra></extra>"))
    shapes = [dict(type="rect", xref="paper", x0=0, x1=1, yref="y", y0=i - 0.5, y1=i + 0.5, layer="below",
                   line=dict(width=0), fillcolor="rgba(0,0,0,0.04)") for i in range(0, len(params), 2)]
    if zero_line:
        shapes.append(vline(0.0, "#000000", "solid"))
    band = 22 * k + 18  # px: a row for each method and a gap
    height = 150 + band * len(params)
    return figure(traces, dict(
        title=dict(text=title), shapes=shapes, height=height, legend=legend_below(-60 / (height - 130)),
        yaxis=dict(tickvals=list(range(len(params))), ticktext=params, range=[len(params) - 0.5, -0.5],
                   showgrid=False, zeroline=False, automargin=True, ticks=""),
        xaxis=dict(zeroline=False), margin=dict(l=10, r=10, t=60, b=10)))


def fig_null_rejections(rejection: pd.DataFrame, level: float, n_groups: int, design: str) -> go.Figure:
    """The share of tests that rejected a true null, with Monte Carlo error bars, beside the level."""
    names = list(rejection.index)
    colours = [PALETTE[0] if abs(r - level) <= 2 * se + 0.01 else PALETTE[5]
               for r, se in zip(rejection["rejected"], rejection["mc_se"])]
    traces = [dict(type="bar", x=rejection["rejected"].tolist(), y=names, orientation="h", marker=dict(color=colours),
                   error_x=dict(type="data", array=(2 * rejection["mc_se"]).to_numpy(), color="#333333"),
                   text=[f"{r:.1%}" for r in rejection["rejected"]], textposition="inside", insidetextanchor="start",
                   textfont=dict(color="#FFFFFF"), name="rejected", showlegend=False)]
    where = "within each group" if design == "within" else "between groups"
    return figure(traces, dict(
        title=dict(text=f"Rejections of a true null: {n_groups} groups, treatment {where}"), height=360,
        shapes=[vline(level, "#000000", "dash")], yaxis=dict(autorange="reversed", automargin=True),
        xaxis=dict(title=dict(text=f"share of p-values below {level:.0%} (bars: +- 2 Monte Carlo SE)"),
                   tickformat=".0%", range=[0, max(0.3, float(rejection["rejected"].max()) * 1.25)])))


def fig_centring(study: Centring, origin: float) -> go.Figure:
    """Two panels against the origin of x: the intercept-slope correlation of the correlated model
    (it moves, the model does not), and the REML criterion of both models (the uncorrelated one
    moves, touching the correlated one where the correlation is zero)."""
    c = study.origins
    traces = [
        dict(type="scatter", x=c, y=study.correlation, mode="lines", name="correlation, (x | g)",
             line=dict(color=PALETTE[0], width=3), xaxis="x", yaxis="y"),
        dict(type="scatter", x=c, y=np.full(len(c), study.criterion_correlated), mode="lines",
             name="REML criterion, (x | g)", line=dict(color=PALETTE[0], width=3), xaxis="x2", yaxis="y2"),
        dict(type="scatter", x=c, y=study.criterion_uncorrelated, mode="lines+markers",
             name="REML criterion, (x || g)", line=dict(color=PALETTE[1], width=3, dash="dash"), xaxis="x2", yaxis="y2"),
    ]
    shapes = [dict(type="line", xref="x", yref="y", x0=c.min(), x1=c.max(), y0=0, y1=0, line=dict(color=GREY, dash="dot"))]
    for ax in ("x", "x2"):
        shapes.append(dict(type="line", xref=ax, yref="paper", x0=origin, x1=origin, y0=0, y1=1,
                           line=dict(color="#D55E00", width=2)))
    if np.isfinite(study.zero_origin) and c.min() <= study.zero_origin <= c.max():
        shapes.append(dict(type="line", xref="x2", yref="paper", x0=study.zero_origin, x1=study.zero_origin, y0=0,
                           y1=0.42, line=dict(color=PALETTE[0], dash="dot")))
    return figure(traces, dict(
        title=dict(text=f"Moving the origin of {study.x}"), height=560, shapes=shapes, legend=legend_below(-0.14),
        xaxis=dict(anchor="y", domain=[0, 1], matches="x2", showticklabels=False),
        yaxis=dict(domain=[0.56, 1], range=[-1.05, 1.05], title=dict(text="corr(intercept, slope)")),
        xaxis2=dict(anchor="y2", domain=[0, 1], title=dict(text=f"origin c: {study.x} measured as {study.x} - c")),
        yaxis2=dict(domain=[0, 0.44], title=dict(text="REML criterion"))))
