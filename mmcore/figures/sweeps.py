"""Figures that answer while the student drags: a plotly slider whose steps carry every value of
one dimension (mmcore/lessons/sweeps.py computes them once), so the browser redraws without asking
the server. Each step restyles the same few traces (`update`: new y values and a new title); nothing
is interpolated, every step is an exact computation. plotly.js redraws a whole figure for an `update`
(axes and legend too: ~35 ms of the page's main thread per step), so the app's chart element
(lab/chart.js) plays such steps as animation frames of the traces alone and sets the title apart; the
figure stays a plain plotly figure that any plotly.js draws as it is.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..errors import MixedModelError
from ..lessons.shrinkage import shrinkage_slopes
from ..lessons.sweeps import (
    DeletionSweep,
    IccSweep,
    RhoSweep,
    ShrinkageSweep,
    SigmaBSweep,
    icc_sweep,
    rho_sweep,
    shrinkage_sweep,
    sigma_b_sweep,
)
from ..lmm.results import LmmFit
from .lessons import fig_shrinkage_axis, fig_shrinkage_plane, shrinkage_label_tiers
from .style import GREY, figure, legend_below, round_step, steady_range

OWN, MIXED, POP = "#E69F00", "#0072B2", "#000000"


SIGNIFICANT = 7  # digits of a step's numbers, of the array's largest: below a pixel and below what a hover shows


def compact(values):
    """A step's array of numbers (None for a gap) as the page gets it: rounded to SIGNIFICANT digits of
    its largest value. Kept whole, a float's JSON text is ~18 characters: a 60 x 30 truth's sigma_b sweep
    sent 0.9 MB, most of it digits no chart or hover shows. Anything else (text, a single value) as it is."""
    if not isinstance(values, (list, tuple, np.ndarray)) or not len(values):
        return values
    try:
        a = np.asarray(values, dtype=float)  # None -> nan
    except (TypeError, ValueError):
        return values
    finite = np.abs(a[np.isfinite(a)]) if a.ndim == 1 else np.empty(0)
    if not finite.size or not finite.max():
        return values
    rounded = np.round(a, SIGNIFICANT - 1 - int(np.floor(np.log10(finite.max())))).tolist()
    return [None if v != v else v for v in rounded] if finite.size < a.size else rounded


def slider(labels: list[str], updates: list[tuple[dict, dict]], active: int, prefix: str, traces: list[int]) -> dict:
    """A plotly slider: one step per (trace update, layout update); dragging restyles in the browser.
    The steps' arrays of numbers are sent to SIGNIFICANT digits (compact)."""
    steps = [dict(label=label, method="update", args=[{k: [compact(v) for v in per_trace] for k, per_trace in data.items()},
                                                       lay, traces])
             for label, (data, lay) in zip(labels, updates)]
    return dict(active=active, steps=steps, currentvalue=dict(prefix=prefix, xanchor="left"),
                pad=dict(t=50, b=10), x=0.02, len=0.95, transition=dict(duration=0))  # room for the last label


def _segments(x: list, a: np.ndarray, b: np.ndarray) -> list:
    """y of arrows drawn as one trace: a -> b per group, separated by gaps."""
    return [v for pair in zip(a, b, [None] * len(a)) for v in pair]


def fig_shrinkage_sweep(fit: LmmFit, highlight: str | None = None) -> go.Figure:
    """draw_shrinkage_sweep of a random-intercept fit (a builder keyed by the fit, for the figure cache)."""
    return draw_shrinkage_sweep(shrinkage_sweep(fit), fit.response, highlight)


def sweep_shape(fit: LmmFit) -> tuple[int, int]:
    """The balanced data a sweep draws in a data set's likeness: (its number of groups, its average group
    size, at least 2). The pages say it beside the chart."""
    n_groups = int(fit.ngroups[next(iter(fit.ngroups))])
    return n_groups, max(2, round(fit.nobs / n_groups))


def fig_icc_sweep(fit: LmmFit, active: float | None = None) -> go.Figure:
    """draw_icc_sweep for data shaped as the fit's (sweep_shape), the slider starting at `active` (the
    truth in simulate mode) or the fit's own ICC."""
    vb = float(fit.re_cov[0][2][0, 0])
    start = vb / (vb + fit.sigma**2) if active is None else active
    return draw_icc_sweep(icc_sweep(*sweep_shape(fit)), start)


def draw_shrinkage_sweep(sweep: ShrinkageSweep, response: str, highlight: str | None = None) -> go.Figure:
    """Each group's own estimate (orange) and the mixed model's (blue) as sigma_b / sigma runs from 0
    (every group at the population) upward; the slider starts at the fit's estimate."""
    order = np.argsort(sweep.own[sweep.estimate])
    names = [str(sweep.levels[g]) for g in order]
    x = list(range(len(order)))  # positions, labelled below: numeric level names would make a numeric axis
    xs = [v for g in x for v in (g, g, None)]
    level = sweep.level[:, None]
    own, mixed = level + sweep.own[:, order], level + sweep.blup[:, order]
    best = sweep.criterion.min()

    def state(s: int) -> tuple[dict, dict]:
        lam = sweep.lam[s]
        spread = f"{lam.min():.2f}" if np.ptp(lam) < 5e-3 else f"{lam.min():.2f} to {lam.max():.2f}"
        fitted = (" (the fit's estimate)" if s == sweep.estimate
                  else f" (criterion {sweep.criterion[s] - best:+.1f} from the fit's minimum)")
        title = f"σ<sub>b</sub> / σ = {sweep.ratios[s]:.2f}{fitted}: λ = {spread}"
        return (dict(y=[own[s], mixed[s], _segments(x, own[s], mixed[s]), [sweep.level[s]] * len(x)]),
                {"title.text": title})

    updates = [state(s) for s in range(len(sweep.ratios))]
    s0 = sweep.estimate
    marker = dict(size=[14 if g == highlight else 9 for g in names])
    traces = [
        dict(type="scatter", mode="markers", x=x, y=own[s0], name="own mean (no pooling)",
             marker=dict(color=OWN, symbol="circle-open", line=dict(width=2), **marker)),
        dict(type="scatter", mode="markers", x=x, y=mixed[s0], name="mixed model (partial pooling)",
             marker=dict(color=MIXED, **marker)),
        dict(type="scatter", mode="lines", x=xs, y=_segments(x, own[s0], mixed[s0]), name="the move",
             line=dict(color=GREY, width=1), hoverinfo="skip", showlegend=False),
        dict(type="scatter", mode="lines", x=x, y=[sweep.level[s0]] * len(x), name="population",
             line=dict(color=POP, dash="dot", width=1)),
    ]
    span = np.concatenate([own.ravel(), mixed.ravel()])
    pad = 0.05 * (span.max() - span.min() + 1e-9)
    labels = [f"{r:.2f}" for r in sweep.ratios]
    return figure(traces, dict(
        title=dict(text=updates[s0][1]["title.text"]), height=520,
        xaxis=dict(title=dict(text=f"{sweep.group} (ordered by its own mean)"), tickmode="array", tickvals=x,
                   ticktext=names, showticklabels=len(x) <= 40),
        yaxis=dict(title=dict(text=f"{response}: the group's intercept"), range=[span.min() - pad, span.max() + pad]),
        legend=legend_below(-0.6), margin=dict(b=170),
        sliders=[slider(labels, updates, s0, "σ<sub>b</sub> / σ = ", [0, 1, 2, 3])]))


def draw_icc_sweep(sweep: IccSweep, active: float | None = None) -> go.Figure:
    """The same draws at each ICC of the truth: points by group, each group's mean as a bar; the
    title gives the truth and the REML estimate from those data."""
    G = int(sweep.group.max()) + 1
    n = len(sweep.group)
    jitter = (np.arange(n) % max(n // G, 1)) / max(n // G, 1) * 0.5 - 0.25  # the same spread in every group
    x = sweep.group + 1 + jitter
    means = np.array([np.bincount(sweep.group, y, G) / np.bincount(sweep.group) for y in sweep.y])

    def state(s: int) -> tuple[dict, dict]:
        title = f"ICC of the truth {sweep.iccs[s]:.2f}: the REML estimate from these data {sweep.estimate[s]:.3f}"
        return dict(y=[sweep.y[s], [v for m in means[s] for v in (m, m, None)]]), {"title.text": title}

    updates = [state(s) for s in range(len(sweep.iccs))]
    s0 = int(np.argmin(np.abs(sweep.iccs - (0.5 if active is None else active))))
    bars = [v for g in range(G) for v in (g + 0.65, g + 1.35, None)]
    traces = [
        dict(type="scatter", mode="markers", x=x, y=sweep.y[s0], name="observations",
             marker=dict(color=MIXED, size=6, opacity=0.7)),
        dict(type="scatter", mode="lines", x=bars, y=updates[s0][0]["y"][1], name="group mean",
             line=dict(color=OWN, width=4)),
    ]
    top = float(np.abs(sweep.y).max()) * 1.05
    return figure(traces, dict(
        title=dict(text=updates[s0][1]["title.text"]), height=480,
        xaxis=dict(title=dict(text="group"), tickmode="array", tickvals=list(range(1, G + 1)) if G <= 30 else None),
        yaxis=dict(title=dict(text="y (total variance 1)"), range=[-top, top], zeroline=False),
        legend=legend_below(-0.6), margin=dict(b=160),
        sliders=[slider([f"{v:.2f}" for v in sweep.iccs], updates, s0, "ICC of the truth = ", [0, 1])]))


def fig_rho_sweep(fit: LmmFit, active: float | None = None, truth: tuple = ()) -> go.Figure:
    """draw_rho_sweep for data shaped as a random-slope fit's (groups, group size), with the truth's
    SDs and fixed effects (`truth`: simulate mode's pairs) or the fit's estimates; the slider starts
    at `active` (the truth's rho) or the fit's own correlation."""
    group, (_, columns, cov) = next(iter(fit.ngroups)), fit.re_cov[0]
    if cov.shape != (2, 2):
        raise ValueError("the correlation sweep needs a random intercept and slope")
    given = dict(truth)
    n_groups = int(fit.ngroups[group])
    params = dict(beta0=float(fit.beta[0]), beta1=float(fit.beta[1]), sigma_b0=float(np.sqrt(cov[0, 0])),
                  sigma_b1=float(np.sqrt(cov[1, 1])), sigma=float(fit.sigma))
    params.update({k: float(v) for k, v in given.items() if k in params})
    start = active if active is not None else float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]))
    term = fit.design.terms[0]
    x_values = term.matrix[term.codes == 0, 1]  # the first group's covariate: the data set's own design
    sweep = rho_sweep(n_groups, max(3, len(x_values)), **params, x_values=x_values if len(x_values) >= 3 else None)
    return draw_rho_sweep(sweep, start, columns[1] if len(columns) > 1 else "x", fit.response)


def fig_sigma_b_sweep(fit: LmmFit) -> go.Figure:
    """sigma_b_figure for data shaped as a random-intercept fit's (sweep_shape), with its residual SD and
    intercept (the page says the fit's own sigma_b beside it)."""
    return sigma_b_figure(*sweep_shape(fit), float(fit.sigma), float(fit.beta[0]), f"{fit.response} (simulated)")


def sigma_b_grid(sigma: float, n_per_group: int, steps: int = 24) -> np.ndarray:
    """0 to about six times sigma / sqrt(n) (where a group keeps lambda = 0.97 of its own deviation; half
    at sigma / sqrt(n)) in about `steps` equal steps of a round size (round_step): the slider's labels
    read as numbers."""
    top = 6.0 * sigma / np.sqrt(n_per_group)
    if not np.isfinite(top) or top <= 0:
        raise MixedModelError("The sigma_b sweep needs a positive residual SD.")
    size = round_step(top / steps)
    k = np.arange(int(np.ceil(top / size - 1e-9)) + 1)
    return np.array([float(f"{v:.12g}") for v in k * size])  # 0.30000000000000004 -> 0.3: one label per value


def sigma_b_figure(n_groups: int, n_per_group: int, sigma: float, beta0: float, response: str = "y") -> go.Figure:
    """draw_sigma_b_sweep on sigma_b_grid (to where a group keeps lambda = 0.97 of its own deviation),
    the slider starting where it keeps 0.8 (sigma_b = 2 sigma / sqrt(n)): the move from complete to no
    pooling takes the slider's whole length, whatever sigma and n."""
    sweep = sigma_b_sweep(n_groups, n_per_group, sigma, beta0, sigma_b_grid(sigma, n_per_group))
    return draw_sigma_b_sweep(sweep, 2 * sigma / np.sqrt(n_per_group), response)


def draw_sigma_b_sweep(sweep: SigmaBSweep, active: float, response: str = "y") -> go.Figure:
    """The same draws at each sigma_b of the truth: the observations by group, each group's own mean
    (no pooling), the mixed model's estimate (partial pooling) and the move between them, the fitted
    population mean (complete pooling's line); the groups sorted by their drawn deviations. The title
    gives the truth, the REML estimates and lambda, on two short lines (a 440 px chart shows them). The
    groups are the sweep's own (simulated, not a data set's), so the axis names none."""
    G = len(sweep.own[0])
    order = np.argsort(sweep.deviation)
    pos = np.empty(G, dtype=int)
    pos[order] = np.arange(G)
    n = len(sweep.group)
    per = max(n // G, 1)
    jitter = (np.arange(n) % per + 0.5) / per * 0.36 - 0.18  # centred on the group
    x_obs = pos[sweep.group] + jitter
    x = list(range(G))
    xs = [v for g in x for v in (g, g, None)]
    own, partial = sweep.own[:, order], sweep.partial[:, order]
    size = float(np.min(np.diff(sweep.sigmas_b))) if len(sweep.sigmas_b) > 1 else 1.0
    power = int(np.floor(np.log10(size) + 1e-9))
    places = max(0, -power + (1 if f"{size / 10.0**power:.6g}" == "2.5" else 0))  # 30, 2.5, 0.25, 0.002
    labels = [f"{v:.{places}f}" for v in sweep.sigmas_b]

    def state(s: int) -> tuple[dict, dict]:
        keeps = ("singular fit: every group at the population" if sweep.singular[s]
                 else f"each group keeps λ = {sweep.lam[s]:.2f} of its own deviation")
        if not sweep.converged[s]:  # said, not hidden (none of the tested cases)
            keeps += " (the fit did not converge)"
        title = (f"σ<sub>b</sub> of the truth {labels[s]}: σ̂<sub>b</sub> = {sweep.sigma_b_hat[s]:.3g}, "
                 f"σ̂ = {sweep.sigma_hat[s]:.3g}<br>{keeps}")
        return (dict(y=[sweep.y[s], own[s], partial[s], _segments(x, own[s], partial[s]),
                        [sweep.population[s]] * 2]), {"title.text": title})

    updates = [state(s) for s in range(len(sweep.sigmas_b))]
    s0 = int(np.argmin(np.abs(sweep.sigmas_b - active)))
    traces = [
        dict(type="scatter", mode="markers", x=x_obs, y=sweep.y[s0], name="observations",
             marker=dict(color=GREY, size=5, opacity=0.45), hoverinfo="skip"),
        dict(type="scatter", mode="markers", x=x, y=own[s0], name="own mean (no pooling)",
             marker=dict(color=OWN, symbol="circle-open", size=10, line=dict(width=2))),
        dict(type="scatter", mode="markers", x=x, y=partial[s0], name="mixed model (partial pooling)",
             marker=dict(color=MIXED, size=9)),
        dict(type="scatter", mode="lines", x=xs, y=_segments(x, own[s0], partial[s0]), name="the move",
             line=dict(color=GREY, width=1), hoverinfo="skip", showlegend=False),
        dict(type="scatter", mode="lines", x=[-0.5, G - 0.5], y=[sweep.population[s0]] * 2,
             name="population (complete pooling)", line=dict(color=POP, dash="dot", width=1.5)),
    ]
    span = sweep.y.ravel()
    pad = 0.05 * (span.max() - span.min() + 1e-9)
    return figure(traces, dict(
        title=dict(text=updates[s0][1]["title.text"]), height=560, margin=dict(t=90, b=190),
        xaxis=dict(title=dict(text=f"{G} groups, sorted by their drawn deviations (the same order at every step)"),
                   tickmode="array", tickvals=x, showticklabels=False, range=[-0.7, G - 0.3]),
        yaxis=dict(title=dict(text=response), range=[span.min() - pad, span.max() + pad]),
        # the legend at the chart's foot, placed in the chart's own height: placed in the plot area's (as
        # legend_below does) the slider's labels ran into it where that area was short (a narrow window,
        # presenter mode: a two-line title)
        legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0),
        sliders=[slider(labels, updates, s0, "σ<sub>b</sub> of the truth = ", [0, 1, 2, 3, 4])]))


def fig_truth_sweep(kind: str, truth: tuple, active: float | None) -> go.Figure:
    """The sweep of simulate mode, from the truth alone (`truth`: the sidebar's pairs without the swept
    parameter, so moving that parameter leaves this figure, and its cache entry, as it is): 'icc',
    'sigma_b' (sigma_b_figure: `active` unused) or 'rho', starting at `active`."""
    given = dict(truth)
    if kind == "icc":
        return draw_icc_sweep(icc_sweep(int(given["n_groups"]), int(given["n_per_group"])), active)
    if kind == "sigma_b":  # from the group sizes, sigma and beta0 alone (sigma_b_figure: its own start)
        return sigma_b_figure(int(given["n_groups"]), int(given["n_per_group"]), float(given["sigma"]),
                              float(given["beta0"]))
    params = {k: float(given[k]) for k in ("beta0", "beta1", "sigma_b0", "sigma_b1", "sigma")}
    return draw_rho_sweep(rho_sweep(int(given["n_groups"]), int(given["n_per_group"]), **params), active)


def draw_rho_sweep(sweep: RhoSweep, active: float, x_name: str = "x", y_name: str = "y") -> go.Figure:
    """Each group's true line and the data drawn around it, at each correlation of the truth; the
    title gives the truth and the REML estimate from those data."""
    G = len(sweep.intercepts[0])
    lo, top = float(sweep.x.min()), float(sweep.x.max())
    xs = [v for _ in range(G) for v in (lo, top, None)]

    def lines(s: int) -> list:
        return [v for a, b in zip(sweep.intercepts[s], sweep.slopes[s]) for v in (a + b * lo, a + b * top, None)]

    def state(s: int) -> tuple[dict, dict]:
        title = f"ρ of the truth {sweep.rhos[s]:+.2f}: the REML estimate from these data {sweep.estimate[s]:+.3f}"
        return dict(y=[sweep.y[s], lines(s)]), {"title.text": title}

    updates = [state(s) for s in range(len(sweep.rhos))]
    s0 = int(np.argmin(np.abs(sweep.rhos - active)))
    traces = [
        dict(type="scatter", mode="markers", x=sweep.x, y=sweep.y[s0], name="observations",
             marker=dict(color=GREY, size=4, opacity=0.5)),
        dict(type="scatter", mode="lines", x=xs, y=lines(s0), name="each group's true line",
             line=dict(color=MIXED, width=1.5)),
    ]
    span = np.concatenate([sweep.y.ravel(), np.array([v for s in range(len(sweep.rhos)) for v in lines(s) if v is not None])])
    pad = 0.05 * float(np.ptp(span))
    return figure(traces, dict(
        title=dict(text=updates[s0][1]["title.text"]), height=500,
        xaxis=dict(title=dict(text=x_name)), yaxis=dict(title=dict(text=y_name), range=[span.min() - pad, span.max() + pad]),
        legend=legend_below(-0.6), margin=dict(b=170),
        sliders=[slider([f"{v:+.2f}" for v in sweep.rhos], updates, s0, "ρ of the truth = ", [0, 1])]))


def draw_deletion_sweep(sweep: DeletionSweep, response: str) -> go.Figure:
    """fig_shrinkage_axis with a slider under it: the number of `sweep.level`'s observations kept, from
    1 to all; each step moves every group's own and mixed-model estimate to that fit's (the edited
    group most) and gives its shrinkage factor and BLUP in the title. The slider starts at all kept (lab.chart.at_step shows another step). One labelling for every step,
    the axes fixed to hold every step: a drag moves points only."""
    last = start = len(sweep.kept) - 1
    # one labelling for every step: the others' rows from the full data, the edited group's label on a row
    # of its own above them (it moves along the axis as its rows go; on the others' rows it ran into them)
    table = sweep.tables[last]
    others = [str(i) != sweep.level for i in table.index]
    tiers = np.full(len(table), -1)
    tiers[others] = shrinkage_label_tiers(table[others], None)
    tiers[~np.array(others)] = tiers.max(initial=0) + 1
    figs = [fig_shrinkage_axis(table, response, sweep.level, tiers=tiers) for table in sweep.tables]
    n_all = sweep.kept[-1]

    def title(k: int) -> str:
        row = sweep.tables[k].loc[sweep.level]
        return (f"{sweep.level}, {sweep.kept[k]} of {n_all} kept: λ = {row['lambda']:.3f}, "
                f"own deviation {row['own deviation']:+.4g} → BLUP {row['BLUP']:+.4g}")

    fig = figs[start]
    fig.update_layout(height=470)
    return _kept_slider(fig, figs, [title(k) for k in range(len(figs))], [str(k) for k in sweep.kept], start,
                        f"observations of {sweep.level} kept: ")


def _kept_slider(fig: go.Figure, figs: list, titles: list[str], labels: list[str], start: int, prefix: str) -> go.Figure:
    """fig (figs[start]) with a slider whose steps move every trace to that step's figure's points and
    set its title; both axes fixed to hold every step; the slider under the plot, the legend under it."""
    updates = [(dict(x=[list(t.x) for t in f.data], y=[list(t.y) for t in f.data]), {"title.text": title})
               for f, title in zip(figs, titles)]
    xs = [v for f in figs for t in f.data for v in t.x if v is not None]
    ys = [v for f in figs for t in f.data for v in t.y if v is not None]
    fig.update_layout(title=dict(text=titles[start]), margin=dict(b=190),
                      legend=dict(orientation="h", yref="container", y=0, yanchor="bottom"),
                      sliders=[slider(labels, updates, start, prefix, list(range(len(fig.data))))])
    fig.update_xaxes(range=steady_range(xs, pad=0.06))
    if fig.layout.yaxis.tickvals is None:  # a numeric y axis (not the shrinkage axis' two rows)
        fig.update_yaxes(range=steady_range(ys, pad=0.06))
    return fig


def draw_slope_deletion(fits: tuple, level: str, first: int = 2) -> go.Figure:
    """fig_shrinkage_plane with a slider under it: `first` to all of `level`'s observations kept (two,
    the fewest that give it an own line), each step the model refitted to those data (deletion_fits);
    the title gives the group's own slope and the mixed model's at that step. The slider starts at all
    kept (lab.chart.at_step shows another step)."""
    last = start = len(fits) - 1
    n_all = last + first
    tables = [shrinkage_slopes(f) for f in fits]
    figs = [fig_shrinkage_plane(t, f, level) for t, f in zip(tables, fits)]
    ob, mb = tables[0].columns[2], tables[0].columns[4]
    titles = [f"{level}, {k + first} of {n_all} kept: own slope {t.loc[level, ob]:.3g} → mixed model "
              f"{t.loc[level, mb]:.3g}" for k, t in enumerate(tables)]
    fig = figs[start]
    fig.update_layout(height=600)
    return _kept_slider(fig, figs, titles, [str(k + first) for k in range(len(fits))], start,
                        f"observations of {level} kept: ")
