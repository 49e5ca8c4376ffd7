"""Lesson 4: random slopes. (Days | Subject) against (Days || Subject) and (1 | Subject)."""
from types import SimpleNamespace

import streamlit as st

import lab
from mmcore import figures
from mmcore.lessons import quiz

lab.page_start()
st.title("Random slopes")
spec = lab.sidebar_data("rs", ["sleepstudy"], "slopes", live="rho")
y, x, g = ("y", "x", "group") if spec.simulated else ("Reaction", "Days", "Subject")
st.markdown(
    "**The question.** " + ("Sleep deprivation slows every driver down, but not at the same rate. " if not spec.simulated
                            else "Here the groups were drawn from a truth you set in the sidebar. ")
    + f"A random intercept lets each {g} start at its own level; a **random slope** also lets each {g} change "
    f"with {x} at its own rate. Do the data need it, and are start and rate related?"
)
c_unit, c_model = st.columns(2)  # the page's two choices side by side: the parts start within the first screen
unit = c_unit.radio(f"Measure {x} in", ["its own units", "tens of its units"], horizontal=True, **lab.bind("rs_unit"),
                help=f"Rescale {x} to {x}/10: the slope's variance changes by a factor 100, the model does not.")
if unit != "its own units":
    spec = lab.DataSpec(spec.dataset, spec.simulator, spec.params, spec.seed, (("scale", x, 0.1),))
MODELS = {
    "correlated": f"{y} ~ {x} + ({x} | {g})",
    "uncorrelated": f"{y} ~ {x} + ({x} || {g})",
    "intercept only": f"{y} ~ {x} + (1 | {g})",
}
ORDER = ("intercept only", "uncorrelated", "correlated")
PAIR = tuple(MODELS[k] for k in ("intercept only", "correlated"))


def warm(s: lab.DataSpec, scale: float = lab.scale()) -> None:
    """What a new truth costs this page (the fits, the charts as they open, the tests): computed ahead
    for the other values of rho (lab/prefetch.py), so a class moving rho finds them ready. It runs in a
    thread of its own: no Streamlit in it (the scale is this run's)."""
    levels = tuple(lab.get_fit(s, MODELS["correlated"]).ranef[g].index[:8])
    lab.get_figure(figures.fig_lines, s, MODELS["correlated"], scale=scale,
                   options=(("groups", levels), ("show", ("partial", "population"))))
    lab.get_figure(figures.fig_ranef_plane, s, MODELS["correlated"], scale=scale)
    lab.get_components_figure(s, tuple(MODELS.values()), tuple(MODELS), scale)
    lab.get_anova_text(s, tuple(MODELS[k] for k in ORDER), tuple(MODELS[k].split("+ ", 1)[1] for k in ORDER))
    lab.get_comparison(s, PAIR, ("m0", "m1"))


chosen = c_model.radio("Model", list(MODELS), horizontal=True, **lab.bind("rs_model"))
formula = MODELS[chosen]
st.markdown(f"Fitted: `{formula}`")  # not a caption: its 60% grey washed the formula out

LATEX = {
    "correlated": r"y_{ij} = (\beta_0 + b_{0i}) + (\beta_1 + b_{1i})\,x_{ij} + \varepsilon_{ij},\quad "
                  r"\begin{pmatrix} b_{0i}\\ b_{1i}\end{pmatrix} \sim N\!\left(\mathbf{0}, "
                  r"\begin{pmatrix}\sigma_{b0}^2 & \rho\sigma_{b0}\sigma_{b1}\\ \rho\sigma_{b0}\sigma_{b1} & "
                  r"\sigma_{b1}^2\end{pmatrix}\right)",
    "uncorrelated": r"y_{ij} = (\beta_0 + b_{0i}) + (\beta_1 + b_{1i})\,x_{ij} + \varepsilon_{ij},\quad "
                    r"b_{0i} \sim N(0, \sigma_{b0}^2),\ b_{1i} \sim N(0, \sigma_{b1}^2)\ \text{independent}",
    "intercept only": r"y_{ij} = (\beta_0 + b_{0i}) + \beta_1 x_{ij} + \varepsilon_{ij},\quad b_{0i} \sim N(0, \sigma_{b0}^2)",
}


def prepare(spec: lab.DataSpec) -> SimpleNamespace:
    """The three fits, for the data with the truth's rho where the slider is (lab.sections)."""
    fits = {name: lab.fit_or_stop(spec, f) for name, f in MODELS.items()}
    lab.compute_ahead(spec, "rho", warm, key=("random slopes", lab.scale()))
    fit = fits[chosen]
    lab.notes(fit)
    return SimpleNamespace(spec=spec, fits=fits, fit=fit, levels=list(fit.ranef[g].index))


def lines_and_plane(n: SimpleNamespace) -> None:
    st.latex(LATEX[chosen] + r",\quad \varepsilon_{ij} \sim N(0, \sigma^2)")
    left, right = st.columns(2)
    with left:
        show = lab.pooling_pills("rs_show")
        lab.show(lab.get_figure(figures.fig_lines, n.spec, formula, scale=lab.scale(),
                              options=(("groups", tuple(n.levels[:8])), ("show", tuple(show or ()) + ("population",)))),
                key="rs_lines")
    with right:
        if chosen == "intercept only":
            st.info("This model has no random slope: every line is parallel to the population line. "
                    "Choose a model with a slope to see the intercept-slope plane.")
        else:
            lab.show(lab.get_figure(figures.fig_ranef_plane, n.spec, formula, scale=lab.scale()), key="rs_plane")
            st.caption("Each point is one group's predicted (intercept, slope) deviation, its BLUP. The ellipse is the "
                       "fitted distribution of the groups' *true* deviations: 95% of them lie inside it under the model. "
                       "The points are shrunken toward 0, so they cluster well inside it: they are not a sample to "
                       "count against the 95%. An uncorrelated model draws an ellipse with upright axes.")
    if n.spec.simulated:
        t = n.spec.truth
        vc = n.fits["correlated"].varcorr
        lab.truth_table(t, {
            # the truth's slope SD is per unit of x; with x in tens of units the estimate is per ten units
            r"$\sigma_{b0}$": ("sigma_b0", vc.sdcor.iloc[0]),
            r"$\sigma_{b1}$ (per unit of x)": ("sigma_b1", vc.sdcor.iloc[1] * (0.1 if unit != "its own units" else 1)),
            r"$\rho$": ("rho", vc.sdcor.iloc[2]), r"$\sigma$": ("sigma", n.fits["correlated"].sigma)},
            heading="**Estimates beside the truth** (correlated model)")


def correlation_dragged(n: SimpleNamespace) -> None:
    lab.about_chart(r"**What a correlation looks like.** Drag the slider under the chart: $\rho$ of the truth from "
                "-0.95 to 0.95, the same random draws at every step, each data set fitted by REML (the estimate is "
                "in the title). Positive: groups that start high climb faster, the lines fan out; negative: they "
                "converge and cross. " + ("This chart's slider is its own, from the truth's other settings and seed 1: "
                "with seed 1, the sidebar's $\\rho$ draws these same data at the same $\\rho$. The numbers in the "
                "other parts of the lesson are the exact fit of the sidebar's data."
                if n.spec.simulated else "The SDs are this fit's; the numbers in the other parts of the lesson are the fit of the data."))
    if n.spec.simulated:  # keyed by the truth without rho: the sidebar's rho leaves this chart as it is
        sweep = lab.get_truth_sweep_figure("rho", tuple(p for p in n.spec.params if p[0] != "rho"), 0.0, lab.scale())
    else:
        sweep = lab.get_figure(figures.fig_rho_sweep, n.spec, MODELS["correlated"], scale=lab.scale())
    lab.show_followed(sweep, key="rs_rho_sweep")  # where it was let go: in the link, shown again on a reload


def three_models(n: SimpleNamespace) -> None:
    lab.show(lab.get_components_figure(n.spec, tuple(MODELS.values()), tuple(MODELS), lab.scale()), key="rs_vc")
    lab.anova_table(n.spec, tuple(MODELS[k] for k in ORDER), tuple(MODELS[k].split("+ ", 1)[1] for k in ORDER))
    st.caption("Each row tests the model against the one above it (likelihood-ratio test; both refitted by ML). "
               "A small p-value says the richer model fits clearly better. Row 2 adds a slope **variance**, zero "
               "under H0: the edge of its range, so its chi-square p-value is conservative (halve it: the 50:50 "
               "mixture). Row 3 adds only the **correlation**, which is 0 inside its range (-1, 1): its chi-square "
               "p-value is right as it is. See the model comparison lesson.")
    lab.code_text(n.fit.summary())


def centring(n: SimpleNamespace) -> None:
    # x measured from an origin c (x - c): the intercept becomes the value at x = c
    plain = lab.DataSpec(n.spec.dataset, n.spec.simulator, n.spec.params, n.spec.seed)
    origin = st.slider(f"Measure {x} from c (the intercept is then the value at {x} = c)", -10, 20, 0, 1,
                       **lab.bind("rs_origin"))
    moved = plain.with_transform(("shift", x, float(origin)))
    corr_fit = lab.fit_or_stop(moved, MODELS["correlated"])
    indep_fit = lab.fit_or_stop(moved, MODELS["uncorrelated"])
    study = lab.get_centring(plain, y, x, g)
    left, right = st.columns(2)
    with left:
        lab.show(lab.get_figure(figures.fig_ranef_plane, moved, MODELS["correlated"], scale=lab.scale()),
                 key="rs_centred")
    with right:
        lab.show(lab.get_centring_figure(plain, y, x, g, float(origin), lab.scale()), key="rs_centring")
    r_now = float(corr_fit.varcorr.sdcor.iloc[2])
    st.markdown(
        f"Measured from c = {origin}, the correlated model `({x} | {g})` has intercept-slope correlation "
        f"**{r_now:.2f}** and REML criterion **{corr_fit.reml_criterion:.2f}**, the same at every c: moving the "
        f"origin only re-expresses the same model. The uncorrelated `({x} || {g})` forces that correlation to 0 "
        f"wherever {x} starts, so it is a different model at each c: its REML criterion here is "
        f"**{indep_fit.reml_criterion:.2f}**. The correlation is 0 at c = {study.zero_origin:.2f}: only near there "
        f"does dropping it cost nothing. Before using `||`, centre {x} where an intercept means something, and "
        "check that the correlation is small there.")


def rescaling(n: SimpleNamespace) -> None:
    slope_var = n.fits["correlated"].varcorr.vcov.iloc[1]
    ml_fit = lab.fit_or_stop(n.spec, MODELS["correlated"], reml=False)
    st.markdown(
        f"With {x} in **{unit}** (*Measure {x} in*, above the lesson's parts), the slope variance is **{slope_var:.4g}**, the ML "
        f"deviance **{ml_fit.deviance:.4f}** and the REML criterion **{n.fits['correlated'].reml_criterion:.4f}**. "
        "Switch the unit: the slope variance changes by a factor 100 (a slope per ten units is ten times a slope "
        "per unit); the fitted values, the ML deviance and every likelihood-ratio test stay the same. The REML "
        r"criterion moves by $2\log 10 = 4.605$: it contains $\log|X^\top V^{-1} X|$, and the fixed slope's column "
        "is ten times smaller. That constant does not change the estimates (the same variances, in the new unit), "
        "which is why REML criteria are compared only between models with the same fixed effects. Variances of "
        f"slopes only mean something together with the unit of {x}.")


def predictions(n: SimpleNamespace) -> None:
    who = st.multiselect(lab.plural(g), n.levels, default=n.levels[:2],
                         **lab.bind("rs_who", reset_when=tuple(n.levels), reset_to=n.levels[:2]))
    lab.table(lab.get_predictions(n.spec, formula, tuple(who), x, g), 1, hide_index=True, height=260)
    lab.explain(
    "**Borrowing strength.** The prediction *with random effects* is this group's own line pulled toward the "
    "population line: how far depends on how much the group's own data say (how many points, how noisy) "
    r"against how much groups differ ($\sigma_{b0}$, $\sigma_{b1}$). A group with few points leans on the others."
    )


def diagnostics(n: SimpleNamespace) -> None:
    views = [(figures.fig_qq_ranef, (("term", term),)) for term in n.fit.ranef[g].columns]
    views += [(figures.fig_qq_residuals, ()), (figures.fig_residuals, ())]
    with lab.side_by_side("rs_diagnostics"):
        for start in range(0, len(views), 2):
            for col, (builder, options) in zip(st.columns(2), views[start : start + 2]):
                with col:
                    lab.show(lab.get_figure(builder, n.spec, formula, scale=lab.scale(), options=options),
                             key=f"rs_{builder.__name__}_{options}")
    st.caption("Q-Q plots of each random effect and of the residuals, standardised: the dotted line is the "
               "normal, and points inside the shaded simulation envelope are what normal values of this many "
               "look like.")
    if st.toggle("Draw one panel per group", **lab.bind("rs_panels")):
        lab.show(lab.get_figure(figures.fig_panels, n.spec, formula, scale=lab.scale()), key="rs_lattice")


def check_yourself(n: SimpleNamespace) -> None:
    comparison = lab.get_comparison(n.spec, PAIR, ("m0", "m1"))
    lab.quiz("random_slopes", quiz.random_slopes(float(n.fits["correlated"].varcorr.sdcor.iloc[2]),
                                                float(comparison["Pr(>Chisq)"].iloc[1]), x, g))
    lab.code_export(formula, n.spec)


# One idea per part, only the chosen one drawn (lab.sections): a slider above does not wait for charts and refits
# nobody sees (bench/browser.py, bench/load.py). In a fragment with the truth's rho: a press of that slider, or of a
# widget in the part, reruns the part alone.
lab.sections("rs_tab", {"Lines and plane": lines_and_plane, "Correlation": correlation_dragged,
                        "Three models": three_models, f"Centring {x}": centring,
                        f"Rescaling {x}": rescaling, "Predictions": predictions, "Diagnostics": diagnostics,
                        "Check yourself": check_yourself},
             steps={"Lines and plane": f"Switch between the three models (*Model*, above) and watch the lines and the "
                                       f"plane. In the plane each point is one {g}'s (intercept, slope) deviation; the "
                                       "ellipse is the fitted covariance.",
                    "Correlation": r"Drag $\rho$ of the truth and watch the lines fan out or cross. In simulate mode, "
                                   r"set $\rho$ to 0.8 in the sidebar and see the ellipse tilt (*Lines and plane*).",
                    "Three models": "Does adding the slope variance improve the fit? Does the correlation matter?",
                    f"Centring {x}": f"Move the origin of {x}: the intercept-slope correlation moves with it; the "
                                     "correlated model's REML criterion stays the same, the uncorrelated model's does "
                                     "not. Where is the correlation 0?",
                    f"Rescaling {x}": f"Measure {x} in tens of its units (*Measure {x} in*, above): the slope variance "
                                      "changes by a factor of 100; the fitted values and the ML deviance do not.",
                    "Predictions": f"Choose {lab.plural(g)}: how far is each prediction with random effects pulled from "
                                   "the group's own line toward the population line?",
                    "Diagnostics": "Are the random effects and the residuals normal?",
                    "Check yourself": "Answer the questions; then take this model to R or Python."},
             moved={"rs_show": "Lines and plane", "rs_origin": f"Centring {x}", "rs_who": "Predictions",
                    "rs_panels": "Diagnostics", "rs_rho_sweep_step": "Correlation"},
             spec=spec, prepare=prepare)
lab.page_end()
