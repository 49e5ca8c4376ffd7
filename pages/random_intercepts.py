"""Lesson 2: random intercepts. Repeated measures, y = X beta + Z b + e, pooling, BLUPs."""
import streamlit as st

import lab
from mmcore import figures
from mmcore.lessons import quiz

lab.page_start()
st.title("Random intercepts")
st.markdown(
    "**The question.** The same subjects are measured again and again: a driver's reaction time on ten "
    "days, a woman's estrone in sixteen assays, a blend in four processes. Measurements of one subject are "
    "alike. How do we use that, without pretending we have independent observations, and without fitting a "
    "separate model to each subject?"
)
spec = lab.sidebar_data("ri", ["sleepstudy", "penicillin", "estrone", "dyestuff"], "intercepts")
formula = lab.intercept_model(spec)
fit = lab.fit_or_stop(spec, formula)
group = next(iter(fit.ranef))
lab.notes(fit)

lab.steps([
    "Look at the lines: switch on *no pooling* and *complete pooling* beside *partial pooling*.",
    "Open *The picture of it*: each row of Z has a single 1, in its group's column.",
    "Read the fit: sigma_b (between groups) against sigma (within), and the ICC computed from them.",
    "Choose *Simulate* in the sidebar, set sigma_b to 0, and watch the fit become singular.",
])
st.subheader("The model")
st.latex(r"y_{ij} = \mathbf{x}_{ij}^\top\boldsymbol\beta + b_i + \varepsilon_{ij},\qquad "
         r"b_i \sim N(0, \sigma_b^2),\quad \varepsilon_{ij} \sim N(0, \sigma^2)")
st.latex(r"\mathbf{y} = X\boldsymbol\beta + Z\mathbf{b} + \boldsymbol\varepsilon")
st.markdown(f"Group *i* is a level of **{group}**, *j* counts its measurements. Every group gets its own "
            f"intercept b_i, a draw from one normal distribution: the model estimates its spread sigma_b, "
            f"not a separate number per group. Fitted here: `{formula}`.")
with st.expander("The picture of it: X and Z for these data", expanded=False, **lab.bind("ri_xz")):
    cx, cz = st.columns(2)
    with cx:
        lab.show(lab.get_figure(figures.fig_design, spec, formula, scale=lab.scale(), options=(("which", "X"),)), key="X")
    with cz:
        lab.show(lab.get_figure(figures.fig_design, spec, formula, scale=lab.scale(), options=(("which", "Z"),)), key="Z")
    st.caption("Each row is one measurement. X holds the fixed-effect columns (lme4's names); Z has one "
               "column per group with a 1 where the row belongs to that group: Z b adds the row's group effect.")

st.subheader("The data, and a line per group")
shown = lab.pooling_pills("ri_show")
levels = list(fit.ranef[group].index)
groups = st.multiselect(f"{lab.plural(group)} shown", levels, default=levels[:6],
                        **lab.bind("ri_groups", reset_when=tuple(levels), reset_to=levels[:6]))
options = (("groups", tuple(groups)), ("show", tuple(shown or ()) + ("population",)))
lab.show(lab.get_figure(figures.fig_lines, spec, formula, scale=lab.scale(), options=options), key="ri_lines")
st.caption("Complete pooling ignores the groups (one line); no pooling fits each group alone; partial "
           "pooling (the mixed model) sits in between: each group's line is pulled toward the population.")

st.subheader("The fit, as lme4 prints it")
st.code(fit.summary(), language="text")
vc = fit.varcorr
sb, s = float(vc.sdcor.iloc[0]), fit.sigma
lab.explain(
    f"- **{group} (Intercept) Std.Dev. {sb:.4g}**: groups' own levels spread around the population with "
    f"SD sigma_b = {sb:.4g}.\n"
    f"- **Residual Std.Dev. {s:.4g}**: measurements spread around their group's line with SD sigma = {s:.4g}.\n"
    f"- **Fixed effects**: the population line; its standard errors allow for the grouping.\n"
    f"- **ICC** = sigma_b^2 / (sigma_b^2 + sigma^2) = {sb**2:.4g} / ({sb**2:.4g} + {s**2:.4g}) = "
    f"**{sb**2 / (sb**2 + s**2):.3f}**: the share of the variance that lies between groups."
)
if spec.simulated:
    st.markdown("**Estimates beside the truth**")
    t = spec.truth
    lab.truth_table(t, {"beta0": ("beta0", fit.fixef.iloc[0]), "beta1": ("beta1", fit.fixef.get("x")),
                       "sigma_b": ("sigma_b", sb), "sigma": ("sigma", s)})

blups, diag, panels = st.tabs(["BLUPs", "Diagnostics", "One panel per group"], **lab.bind("ri_tab"))
with blups:
    lab.show(lab.get_figure(figures.fig_caterpillar, spec, formula, scale=lab.scale()), key="ri_cat")
    st.caption("Each group's predicted intercept (conditional mode, BLUP) with a 95% interval from its "
               "conditional SD. Groups with intervals crossing 0 are not clearly different from average.")
with diag:
    c1, c2, c3 = st.columns(3)
    with c1:
        lab.show(lab.get_figure(figures.fig_qq_residuals, spec, formula, scale=lab.scale()), key="ri_qq")
    with c2:
        lab.show(lab.get_figure(figures.fig_qq_ranef, spec, formula, scale=lab.scale()), key="ri_qqre")
    with c3:
        lab.show(lab.get_figure(figures.fig_residuals, spec, formula, scale=lab.scale()), key="ri_rf")
    st.caption("Q-Q plots, standardised: the dotted line is the normal, and points inside the shaded simulation "
               "envelope are what normal values of this many look like.")
with panels:
    if st.toggle("Draw one panel per group", **lab.bind("ri_panels")):
        lab.show(lab.get_figure(figures.fig_panels, spec, formula, scale=lab.scale()), key="ri_lattice")

st.subheader("What to notice")
lab.explain(
    "- Partial-pooling lines lie between each group's own line and the population line.\n"
    "- Groups far from the average, with few or noisy measurements, are pulled in most.\n"
    "- In simulate mode, set sigma_b to 0: the fit becomes singular, and the model says the data cannot tell "
    "the between-group variance from zero."
)
lab.code_export(formula, spec)
lab.quiz("random_intercepts", quiz.random_intercepts(fit))
lab.page_end()
