"""Figures of the lesson on binary and count outcomes (GLMMs): conditional and marginal curves,
profiles over the conditions of a design, odds ratios, Laplace against quadrature against PQL,
binned and simulated residuals, frequencies of counts. Style and construction: style.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..glmm.results import GlmmFit
from ..lessons import glm_diagnostics as diag
from ..lessons import glmm as lesson
from ..lmm.rprint import signif_text
from .style import GREY, PALETTE, figure, hline, legend_below, vline

MEDIAN = dict(color="#000000", dash="dash", width=3)
MARGINAL = dict(color="#D55E00", dash="solid", width=4)
SUBJECT = "rgba(0,114,178,0.45)"


def _probability_axis(fit_or_link) -> str:
    link = fit_or_link if isinstance(fit_or_link, str) else fit_or_link.link
    return "expected count" if link == "log" else "P(y = 1)"


def _subject_lines(x, curves, name: str) -> list[dict]:
    xs, ys = [], []
    for c in curves:  # all subjects in one trace, separated by gaps: fast to draw
        xs += list(x) + [None]
        ys += list(c) + [None]
    return [dict(type="scatter", x=xs, y=ys, mode="lines", name=name, line=dict(color=SUBJECT, width=1.5),
                 hoverinfo="skip")]


def fig_subject_curves(fit: GlmmFit, x: str, n_subjects: int = 8) -> go.Figure:
    """Each sampled subject's fitted curve (with its own b_i), their mean over all subjects, the median
    subject's curve (b = 0) and the marginal (population-averaged) curve."""
    c = lesson.subject_curves(fit, x, n_subjects)
    traces = _subject_lines(c["x"], c["curves"], f"{len(c['curves'])} subjects (own b_i)")
    traces += [dict(type="scatter", x=c["x"], y=c["mean_of_subjects"], mode="lines", name="mean of all subjects' curves",
                    line=dict(color="#009E73", width=3, dash="dot")),
               dict(type="scatter", x=c["x"], y=c["median"], mode="lines", name="median subject (b = 0)", line=MEDIAN),
               dict(type="scatter", x=c["x"], y=c["marginal"], mode="lines", name="population average (marginal)",
                    line=MARGINAL)]
    return figure(traces, dict(title=dict(text=f"Conditional curves and their average, over {x}"), height=440,
                               xaxis=dict(title=dict(text=x)), yaxis=dict(title=dict(text=_probability_axis(fit))),
                               legend=legend_below()))


def fig_theory(curves: dict, link: str, sigma: float) -> go.Figure:
    """Attenuation from a truth: subjects' curves, the median subject's, the marginal curve and
    (probit) Phi(eta / sqrt(1 + sigma^2)), which it equals."""
    traces = _subject_lines(curves["x"], curves["subjects"], "subjects (b_i ~ N(0, sigma_b^2))")
    traces += [dict(type="scatter", x=curves["x"], y=curves["median"], mode="lines", name="median subject (b = 0)",
                    line=MEDIAN),
               dict(type="scatter", x=curves["x"], y=curves["marginal"], mode="lines",
                    name="population average E_b[g^-1(x beta + b)]", line=MARGINAL)]
    label = "Phi(x beta / sqrt(1 + sigma_b^2))" if link == "probit" else "logistic(x beta / sqrt(1 + 0.346 sigma_b^2))"
    traces.append(dict(type="scatter", x=curves["x"][::4], y=curves["closed_form"][::4], mode="markers", name=label,
                       marker=dict(color="#E69F00", size=7, symbol="circle-open")))
    return figure(traces, dict(
        title=dict(text=f"{link} link, sigma_b = {sigma:g}: the average of S-curves is a flatter S"), height=440,
        xaxis=dict(title=dict(text="x")), yaxis=dict(title=dict(text="P(y = 1)"), range=[-0.02, 1.02]),
        legend=legend_below()))


def fig_cell_profiles(fit: GlmmFit, factors: tuple = ("Surface", "Vision"), n_subjects: int = 6) -> go.Figure:
    """Across the cells of a factorial design: observed shares, a few people's fitted probabilities,
    the median person's (b = 0) and the population average."""
    t = lesson.cell_profiles(fit, tuple(factors), n_subjects)
    cells = list(t.index)
    people = [c for c in t.columns if c not in ("observed", "with b_i", "median person (b = 0)", "population average")]
    traces = _subject_lines(cells, [t[p].to_numpy() for p in people], f"{len(people)} people (own b_i)")
    traces += [dict(type="scatter", x=cells, y=t["median person (b = 0)"], mode="lines+markers",
                    name="median person (b = 0)", line=MEDIAN),
               dict(type="scatter", x=cells, y=t["population average"], mode="lines+markers",
                    name="population average (marginal)", line=MARGINAL),
               dict(type="scatter", x=cells, y=t["observed"], mode="markers", name="observed share",
                    marker=dict(color="#000000", size=12, symbol="x"))]
    return figure(traces, dict(
        title=dict(text=f"P({fit.response} = 1) in each condition ({' / '.join(factors)})"), height=460,
        xaxis=dict(title=dict(text=" / ".join(factors)), type="category"),
        yaxis=dict(title=dict(text=_probability_axis(fit)), range=[-0.02, 1.02]), legend=legend_below(-0.3)))


def fig_odds_ratios(fit: GlmmFit) -> go.Figure:
    """exp(beta) with 95% intervals on a log axis: odds ratios (logit) or rate ratios (log link)."""
    t = lesson.odds_ratios(fit).iloc[::-1]
    what = "rate ratio" if fit.link == "log" else "odds ratio"
    trace = dict(type="scatter", x=t.ratio.to_numpy(), y=list(t.index), mode="markers", name=f"{what}, 95% interval",
                 marker=dict(color=PALETTE[0], size=10),
                 error_x=dict(type="data", symmetric=False, array=(t.upper - t.ratio).to_numpy(),
                              arrayminus=(t.ratio - t.lower).to_numpy(), color=PALETTE[0], thickness=2),
                 customdata=[f"{signif_text(r)} (95% interval {signif_text(lo)} to {signif_text(hi)})"
                             for r, lo, hi in zip(t.ratio, t.lower, t.upper)],
                 hovertemplate="%{y}: %{customdata}<extra></extra>")  # plotly's .3g would print 2.12e+3
    return figure([trace], dict(title=dict(text=f"{what.capitalize()}s for the same subject (conditional)"),
                                height=max(300, 45 * len(t) + 140),
                                xaxis=dict(type="log", title=dict(text=what), **_log_ticks(t.lower.min(), t.upper.max())),
                                yaxis=dict(type="category"), shapes=[vline(1.0)]))


def _log_ticks(low: float, high: float) -> dict:
    """Ticks at 1, 2, 5 times powers of ten across [low, high] (1 and 3 times over more than two decades, the
    powers alone over more than four: ctsib's 0.5 to 22100 in a half-width chart had its labels turned and
    crowded), all at the axis' font size (plotly's own minor labels of a log axis are drawn smaller, too
    small for the back row)."""
    low, high = min(low, 1.0), max(high, 1.0)
    decades = np.log10(high / low)
    steps = (1, 2, 5) if decades <= 2 else (1, 3) if decades <= 4 else (1,)
    values = [round(m * 10.0 ** e, 12) for e in range(int(np.floor(np.log10(low))) - 1, int(np.ceil(np.log10(high))) + 1)
              for m in steps if low / 2 <= m * 10.0 ** e <= high * 2]
    return dict(tickvals=values, ticktext=[signif_text(v) for v in values])


def fig_methods(table: pd.DataFrame, terms: list[str]) -> go.Figure:
    """One small panel per estimate (a few fixed effects, then sigma_b): each method's estimate
    +- 1.96 SE on its own scale, the methods one above the other."""
    panels = list(terms) + ["sigma_b"]
    methods = list(table.index)
    width, gap = 1 / len(panels), 0.04
    traces, layout = [], dict(height=330, showlegend=False, title=dict(text="The same model, four ways to fit it"))
    for j, term in enumerate(panels):
        ax = "" if j == 0 else str(j + 1)
        se = [1.96 * table.loc[m, f"SE {term}"] if f"SE {term}" in table else 0.0 for m in methods]
        traces.append(dict(type="scatter", x=[table.loc[m, term] for m in methods], y=methods, mode="markers",
                           xaxis=f"x{ax}", yaxis=f"y{ax}", marker=dict(color=PALETTE[:len(methods)], size=11),
                           error_x=dict(type="data", array=se, color="#56B4E9", thickness=2),
                           hovertemplate="%{y}: %{x:.4g}<extra></extra>"))
        layout[f"xaxis{ax}"] = dict(domain=[j * width + gap / 2, (j + 1) * width - gap / 2], anchor=f"y{ax}",
                                    title=dict(text=term), nticks=4)
        if term == "sigma_b":  # from 0: differences in the third digit should look like it
            layout[f"xaxis{ax}"]["range"] = [0, 1.2 * float(table["sigma_b"].max())]
        layout[f"yaxis{ax}"] = dict(anchor=f"x{ax}", type="category", showticklabels=j == 0,
                                    matches="y" if j else None, autorange="reversed")
    return figure(traces, layout)


def fig_method_study(study) -> go.Figure:
    """Sampling distributions of sigma_b by Laplace and PQL over data sets from one truth."""
    traces = [dict(type="box", x=study.laplace_sigma, name="Laplace (glmer)", marker=dict(color=PALETTE[0]),
                   boxmean=True, orientation="h"),
              dict(type="box", x=study.pql_sigma[np.isfinite(study.pql_sigma)], name="PQL (glmmPQL)",
                   marker=dict(color=PALETTE[1]), boxmean=True, orientation="h")]
    return figure(traces, dict(title=dict(text=f"sigma_b in {len(study.laplace_sigma)} simulated data sets"),
                               height=330, xaxis=dict(title=dict(text="estimated sigma_b")),
                               shapes=[vline(study.truth["sigma_b"], "#000000", "dash")], showlegend=False))


def fig_binned_residuals(fit: GlmmFit) -> go.Figure:
    t = diag.binned_residuals(fit)
    band = dict(type="scatter", x=np.r_[t.fitted, t.fitted[::-1]], y=np.r_[2 * t.se, -2 * t.se[::-1]], fill="toself",
                fillcolor="rgba(86,180,233,0.25)", line=dict(width=0), name="+- 2 SE", hoverinfo="skip")
    colour = np.where(t.inside, PALETTE[0], "#D55E00")
    points = dict(type="scatter", x=t.fitted, y=t.residual, mode="markers", name="bin average of y - fitted",
                  marker=dict(color=colour.tolist(), size=9))
    return figure([band, points], dict(
        title=dict(text=f"Binned residuals: {int(t.inside.sum())} of {len(t)} bins inside +- 2 SE"), height=400,
        xaxis=dict(title=dict(text="fitted (bin average)")), yaxis=dict(title=dict(text="average residual")),
        shapes=[hline(0)], legend=legend_below()))


def fig_simulated_residuals(fit: GlmmFit, nsim: int = 250, conditional: bool = False) -> go.Figure:
    """Quantile residuals from simulations: a uniform Q-Q plot, and against the fitted values' rank."""
    s = diag.simulated_residuals(fit, nsim, conditional=conditional)
    r = np.sort(s.residuals)
    expected = (np.arange(1, len(r) + 1) - 0.5) / len(r)
    rank = np.argsort(np.argsort(s.fitted)) / max(len(r) - 1, 1)
    traces = [dict(type="scattergl", x=expected, y=r, mode="markers", name="residuals", marker=dict(color=PALETTE[0],
                                                                                                    size=4)),
              dict(type="scatter", x=[0, 1], y=[0, 1], mode="lines", line=dict(color=GREY, dash="dot"),
                   showlegend=False),
              dict(type="scattergl", x=rank, y=s.residuals, mode="markers", xaxis="x2", yaxis="y2",
                   marker=dict(color=PALETTE[2], size=4, opacity=0.6), showlegend=False)]
    shapes = [dict(type="line", xref="x2 domain", x0=0, x1=1, yref="y2", y0=q, y1=q,
                   line=dict(color=GREY, dash="dot")) for q in (0.25, 0.5, 0.75)]
    return figure(traces, dict(
        title=dict(text=f"Simulated residuals ({nsim} {'conditional ' if conditional else ''}simulations): "
                        f"uniformity p = {s.ks_p:.2g}, "
                        f"dispersion {s.dispersion:.2f} (p = {s.dispersion_p:.2g})"), height=420, shapes=shapes,
        xaxis=dict(domain=[0, 0.45], title=dict(text="expected (uniform)")), yaxis=dict(title=dict(text="observed")),
        xaxis2=dict(domain=[0.55, 1], title=dict(text="fitted, ranked"), anchor="y2"),
        yaxis2=dict(anchor="x2", title=dict(text="residual"), range=[0, 1]), showlegend=False))


def fig_count_frequencies(fits: dict, nsim: int = 250) -> go.Figure:
    """Observed frequency of each count against the frequency each model expects (by simulation,
    with new random effects: the model's own picture of the spread of counts)."""
    traces, observed = [], None
    for k, (name, f) in enumerate(fits.items()):
        c = diag.simulated_residuals(f, nsim).counts
        observed = c if observed is None else observed
        traces.append(dict(type="scatter", x=c["count"], y=c["expected"], mode="lines+markers", name=name,
                           line=dict(color=PALETTE[k + 1], width=3)))
    traces.insert(0, dict(type="bar", x=observed["count"], y=observed["observed"], name="observed",
                          marker=dict(color="#BBBBBB")))
    return figure(traces, dict(title=dict(text="How often each count occurs: data and models"), height=420,
                               xaxis=dict(title=dict(text="count")), yaxis=dict(title=dict(text="number of rows")),
                               legend=legend_below()))
