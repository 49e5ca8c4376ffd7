"""Figures of the shrinkage, ML vs REML and ICC lessons. Style and construction: style.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from ..lessons.criteria import Curves
from ..lmm.results import LmmFit
from .model import random_covariance
from .style import GREY, figure, legend_below, steady_range, vline

OWN, MIXED, POP = "#E69F00", "#0072B2", "#000000"
ESTIMATE_FILL = "rgba(0,114,178,0.28)"  # REML's bars: MIXED, light enough for ML's outline to read on them
PROFILE_Y_TITLE = "-2 log-likelihood<br>above its minimum"  # two short lines: one long one outgrew the plot


def fig_shrinkage_axis(table: pd.DataFrame, response: str, highlight: str | None = None,
                       tiers: np.ndarray | None = None) -> go.Figure:
    """Each group's own estimate (top row) and its mixed-model estimate (bottom row) on one axis,
    joined by a line: every line leans toward the population value (the grey line). Labels: the groups
    that moved most first (the highlighted one before all), as many as fit in three rows without
    overlapping; hovering names any group."""
    xs, ys = [], []
    for own, mixed in zip(table["own estimate"], table["mixed-model estimate"]):
        xs += [own, mixed, None]
        ys += [1, 0, None]
    labels = [str(i) for i in table.index]
    own = table["own estimate"].to_numpy(dtype=float)
    if tiers is None:  # given: the rows of another table's labels (a slider's steps keep one labelling)
        tiers = shrinkage_label_tiers(table, highlight)
    shown = tiers >= 0
    traces = [
        dict(type="scatter", x=xs, y=ys, mode="lines", line=dict(color="#AAAAAA", width=1.5), showlegend=False,
             hoverinfo="skip"),
        dict(type="scatter", x=own.tolist(), y=[1] * len(table), mode="markers", text=labels,
             name="own estimate (no pooling)", marker=dict(color=OWN, size=11),
             hovertemplate="%{text}: %{x:.4g}<extra></extra>"),
        # one text per group, "" for those left unlabelled (the same points whatever is labelled: a press
        # that moves the estimates is played as a frame)
        dict(type="scatter", x=own.tolist(), y=(1.16 + 0.16 * np.maximum(tiers, 0)).tolist(), mode="text",
             text=[label if ok else "" for label, ok in zip(labels, shown)], textfont=dict(size=11),
             showlegend=False, hoverinfo="skip"),
        dict(type="scatter", mode="lines", showlegend=False, hoverinfo="skip", line=dict(color="#CCCCCC", width=1),
             x=[v for x, t in zip(own, tiers) if t > 0 for v in (x, x, None)],  # a raised label's leader to its point
             y=[v for t in tiers if t > 0 for v in (1.05, 1.1 + 0.16 * t, None)]),
        dict(type="scatter", x=table["mixed-model estimate"].tolist(), y=[0] * len(table), mode="markers",
             name="mixed model (partial pooling)", marker=dict(color=MIXED, size=11), text=labels,
             hovertemplate="%{text}: %{x:.4g}<extra></extra>"),
    ]
    if highlight is not None and highlight in table.index:
        row = table.loc[highlight]
        traces.append(dict(type="scatter", x=[row["own estimate"], row["mixed-model estimate"]], y=[1, 0],
                           mode="lines+markers", line=dict(color="#D55E00", width=4),
                           marker=dict(size=14, color="#D55E00"), name=f"{highlight} (the group you edit)"))
    pop = float(table["population"].iloc[0])
    top = 1.36 + 0.16 * tiers.max(initial=0)
    # the population as a trace, not a shape, and a fixed x range: a press that moves the estimates (a
    # group's observations deleted) changes only the traces' points, which lab/chart.js plays as a frame
    traces.insert(0, dict(type="scatter", x=[pop, pop], y=[-0.4, top], mode="lines", showlegend=False,
                          hoverinfo="skip", line=dict(color=GREY, dash="dash", width=2)))
    values = np.concatenate([own, table["mixed-model estimate"].to_numpy(dtype=float), [pop]])
    return figure(traces, dict(
        title=dict(text="Shrinkage: each group's own estimate moves toward the population"), height=380,
        yaxis=dict(tickvals=[0, 1], ticktext=["mixed model", "own"], range=[-0.4, top]),
        xaxis=dict(title=dict(text=f"{response}: group level (intercept)"), range=steady_range(values, pad=0.06)),
        legend=legend_below(-0.25)))


def shrinkage_label_tiers(table: pd.DataFrame, highlight: str | None = None) -> np.ndarray:
    """fig_shrinkage_axis's label rows: the groups that moved most are labelled first (the highlighted
    one before all); the rest as room allows (label_tiers)."""
    labels = [str(i) for i in table.index]
    own = table["own estimate"].to_numpy(dtype=float)
    moved = -np.abs(own - table["mixed-model estimate"].to_numpy(dtype=float))
    first = np.array([label != str(highlight) for label in labels])
    return label_tiers(own, labels, order=np.lexsort((moved, first)))


def label_tiers(x: np.ndarray, labels: list[str], width: float = 0.013, most: int = 3,
                order=None) -> np.ndarray:
    """A row (0 to most - 1) for each label above points at x, so that no two labels overlap: in
    `order` (the labels that matter most first; None: left to right) each label goes to the lowest row
    where it overlaps no label already placed; -1 where no row has room (that point is not labelled:
    its hover label names it). A label's width is taken as `width` of the x range per character
    (about 11 px text on a 700 px plot)."""
    tiers = np.full(len(x), -1, dtype=int)
    if len(x) == 0:
        return tiers
    x = np.asarray(x, dtype=float)
    span = float(np.ptp(x)) or 1.0
    placed: list[list[tuple[float, float]]] = [[] for _ in range(most)]
    for i in (np.argsort(x, kind="stable") if order is None else order):
        half = (len(labels[i]) + 1) * width * span / 2
        lo, hi = x[i] - half, x[i] + half
        row = next((r for r in range(most) if all(hi < a or lo > b for a, b in placed[r])), -1)
        if row >= 0:
            placed[row].append((lo, hi))
            tiers[i] = row
    return tiers


def fig_shrinkage_plane(table: pd.DataFrame, fit: LmmFit, highlight: str | None = None) -> go.Figure:
    """Intercept-slope plane: a line from each group's own least-squares line (orange) to its mixed-
    model line (blue), the highlighted group's thick, the population estimate and the fitted 95%
    ellipse around it. Every group has its points (None where its own line cannot be estimated) and
    the moves are traces, not annotations: a slider's steps (draw_slope_deletion) move points only."""
    oa, ob, ma, mb = table.columns[1:5]
    group = table.index.name
    idx = [list(fit.fixed_names).index(c) for c in fit.ranef[group].columns[:2]]
    pop = fit.beta[idx]
    D = random_covariance(fit, group)[:2, :2]
    w, V = np.linalg.eigh(D)
    t = np.linspace(0, 2 * np.pi, 120)
    ell = pop[:, None] + (V * np.sqrt(np.maximum(w, 0))) @ np.vstack([np.cos(t), np.sin(t)]) * np.sqrt(stats.chi2.ppf(0.95, 2))
    nan = lambda v: [None if not np.isfinite(x) else float(x) for x in v]  # noqa: E731
    own_a, own_b = nan(table[oa].to_numpy(dtype=float)), nan(table[ob].to_numpy(dtype=float))
    mix_a, mix_b = table[ma].to_numpy(dtype=float).tolist(), table[mb].to_numpy(dtype=float).tolist()
    mine = [str(g) == str(highlight) for g in table.index]

    def moves(which: bool) -> tuple[list, list]:
        keep = [k for k, m in enumerate(mine) if m == which]
        return ([v for k in keep for v in (own_a[k], mix_a[k], None)], [v for k in keep for v in (own_b[k], mix_b[k], None)])

    labels = [f"{group} {g}" for g in table.index]  # not its n: a slider's steps change points only, not text
    (oxa, oya), (hxa, hya) = moves(False), moves(True)
    return figure([
        dict(type="scatter", x=ell[0], y=ell[1], mode="lines", line=dict(color="#009E73", width=2),
             name="fitted 95% ellipse"),
        dict(type="scatter", x=oxa, y=oya, mode="lines", line=dict(color="#999999", width=1.5), hoverinfo="skip",
             name="the move: own line → mixed model"),
        dict(type="scatter", x=hxa, y=hya, mode="lines", line=dict(color="#D55E00", width=3.5), hoverinfo="skip",
             name=f"{highlight} (the group you edit)", showlegend=highlight is not None and any(mine)),
        dict(type="scatter", x=own_a, y=own_b, mode="markers", name="own line (least squares)",
             marker=dict(color=OWN, size=9), text=labels, hovertemplate="%{text}<br>%{x:.4g}, %{y:.4g}<extra></extra>"),
        dict(type="scatter", x=mix_a, y=mix_b, mode="markers", name="mixed model",
             marker=dict(color=MIXED, size=9), text=labels, hovertemplate="%{text}<br>%{x:.4g}, %{y:.4g}<extra></extra>"),
        dict(type="scatter", x=[pop[0]], y=[pop[1]], mode="markers", name="population",
             marker=dict(color=POP, size=15, symbol="x")),
    ], dict(title=dict(text="Shrinkage of lines: own fit → mixed model"), height=520,
            xaxis=dict(title=dict(text="intercept")),
            yaxis=dict(title=dict(text=f"slope on {mb.removeprefix('mixed ')}")), legend=legend_below(-0.15)))


def fig_study(results: pd.DataFrame, title: str, yaxis: str) -> go.Figure:
    """Box plots of a simulation study's columns, their means marked."""
    palette = [OWN, MIXED, "#009E73", "#CC79A7"]
    traces = [dict(type="box", y=results[c].to_numpy(), name=f"{c} (mean {results[c].mean():.4g})", boxmean=True,
                   marker=dict(color=palette[k % 4]), boxpoints=False) for k, c in enumerate(results.columns)]
    return figure(traces, dict(title=dict(text=title), yaxis=dict(title=dict(text=yaxis)), height=420,
                               showlegend=False))


def fig_profiles(curves: Curves, over: str = "sigma_b") -> go.Figure:
    """ML and REML criteria minimised over the other parameter, each relative to its own minimum,
    with the two estimates marked (dotted). ML is drawn dashed over REML: where the two curves agree
    (sigma, often) both stay visible. The y title is two short lines: one long line ran past the
    plot's height at presenter size and was cut off."""
    grid = curves.sigma_b if over == "sigma_b" else curves.sigma
    k = 0 if over == "sigma_b" else 1
    traces, shapes = [], []
    for which, colour, dash, best in (("reml", MIXED, "solid", curves.reml_best), ("ml", OWN, "dash", curves.ml_best)):
        prof = curves.profile(which, over)
        traces.append(dict(type="scatter", x=grid, y=prof - best[2], mode="lines", legendrank=1 if which == "ml" else 2,
                           line=dict(color=colour, width=3, dash=dash), name=f"{which.upper()}: estimate {best[k]:.4g}"))
        shapes.append(vline(best[k], colour, "dot"))
    label = "sigma_b (between groups)" if over == "sigma_b" else "sigma (residual)"
    return figure(traces, dict(
        title=dict(text=f"Profiled criteria against {label.split()[0]}"), height=380, shapes=shapes,
        xaxis=dict(title=dict(text=label)),
        yaxis=dict(title=dict(text=PROFILE_Y_TITLE), range=[-0.5, 12]),
        margin=dict(l=16, r=10, t=60, b=10), legend=legend_below(-0.25)))


def fig_surface(curves: Curves, which: str) -> go.Figure:
    """The criterion over (sigma_b, sigma) as contours, its optimum marked."""
    surface = curves.ml if which == "ml" else curves.reml
    best = curves.ml_best if which == "ml" else curves.reml_best
    z = np.minimum(surface - best[2], 20.0)
    return figure([
        dict(type="contour", x=curves.sigma, y=curves.sigma_b, z=z, colorscale=[[0.0, "#0072B2"], [1.0, "#FFFFFF"]],
             contours=dict(start=0, end=20, size=1), showscale=False,
             hovertemplate="sigma %{x:.3g}, sigma_b %{y:.3g}: +%{z:.2f}<extra></extra>"),
        dict(type="scatter", x=[best[1]], y=[best[0]], mode="markers", marker=dict(color="#D55E00", size=13, symbol="x"),
             name="optimum"),
    ], dict(title=dict(text=f"{which.upper()} criterion over (sigma, sigma_b)"), height=400, showlegend=False,
            xaxis=dict(title=dict(text="sigma (residual SD)")), yaxis=dict(title=dict(text="sigma_b (between-group SD)"))))


def fig_estimates(results: pd.DataFrame, truth: float, column: str = "sigma_b^2") -> go.Figure:
    """Distributions of the ML and REML estimates of one variance across simulated data sets, over the
    same bins: REML as light blue bars, ML as an orange outline on top (two overlaid filled histograms
    mixed into one muddy colour where they overlap); each method's mean a dotted line in its colour,
    the truth a solid black line, all three named in the legend."""
    values = {m: results[f"{m} {column}"].to_numpy(dtype=float) for m in ("ML", "REML")}
    both = np.concatenate(list(values.values()))
    edges = np.histogram_bin_edges(both[np.isfinite(both)], bins=40)
    counts = {m: np.histogram(v, edges)[0] for m, v in values.items()}
    means = {m: float(np.nanmean(v)) for m, v in values.items()}
    top = float(max(c.max(initial=0) for c in counts.values())) * 1.08 + 1
    centres, width = (edges[:-1] + edges[1:]) / 2, float(edges[1] - edges[0])
    hover = "%{customdata[0]:.4g} to %{customdata[1]:.4g}: REML %{y}, ML %{customdata[2]} data sets<extra></extra>"
    bins = np.column_stack([edges[:-1], edges[1:], counts["ML"]])
    traces = [
        dict(type="bar", x=centres, y=counts["REML"], width=width, customdata=bins, legendrank=2,
             name=f"REML estimates (mean {means['REML']:.4g})", hovertemplate=hover,
             marker=dict(color=ESTIMATE_FILL, line=dict(color=MIXED, width=1))),
        dict(type="scatter", mode="lines", x=np.concatenate([edges[:1], edges]),
             y=np.concatenate([[0], counts["ML"], [0]]).astype(float), line=dict(color=OWN, width=3, shape="hv"),
             name=f"ML estimates (mean {means['ML']:.4g})", legendrank=1, hoverinfo="skip"),
    ]
    for m, colour in (("ML", OWN), ("REML", MIXED)):
        traces.append(dict(type="scatter", mode="lines", x=[means[m]] * 2, y=[0, top], showlegend=False,
                           line=dict(color=colour, width=2, dash="dot"), hovertemplate=f"mean of {m}: %{{x:.4g}}<extra></extra>"))
    traces.append(dict(type="scatter", mode="lines", x=[truth, truth], y=[0, top], line=dict(color=POP, width=2),
                       name=f"truth ({truth:.4g}); dotted: the means", legendrank=3,
                       hovertemplate="truth: %{x:.4g}<extra></extra>"))
    return figure(traces, dict(title=dict(text=f"Estimates of {column} over {len(results)} data sets"), bargap=0,
                               xaxis=dict(title=dict(text=column)),
                               yaxis=dict(title=dict(text="data sets"), range=[0, top]),
                               height=400, legend=legend_below(-0.25)))


def fig_decomposition(fit: LmmFit) -> go.Figure:
    """The total variance split into between-group and within-group parts, as one stacked bar."""
    parts = [(f"{grp}: between groups", float(cov[0, 0])) for grp, _, cov in fit.re_cov] + [("within groups (residual)", fit.sigma**2)]
    total = sum(v for _, v in parts)
    colours = [MIXED, "#009E73", "#CC79A7", OWN]
    traces = [dict(type="bar", orientation="h", y=["variance"], x=[v], name=f"{name}: {v:.4g} ({v / total:.0%})",
                   marker=dict(color=colours[k] if k < len(parts) - 1 else OWN), text=[f"{v / total:.0%}"],
                   textposition="inside") for k, (name, v) in enumerate(parts)]
    return figure(traces, dict(barmode="stack", title=dict(text=f"Total variance {total:.4g}, split"), height=240,
                               xaxis=dict(title=dict(text="variance")), yaxis=dict(showticklabels=False),
                               legend=legend_below(-0.6)))


def fig_bootstrap(samples: np.ndarray, observed: float, title: str, xaxis: str, interval=None,
                  reference: str | None = None, df: int = 1) -> go.Figure:
    """A bootstrap distribution with the observed value; optionally its interval, or the
    chi-square reference ('chisq') or the boundary 50:50 mixture ('mixture') for a test statistic."""
    traces = [dict(type="histogram", x=np.asarray(samples), histnorm="probability density",
                   name="bootstrap", marker=dict(color="#56B4E9"), nbinsx=50)]
    shapes = [vline(observed, "#D55E00", "solid")]
    if interval is not None:
        shapes += [vline(interval[0], POP, "dash"), vline(interval[1], POP, "dash")]
    if reference:
        top = max(float(np.max(samples)), observed) * 1.05 + 1e-9
        x = np.linspace(0.05, top, 200)
        if reference == "mixture":  # 0.5 chi2(df - 1) + 0.5 chi2(df); chi2(0) is a point mass at 0, not drawn
            dens = 0.5 * stats.chi2.pdf(x, df) + (0.5 * stats.chi2.pdf(x, df - 1) if df > 1 else 0.0)
            name = (f"50:50 mixture of chi-square({df - 1}) and chi-square({df})" if df > 1
                    else "0.5 chi-square(1) (the mixture's continuous half; the other half sits at 0)")
        else:
            dens, name = stats.chi2.pdf(x, df), f"chi-square({df})"
        traces.append(dict(type="scatter", x=x, y=dens, mode="lines", line=dict(color=POP, width=2), name=name))
    return figure(traces, dict(title=dict(text=title), xaxis=dict(title=dict(text=xaxis)), shapes=shapes, height=380,
                               yaxis=dict(title=dict(text="density")), legend=legend_below(-0.25)))


def fig_shrinkage(fit: LmmFit, highlight: str | None = None) -> go.Figure:
    """fig_shrinkage_axis for a random-intercept fit (a builder keyed by the fit, for the figure cache)."""
    from ..lessons.shrinkage import shrinkage_intercepts

    return fig_shrinkage_axis(shrinkage_intercepts(fit), fit.response, highlight)


def fig_shrinkage_lines(fit: LmmFit, highlight: str | None = None) -> go.Figure:
    """fig_shrinkage_plane for a random-slope fit (a builder keyed by the fit, for the figure cache)."""
    from ..lessons.shrinkage import shrinkage_slopes

    return fig_shrinkage_plane(shrinkage_slopes(fit), fit, highlight)
