"""Lesson 4: random slopes. (Days | Subject) against (Days || Subject) and (1 | Subject)."""
import streamlit as st

import lab
from mmcore import figures
from mmcore.lessons import quiz

lab.page_start()
st.title("Random slopes")
st.markdown(
    "**The question.** Sleep deprivation slows everyone down, but not at the same rate. A random intercept "
    "lets each driver start at their own level; a **random slope** also lets each driver worsen at their "
    "own rate. Do the data need it, and are start and rate related?"
)
spec = lab.sidebar_data("rs", ["sleepstudy"], "slopes")
y, x, g = ("y", "x", "group") if spec.simulated else ("Reaction", "Days", "Subject")
unit = st.radio(f"Measure {x} in", ["days", "tens of days"], horizontal=True, **lab.bind("rs_unit"),
                help=f"Rescale {x} to {x}/10: the slope's variance changes by a factor 100, the model does not.")
if unit == "tens of days":
    spec = lab.DataSpec(spec.dataset, spec.simulator, spec.params, spec.seed, (("scale", x, 0.1),))
MODELS = {
    "correlated": f"{y} ~ {x} + ({x} | {g})",
    "uncorrelated": f"{y} ~ {x} + ({x} || {g})",
    "intercept only": f"{y} ~ {x} + (1 | {g})",
}
fits = {name: lab.fit_or_stop(spec, f) for name, f in MODELS.items()}
chosen = st.radio("Model", list(MODELS), horizontal=True, **lab.bind("rs_model"))
formula, fit = MODELS[chosen], fits[chosen]
st.caption(f"`{formula}`")
lab.notes(fit)

lab.steps([
    "Switch between the three models: watch the lines, the plane and the variance components.",
    "In the plane, each point is one driver's (intercept, slope) deviation; the ellipse is the fitted covariance.",
    "Read the anova table: does adding the slope variance improve the fit? Does the correlation matter?",
    "Measure Days in tens of days: the slope variance changes by 100, the fit does not.",
    "Choose *Simulate*, set rho to 0.8, and see the ellipse tilt.",
])
st.subheader("The model")
LATEX = {
    "correlated": r"y_{ij} = (\beta_0 + b_{0i}) + (\beta_1 + b_{1i})\,x_{ij} + \varepsilon_{ij},\quad "
                  r"\begin{pmatrix} b_{0i}\\ b_{1i}\end{pmatrix} \sim N\!\left(\mathbf{0}, "
                  r"\begin{pmatrix}\sigma_0^2 & \rho\sigma_0\sigma_1\\ \rho\sigma_0\sigma_1 & \sigma_1^2\end{pmatrix}\right)",
    "uncorrelated": r"y_{ij} = (\beta_0 + b_{0i}) + (\beta_1 + b_{1i})\,x_{ij} + \varepsilon_{ij},\quad "
                    r"b_{0i} \sim N(0, \sigma_0^2),\ b_{1i} \sim N(0, \sigma_1^2)\ \text{independent}",
    "intercept only": r"y_{ij} = (\beta_0 + b_{0i}) + \beta_1 x_{ij} + \varepsilon_{ij},\quad b_{0i} \sim N(0, \sigma_0^2)",
}
st.latex(LATEX[chosen] + r",\quad \varepsilon_{ij} \sim N(0, \sigma^2)")

left, right = st.columns(2)
with left:
    show = lab.pooling_pills("rs_show")
    levels = list(fit.ranef[g].index)
    lab.show(lab.get_figure(figures.fig_lines, spec, formula, scale=lab.scale(),
                          options=(("groups", tuple(levels[:8])), ("show", tuple(show or ()) + ("population",)))),
            key="rs_lines")
with right:
    if chosen == "intercept only":
        st.info("This model has no random slope: every line is parallel to the population line. "
                "Choose a model with a slope to see the intercept-slope plane.")
    else:
        lab.show(lab.get_figure(figures.fig_ranef_plane, spec, formula, scale=lab.scale()), key="rs_plane")
        st.caption("Each point is one group's (intercept, slope) deviation; the ellipse is where 95% of them "
                   "should fall under the fitted covariance. An uncorrelated model draws an upright ellipse.")

st.subheader("The three models side by side")
order = ("intercept only", "uncorrelated", "correlated")
lab.show(lab.get_components_figure(spec, tuple(MODELS.values()), tuple(MODELS), lab.scale()), key="rs_vc")
lab.anova_table(spec, tuple(MODELS[k] for k in order), tuple(MODELS[k].split("+ ", 1)[1] for k in order))
st.caption("Each row tests the model against the one above it (likelihood-ratio test). A small p-value says the "
           "richer model fits clearly better. A variance tested against zero sits on the boundary of its range, "
           "so these p-values are conservative (see the model comparison lesson).")
st.code(fit.summary(), language="text")

st.subheader("Diagnostics")
if st.toggle("Show Q-Q plots and residuals", **lab.bind("rs_diag")):
    views = [(figures.fig_qq_ranef, (("term", term),)) for term in fit.ranef[g].columns]
    views += [(figures.fig_qq_residuals, ()), (figures.fig_residuals, ())]
    for start in range(0, len(views), 2):
        for col, (builder, options) in zip(st.columns(2), views[start : start + 2]):
            with col:
                lab.show(lab.get_figure(builder, spec, formula, scale=lab.scale(), options=options),
                         key=f"rs_{builder.__name__}_{options}")
st.caption("Q-Q plots of each random effect and of the residuals, standardised: the dotted line is the normal, and "
           "points inside the shaded simulation envelope are what normal values of this many look like.")
if st.toggle("Draw one panel per group", **lab.bind("rs_panels")):
    lab.show(lab.get_figure(figures.fig_panels, spec, formula, scale=lab.scale()), key="rs_lattice")

st.subheader("Predictions with and without the random effects")
who = st.multiselect(lab.plural(g), levels, default=levels[:2], **lab.bind("rs_who", reset_when=tuple(levels),
                                                                           reset_to=levels[:2]))
lab.table(lab.get_predictions(spec, formula, tuple(who), x, g), 1, hide_index=True, height=260)
lab.explain(
    "**Borrowing strength.** The prediction *with random effects* is this group's own line pulled toward the "
    "population line: how far depends on how much the group's own data say (how many points, how noisy) "
    "against how much groups differ (sigma_0, sigma_1). A group with few points leans on the others."
)

st.subheader(f"Rescaling {x}")
slope_var = fits["correlated"].varcorr.vcov.iloc[1]
st.markdown(
    f"With {x} in **{unit}**, the slope variance is **{slope_var:.4g}** and the REML criterion "
    f"**{fits['correlated'].reml_criterion:.4f}**. Switch the unit above: the variance changes by a factor "
    f"100 (a slope per ten days is ten times a slope per day), while the criterion, the fitted values and every "
    f"test stay the same. Variances of slopes only mean something together with the unit of {x}."
)
if spec.simulated:
    t = spec.truth
    vc = fits["correlated"].varcorr
    st.markdown("**Estimates beside the truth** (correlated model)")
    lab.truth_table(t, {
        "sigma_b0": ("sigma_b0", vc.sdcor.iloc[0]), "sigma_b1": ("sigma_b1", vc.sdcor.iloc[1] / (0.1 if unit != "days" else 1)),
        "rho": ("rho", vc.sdcor.iloc[2]), "sigma": ("sigma", fits["correlated"].sigma)})
lab.code_export(formula, spec)
comparison = lab.get_comparison(spec, tuple(MODELS[k] for k in ("intercept only", "correlated")), ("m0", "m1"))
lab.quiz("random_slopes", quiz.random_slopes(float(fits["correlated"].varcorr.sdcor.iloc[2]),
                                            float(comparison["Pr(>Chisq)"].iloc[1])))
lab.page_end()
