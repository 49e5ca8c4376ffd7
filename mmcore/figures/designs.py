"""Figures of the nested-and-crossed lesson (which levels meet which; where the variance lies) and
of the planner (curves over the number of groups, one per number of observations per group).
Style and construction: style.py."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..lessons.planning import mc_se
from .style import GREY, PALETTE, SCALE_BLUE, figure, legend_below


def fig_incidence(table: pd.DataFrame, title: str) -> go.Figure:
    """Levels of one factor (rows) against another (columns): the number of observations of each pair,
    white where a pair never occurs. A crossed design fills the square, a nested one is block diagonal,
    a partially crossed one is speckled. A binned table (lessons.designs.incidence_binned: thousands of
    levels) shows the share of each block's pairs that occur."""
    z = table.to_numpy(dtype=float)
    rows, cols = table.index.name or "rows", table.columns.name or "columns"
    binned = bool(table.attrs.get("binned"))
    x, y = [str(c) for c in table.columns], [str(r) for r in table.index]
    text_x, text_y = not binned and len(x) <= 40, not binned and len(y) <= 40
    hover = ("share of the block's pairs that occur: %{z:.3f}<extra></extra>" if binned else
             f"{rows} %{{y}}, {cols} %{{x}}: %{{z}} observations<extra></extra>")
    trace = dict(type="heatmap", z=z, x=x, y=y, colorscale=SCALE_BLUE, showscale=binned, hovertemplate=hover, zmin=0,
                 zmax=max(float(z.max()), 1e-12), xgap=1 if z.shape[1] <= 60 else 0, ygap=1 if z.shape[0] <= 60 else 0)
    return figure([trace], dict(
        title=dict(text=title), height=max(320, min(560, 150 + 20 * z.shape[0])),
        xaxis=dict(title=dict(text=cols), type="category", showticklabels=text_x,
                   tickangle=-90 if len(x) > 12 else 0, side="bottom", **(dict(tickmode="array", tickvals=x) if text_x else {})),
        yaxis=dict(title=dict(text=rows), autorange="reversed", type="category", showticklabels=text_y,
                   **(dict(tickmode="array", tickvals=y) if text_y else {})),
        margin=dict(l=10, r=10, t=60, b=10)))


def fig_variance_shares(tables: dict) -> go.Figure:
    """Where the variance lies, per model (name -> lessons.designs.variance_table): one horizontal bar
    per model, split into the shares of each component, labelled with the component's SD."""
    traces, colours, seen = [], {}, set()
    names = list(tables)
    for name in names:
        for comp in tables[name].index:
            colours.setdefault(comp, GREY if comp == "Residual" else PALETTE[len(colours) % len(PALETTE)])
    for comp, colour in colours.items():
        xs, texts = [], []
        for name in names:
            t = tables[name]
            xs.append(float(t.loc[comp, "share"]) if comp in t.index else 0.0)
            texts.append(f"{comp}: SD {t.loc[comp, 'SD']:.3g}" if comp in t.index else "")
        traces.append(dict(type="bar", orientation="h", x=xs, y=names, name=comp, marker=dict(color=colour),
                           text=texts, textposition="inside", insidetextanchor="middle", showlegend=comp not in seen,
                           hovertemplate="%{y}: %{text}, %{x:.1%} of the variance<extra></extra>"))
        seen.add(comp)
    return figure(traces, dict(
        barmode="stack", title=dict(text="Where the variance lies: each component's share"),
        height=170 + 70 * len(names), legend=dict(legend_below(-0.5 if len(names) < 3 else -0.3), traceorder="normal"),
        uniformtext=dict(minsize=11, mode="hide"),
        xaxis=dict(tickformat=".0%", range=[0, 1], title=dict(text="share of the total variance")),
        yaxis=dict(autorange="reversed", automargin=True)))


# -- planning ---------------------------------------------------------------------------------------
METHOD_NAMES = {"z": "z (normal)", "satterthwaite": "Satterthwaite t", "kenward-roger": "Kenward-Roger t"}


def planning_metrics(method: str) -> dict:
    """metric -> (column, title, y-axis label, reference line, theory column or None, is a share)."""
    m = f"<br><sup>{METHOD_NAMES[method]}</sup>"
    return {
        "effect_se": ("effect_sd", "Effect: SE<br><sup>SD of the estimates over the studies</sup>", "SE", None,
                      "se_known", False),
        "effect_coverage": (f"coverage_{method}", "Effect: coverage of 95% intervals" + m, "coverage", 0.95, None, True),
        "effect_power": (f"power_{method}", "Effect: power of the t test" + m, "power", 0.8, "power_known", True),
        "sigma_b_se": ("sigma_b_sd", "sigma_b: SE<br><sup>SD of the REML estimates</sup>", "SE", None, None, False),
        "sigma_b_coverage": ("coverage_sigma_b", "sigma_b: coverage of 95% intervals<br><sup>lme4's profile "
                             "interval</sup>", "coverage", 0.95, None, True),
        "variance_power": ("power_variance", "sigma_b: power of the test of 0<br><sup>LRT, 50:50 mixture</sup>",
                           "power", 0.8, None, True),
        "singular": ("singular", "Singular fits<br><sup>sigma_b estimated as 0</sup>", "share of studies", None, None,
                     True),
    }


def fig_planning(table: pd.DataFrame, metric: str, method: str = "satterthwaite") -> go.Figure:
    """One measure of the simulated designs against the number of groups (log axis), one line per
    number of observations per group; the target (95% coverage with its Monte Carlo band, 80% power)
    dotted and labelled, and where it exists the theory with known variances dashed. Every line has
    its own legend entry ("n = 2", "n = 2, theory"): one "known variances" entry for three dashed
    lines of three colours left the reader guessing which was which. Shares (coverage, power,
    singular fits) run over their whole scale, 0 to 100%: a 60-100% axis made a drop from 95% to
    90% look like a collapse."""
    column, title, ylabel, target, theory, share = planning_metrics(method)[metric]
    nsim = int(table["nsim"].iloc[0])
    traces, shapes, known = [], [], []
    for k, (n, rows) in enumerate(table.groupby("per_group")):
        rows = rows.sort_values("groups")
        colour = PALETTE[k % len(PALETTE)]
        y = rows[column].to_numpy(dtype=float)
        line = dict(type="scatter", x=rows["groups"].tolist(), y=y, mode="lines+markers", name=f"n = {n}",
                    line=dict(color=colour, width=2.5), marker=dict(size=7, color=colour), legendgroup=f"n{n}",
                    hovertemplate=f"{n} per group, %{{x}} groups: %{{y:.3g}}<extra></extra>")
        if share:  # +- 2 Monte Carlo SE
            line["error_y"] = dict(type="data", array=[2 * mc_se(v, nsim) for v in y], thickness=1, width=3, color=colour)
        traces.append(line)
        if theory is not None:  # after every simulated line, so that the legend lists those first
            known.append(dict(type="scatter", x=rows["groups"].tolist(), y=rows[theory].tolist(), mode="lines",
                              line=dict(color=colour, width=1.5, dash="dash"), legendgroup=f"n{n}",
                              name=f"n = {n}, theory",
                              hovertemplate=f"{n} per group, %{{x}} groups, variances known: %{{y:.3g}}<extra></extra>"))
    groups = sorted(table["groups"].unique())
    annotations = []
    if target is not None:
        shapes.append(dict(type="line", xref="paper", x0=0, x1=1, y0=target, y1=target, line=dict(color="#000000", dash="dot")))
        band = 2 * mc_se(0.95, nsim) if target == 0.95 else 0.0
        # the line named where the curves seldom are: coverage below its band on the right (many groups,
        # near 95%), power above its line on the left (few groups, low power)
        annotations.append(dict(xref="paper", showarrow=False, font=dict(size=12, color="#000000"),
                                bgcolor="rgba(255,255,255,0.7)",
                                **(dict(x=1, xanchor="right", y=target - band, yanchor="top", text="nominal 95%")
                                   if target == 0.95 else dict(x=0, xanchor="left", y=target, yanchor="bottom",
                                                                text=f"target {target:.0%}"))))
        if target == 0.95:  # the band a correct interval's coverage falls in, 95% of the time
            shapes.append(dict(type="rect", xref="paper", x0=0, x1=1, y0=0.95 - band, y1=0.95 + band, line=dict(width=0),
                               fillcolor="rgba(0,0,0,0.08)", layer="below"))
    yaxis = dict(title=dict(text=ylabel), rangemode="tozero")
    if share:
        yaxis.update(tickformat=".0%", range=[0, 1.02], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    return figure(traces + known, dict(
        title=dict(text=title), height=400 if known else 380, shapes=shapes, annotations=annotations,
        legend=legend_below(-0.28), yaxis=yaxis, margin=dict(l=10, r=10, t=75, b=10),
        xaxis=dict(title=dict(text="number of groups"), type="log", tickvals=groups, ticktext=[str(g) for g in groups])))


def fig_planning_theory(table: pd.DataFrame, which: str = "se") -> go.Figure:
    """The grid with the variances known (lessons.planning.theory): the effect's SE ("se") or the z
    test's power ("power") against the number of groups, one line per n. Drawn before any simulation."""
    column, title = {"se": ("se_known", "SE of the effect, variances known"),
                     "power": ("power_known", "Power, variances known (z test)")}[which]
    traces = []
    for k, (n, rows) in enumerate(table.groupby("per_group")):
        rows = rows.sort_values("groups")
        traces.append(dict(type="scatter", x=rows["groups"].tolist(), y=rows[column].tolist(), mode="lines+markers",
                           name=f"n = {n}", line=dict(color=PALETTE[k % len(PALETTE)], width=2.5, dash="dash"),
                           marker=dict(size=7)))
    groups = sorted(table["groups"].unique())
    yaxis = dict(title=dict(text="power" if which == "power" else "SE"), rangemode="tozero")
    if which == "power":
        yaxis.update(tickformat=".0%", range=[0, 1.02])
    shapes = [dict(type="line", xref="paper", x0=0, x1=1, y0=0.8, y1=0.8, line=dict(color="#000000", dash="dot"))] \
        if which == "power" else []
    return figure(traces, dict(title=dict(text=title), height=360, legend=legend_below(-0.3), yaxis=yaxis, shapes=shapes,
                               xaxis=dict(title=dict(text="number of groups"), type="log", tickvals=groups,
                                          ticktext=[str(g) for g in groups])))
