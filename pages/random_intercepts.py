"""Lesson 2: random intercepts. Repeated measures, y = X beta + Z b + e, pooling, BLUPs."""
import streamlit as st

import lab
from mmcore import figures
from mmcore.lessons import quiz

# What the groups and measurements are, per data set: the lesson speaks of the data on screen.
CONTEXT = {
    "sleepstudy": "18 drivers, each measured on ten days: a driver's reaction times are alike from day to day.",
    "penicillin": "5 blends of corn steep liquor, each used once with each of four processes: yields from one "
                  "blend are alike.",
    "estrone": "5 women, each with sixteen repeated assays of the same blood: assays of one woman are alike.",
    "dyestuff": "6 batches of an intermediate product, five preparations from each: preparations of one batch "
                "are alike.",
    "simulate": "data drawn from a truth you set in the sidebar: groups, each measured several times.",
}

lab.page_start()
st.title("Random intercepts")
spec = lab.sidebar_data("ri", ["sleepstudy", "penicillin", "estrone", "dyestuff"], "intercepts")
st.markdown(
    f"**The question.** Here: {CONTEXT[spec.dataset]} How do we use that likeness, without pretending the "
    "measurements are independent and without fitting a separate model to each group?"
)
formula = lab.intercept_model(spec)
fit = lab.fit_or_stop(spec, formula)
group = next(iter(fit.ranef))
lab.notes(fit)

lab.steps([
    "Look at the pooling view: each group's own estimate (no pooling), the mixed model's (partial pooling) and "
    "one estimate for all (complete pooling).",
    "Open *The picture of it*: each row of $Z$ has a single 1, in its group's column.",
    r"Read the fit: $\sigma_b$ (between groups) against $\sigma$ (within), and the ICC computed from them.",
    r"Choose *Simulate*, set $\sigma_b$ to 0 and press *New sample* a few times: the fit is often singular "
    r"($\hat\sigma_b = 0$), not always (about 6 samples in 10 with 10 groups of 8).",
])
st.subheader("The model")
st.latex(r"y_{ij} = \mathbf{x}_{ij}^\top\boldsymbol\beta + b_i + \varepsilon_{ij},\qquad "
         r"b_i \sim N(0, \sigma_b^2),\quad \varepsilon_{ij} \sim N(0, \sigma^2)")
st.latex(r"\mathbf{y} = X\boldsymbol\beta + Z\mathbf{b} + \boldsymbol\varepsilon")
st.markdown(f"Group $i$ is a level of **{group}**, $j$ counts its measurements. Every group gets its own "
            r"intercept $b_i$, a draw from one normal distribution: the model estimates its spread $\sigma_b$, "
            f"not a separate number per group. Fitted here: `{formula}`.")
# Bound expander and tabs track whether they are open (streamlit 1.67): what is hidden is not drawn,
# so a slider does not wait for charts nobody sees (bench/browser.py).
picture = st.expander("The picture of it: X and Z for these data", expanded=False, **lab.bind("ri_xz"))
with picture:
    if picture.open:
        cx, cz = st.columns(2)
        with cx:
            lab.show(lab.get_figure(figures.fig_design, spec, formula, scale=lab.scale(), options=(("which", "X"),)), key="X")
        with cz:
            lab.show(lab.get_figure(figures.fig_design, spec, formula, scale=lab.scale(), options=(("which", "Z"),)), key="Z")
    st.caption("Each row is one measurement. X holds the fixed-effect columns (lme4's names); Z has one "
               "column per group with a 1 where the row belongs to that group: Z b adds the row's group effect.")

st.subheader("Three ways to estimate each group")
shown = lab.pooling_pills("ri_show", default=("complete pooling", "no pooling", "partial pooling"))
levels = list(fit.ranef[group].index)
kind, covariate = figures.covariate_kind(fit)
if kind != "none" and len(levels) > 18:  # a panel per group: a screenful of them
    chosen = st.multiselect(f"{lab.plural(group)} shown", levels, default=levels[:12],
                            **lab.bind("ri_groups", reset_when=tuple(levels), reset_to=levels[:12]))
else:
    chosen = levels
lab.show(lab.get_figure(figures.fig_pooling, spec, formula, scale=lab.scale(),
                        options=(("groups", tuple(chosen)), ("show", tuple(shown)))), key="ri_pooling")
own = ("its own mean, from its data alone" if kind == "none" else
       f"its own intercept; the effect of {covariate} is still estimated from all groups together "
       f"(lm(y ~ {covariate} + {group}))")
st.caption(f"**Complete pooling** ignores the groups: one estimate for all. **No pooling** gives each {group} {own}. "
           f"**Partial pooling** (the mixed model) sits in between: each {group} is pulled toward the population, "
           "more so the fewer or noisier its measurements.")

st.subheader("The fit, as lme4 prints it")
lab.code_text(fit.summary())
vc = fit.varcorr
sb, s = float(vc.sdcor.iloc[0]), fit.sigma
lab.explain(
    f"- **{group} (Intercept) Std.Dev. {sb:.4g}**: groups' own levels spread around the population with "
    rf"SD $\hat\sigma_b$ = {sb:.4g}." "\n"
    rf"- **Residual Std.Dev. {s:.4g}**: measurements spread around their group's level with SD $\hat\sigma$ = {s:.4g}." "\n"
    "- **Fixed effects**: the population; their standard errors allow for the grouping.\n"
    rf"- **ICC** = $\hat\sigma_b^2 / (\hat\sigma_b^2 + \hat\sigma^2)$ = {sb**2:.4g} / ({sb**2:.4g} + {s**2:.4g}) = "
    f"**{sb**2 / (sb**2 + s**2):.3f}**: the share of the variance that lies between groups."
)
if spec.simulated:
    st.markdown("**Estimates beside the truth**")
    t = spec.truth
    lab.truth_table(t, {r"$\beta_0$": ("beta0", fit.fixef.iloc[0]), r"$\beta_1$": ("beta1", fit.fixef.get("x")),
                        r"$\sigma_b$": ("sigma_b", sb), r"$\sigma$": ("sigma", s)})

blups, diag, panels = st.tabs(["BLUPs", "Diagnostics", "All groups in one chart"], **lab.bind("ri_tab"))
with blups:
    if blups.open:
        lab.show(lab.get_figure(figures.fig_caterpillar, spec, formula, scale=lab.scale()), key="ri_cat")
    st.caption("Each group's predicted intercept (conditional mode, BLUP) with a 95% interval from its "
               "conditional SD. Groups with intervals crossing 0 are not clearly different from average.")
with diag:
    c1, c2, c3 = st.columns(3)
    if diag.open:
        with c1:
            lab.show(lab.get_figure(figures.fig_qq_residuals, spec, formula, scale=lab.scale()), key="ri_qq")
        with c2:
            lab.show(lab.get_figure(figures.fig_qq_ranef, spec, formula, scale=lab.scale()), key="ri_qqre")
        with c3:
            lab.show(lab.get_figure(figures.fig_residuals, spec, formula, scale=lab.scale()), key="ri_rf")
    st.caption("Q-Q plots, standardised: the dotted line is the normal, and points inside the shaded simulation "
               "envelope are what normal values of this many look like.")
with panels:
    if panels.open and st.toggle("Draw every group's partial-pooling line in one chart", **lab.bind("ri_panels")):
        lab.show(lab.get_figure(figures.fig_lines, spec, formula, scale=lab.scale(),
                                options=(("show", ("partial", "population")),)), key="ri_lines")

st.subheader("What to notice")
lab.explain(
    "- The partial-pooling estimate of every group lies between its own estimate and the population.\n"
    "- Groups far from the average, with few or noisy measurements, are pulled in most.\n"
    r"- In simulate mode, set $\sigma_b$ to 0: the fit is often singular ($\hat\sigma_b = 0$, every group pulled "
    "all the way to the population), and the model says the data cannot tell the between-group variance from zero. "
    r"Not always: by chance the groups' means can differ more than $\sigma^2/n$ explains."
)
lab.code_export(formula, spec)
lab.quiz("random_intercepts", quiz.random_intercepts(fit))
lab.page_end()
