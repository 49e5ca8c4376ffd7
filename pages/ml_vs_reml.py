"""Lesson 6: ML against REML. Two criteria, their curves, their estimates, and when to use which."""
import pandas as pd
import streamlit as st

import lab
from mmcore.figures import fig_estimates
from mmcore.inference.variance import anova_blocks, anova_oneway
from mmcore.lessons import quiz
from mmcore.lessons.criteria import reml_ml_study

lab.page_start()
st.title("ML vs REML")
st.markdown(
    "**The question.** Maximum likelihood (ML) estimates the fixed effects and the variances together, and so "
    "treats the fixed effects as known when it estimates the variances: they come out too small, like dividing a "
    "sample variance by n instead of n - 1. **REML** (restricted ML) first removes the fixed effects and estimates "
    "the variances from what is left. Same model, two criteria, two sets of variance estimates."
)
spec = lab.sidebar_data("mr", ["dyestuff", "penicillin", "estrone", "sleepstudy"], "intercepts")
formula = lab.intercept_model(spec)
ml, reml = lab.fit_or_stop(spec, formula, reml=False), lab.fit_or_stop(spec, formula, reml=True)
lab.notes(reml)
st.latex(r"-2\ell_{ML}(\boldsymbol\beta, \sigma_b, \sigma) = \log|V| + (\mathbf y - X\boldsymbol\beta)^\top V^{-1}"
         r"(\mathbf y - X\boldsymbol\beta) + n\log 2\pi")
st.latex(r"-2\ell_{REML}(\sigma_b, \sigma) = \log|V| + \log|X^\top V^{-1}X| + (\mathbf y - X\hat{\boldsymbol\beta})^\top V^{-1}"
         r"(\mathbf y - X\hat{\boldsymbol\beta}) + (n - p)\log 2\pi")

lab.steps([
    r"Compare the two curves against $\sigma_b$: where is each optimum?",
    "Read the two fits side by side: which variances differ, and which fixed effects do not?",
    "Run the simulation with 5 groups: where do the ML estimates sit against the truth?",
    "Read why a test of fixed effects needs ML fits.",
])
st.subheader("The two criteria, as curves")
c1, c2 = st.columns(2)
with c1:
    lab.show(lab.get_curves_figure(spec, formula, "profiles", "sigma_b", lab.scale()), key="mr_prof_b")
with c2:
    lab.show(lab.get_curves_figure(spec, formula, "profiles", "sigma", lab.scale()), key="mr_prof_s")
st.caption("Each curve is the criterion minimised over the other parameter, relative to its own minimum. REML's "
           r"optimum for $\sigma_b$ lies to the right: a larger variance estimate. For $\sigma$ the two often nearly "
           r"agree (with many observations per group, the fixed effects cost $\sigma$ little).")
if st.toggle(r"Show both criteria over $(\sigma, \sigma_b)$", **lab.bind("mr_surface")):
    c1, c2 = st.columns(2)
    with c1:
        lab.show(lab.get_curves_figure(spec, formula, "surface", "ml", lab.scale()), key="mr_surf_ml")
    with c2:
        lab.show(lab.get_curves_figure(spec, formula, "surface", "reml", lab.scale()), key="mr_surf_reml")

st.subheader("The two fits, side by side")
both = pd.DataFrame({"ML": ml.varcorr.set_index(["grp", "var1"])["vcov"],
                     "REML": reml.varcorr.set_index(["grp", "var1"])["vcov"]})
both.index = [f"{g} {v}" if isinstance(v, str) else g for g, v in both.index]
fixed = pd.DataFrame({"ML estimate": ml.fixef, "ML SE": ml.se, "REML estimate": reml.fixef, "REML SE": reml.se})
st.markdown("**Variances**")
lab.table(both)
st.markdown("**Fixed effects**: the estimates agree for balanced data; the standard errors do not")
lab.table(fixed)
with st.expander("Both summaries, as lme4 prints them"):
    c1, c2 = st.columns(2)
    with c1:
        lab.code_text(ml.summary())
    with c2:
        lab.code_text(reml.summary())

st.subheader("REML equals the ANOVA estimator for balanced data")
data = lab.get_data(spec)
if spec.dataset == "penicillin":
    a = anova_blocks(data, "yield", "treat", "blend")
    lab.table(a["table"], 4)
    st.markdown(r"$\hat\sigma_b^2$ = (MS_blend - MS_error) / 4 = " f" ({a['table'].loc['blend', 'Mean Sq']:.4g} - {a['sigma2']:.4g}) / 4 "
                f"= **{a['sigma_b2']:.4g}**; REML: **{reml.varcorr.vcov.iloc[0]:.4g}**; ML: {ml.varcorr.vcov.iloc[0]:.4g}.")
elif formula.split("~")[1].strip().startswith("1 +"):
    group = next(iter(reml.ranef))
    a = anova_oneway(data, reml.response, group)
    st.markdown(f"One-way ANOVA: MSA = {a['MSA']:.4g}, MSE = {a['MSE']:.4g}, $n$ = {a['n0']:.4g}. "
                rf"$\hat\sigma_b^2$ = (MSA - MSE) / $n$ = **{a['sigma_b2']:.4g}** (REML **{reml.varcorr.vcov.iloc[0]:.4g}**, "
                rf"ML {ml.varcorr.vcov.iloc[0]:.4g}); $\hat\sigma^2$ = MSE = **{a['MSE']:.4g}** (REML {reml.sigma**2:.4g}). "
                "For a balanced design REML's estimates are these ANOVA estimators whenever the ANOVA estimate is "
                "positive; when it is negative, REML stops at 0.")
else:
    st.info("Choose dyestuff, estrone or penicillin: the ANOVA estimators are defined for balanced one-way and "
            "block designs.")

st.subheader("Why REML: a simulation")
c1, c2, c3, c4, c5 = st.columns(5)
params = (c1.number_input("groups", 2, 50, 5, **lab.bind("mr_groups")),
          c2.number_input("per group", 2, 50, 4, **lab.bind("mr_per")),
          c3.number_input(r"$\sigma_b$", 0.0, 50.0, 10.0, **lab.bind("mr_sb")),
          c4.number_input(r"$\sigma$", 0.1, 50.0, 10.0, **lab.bind("mr_s")),
          c5.select_slider("data sets", [200, 500, 1000, 2000, 5000], 1000, **lab.bind("mr_nsim")))
study = lab.run_on_click("mr_study", params, "Run the simulation", "mr_run", reml_ml_study, n_groups=params[0],
                        n_per_group=params[1], sigma_b=params[2], sigma=params[3], nsim=params[4], seed=1)
if study is not None:
    lab.show(lab.styled(fig_estimates(study, params[2] ** 2), lab.scale()), key="mr_study_fig")
    st.markdown(rf"True $\sigma_b^2$ = {params[2] ** 2:.4g}."
                f" Mean ML estimate **{study['ML sigma_b^2'].mean():.4g}**, mean REML "
                f"estimate **{study['REML sigma_b^2'].mean():.4g}**. With few groups ML is biased low, just as "
                "sum((x - mean)^2) / n is: the fixed effect (the mean) used up one degree of freedom that ML ignores.")

st.subheader("When ML: testing fixed effects")
pen = lab.DataSpec("penicillin")
m0, m1 = "yield ~ 1 + (1 | blend)", "yield ~ treat + (1 | blend)"
ml_test = lab.get_comparison(pen, (m0, m1), ("without treat", "with treat"))
r0, r1 = lab.get_fit(pen, m0, True), lab.get_fit(pen, m1, True)
st.markdown(
    f"Does treatment matter in penicillin? The likelihood-ratio test with **ML** fits: chi-square "
    f"**{ml_test['Chisq'].iloc[1]:.3f}** on {int(ml_test['Df'].iloc[1])} df, p = **{lab.format_p(ml_test['Pr(>Chisq)'].iloc[1])}** "
    f"(lme4's anova() refits REML fits by ML for this). Comparing the **REML** criteria instead gives "
    f"{2 * (r1.loglik - r0.loglik):.3f}, which is meaningless: the REML likelihood is that of residuals *after* "
    "removing the fixed effects, so models with different fixed effects are likelihoods of different data."
)
lab.code_export(formula, spec, reml=True)
lab.quiz("ml_vs_reml", quiz.ml_vs_reml(float(ml.varcorr.sdcor.iloc[0]), float(reml.varcorr.sdcor.iloc[0])))
lab.page_end()
