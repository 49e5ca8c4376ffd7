"""Lesson 12: correlated errors. Growth over time, nlme's AR(1) and continuous-time AR(1) errors."""
import streamlit as st

import lab
import mmcore
from mmcore.figures.correlated import fig_acf, fig_se_study, fig_trajectories
from mmcore.lessons import quiz
from mmcore.lessons.correlated import (
    GROWTH_MODEL,
    STUDIES,
    WORKSHOP_TRUTH,
    code,
    se_simulation,
    side_by_side,
    typical_gap,
)

lab.page_start()
st.title("Correlated errors: growth over time")
spec = lab.sidebar_data("ce", ["trees", "ovary", "bodyweight"], "trees")
name = "trees" if spec.simulated else spec.dataset
QUESTIONS = {
    "trees": "Thirty-six trees under three fertilizers were measured after 1, 2, 3 and 4 years. Each tree grows at its "
             "own rate, and a good or bad year stays in its height for good: a tree's errors are **not independent**.",
    "ovary": "Eleven mares had their large ovarian follicles counted daily over their cycles. A mare with more "
             "follicles than her curve predicts today will likely have more tomorrow too: her errors are **not "
             "independent** (AR(1) by day).",
    "bodyweight": "Sixteen rats on three diets were weighed about weekly for nine weeks. A rat heavier than its line "
                  "this week is heavier next week too, and the weighings are not equally spaced (days 43 and 44): "
                  "errors correlated in **continuous time** (CAR(1)).",
}
st.markdown(f"**The question.** {QUESTIONS[name]} lme4 cannot model that; nlme's `lme(..., correlation = "
            f"{'corAR1' if STUDIES[name].correlation == 'ar1' else 'corCAR1'}())` is what people use. What does the "
            "correlation change, and what happens if we ignore it?")
study = STUDIES[name]
m0 = lab.fit_or_stop(spec, study.formula)
try:
    m1 = lab.get_lme(spec, study.formula, study.correlation, study.time)
except mmcore.MixedModelError as err:
    st.error(f"This model cannot be fitted: {err}")
    lab.stop()
lab.notes(m1)
trees = name == "trees"
step = {"trees": "year", "ovary": "observation", "bodyweight": "day"}[name]

lab.steps([
    "Look at the lines: does a tree (mare, rat) that is above its line stay above it the next time?",
    "Compare the two fits: how far do the estimates, their standard errors and the residual SD move?",
    "Read the autocorrelation plot: are the independent-errors residuals correlated? The AR(1) model's "
    "normalized residuals should not be.",
] + ([
    "Run the simulation: whose standard errors are honest?",
    "The random-walk view: fit the yearly growth instead of the height.",
    "Choose *Simulate*: set phi to 0 (independent years) and to 1 (a random walk) and watch phi's estimate.",
] if trees else ["Choose the trees, or *Simulate*, for the simulation of standard errors and the random-walk view."]))
st.subheader("The picture")
lab.show(lab.get_lme_figure(fig_trajectories, spec, study.formula, study.correlation, study.time, lab.scale(),
                            (("x", study.x), ("colour", study.colour))), key="ce_lines")
if name == "trees" and not spec.simulated:
    st.caption("These heights are **simulated** (the StatLab workshop's example): yearly growth = fertilizer's rate "
               "+ the tree's own deviation (SD 0.3) + that year's deviation (SD 0.5), heights are the running total.")

st.subheader("The model")
LATEX = {
    "trees": r"\text{height}_{ij} = t_j\,(\beta_{f(i)} + b_i) + \varepsilon_{ij},\quad b_i \sim N(0, \sigma_b^2)",
    "ovary": r"\text{follicles}_{ij} = \beta_0 + b_{0i} + (\beta_1 + b_{1i}) \sin(2\pi t_{ij}) + \beta_2 \cos(2\pi t_{ij})"
             r" + \varepsilon_{ij},\quad b_{0i}, b_{1i} \text{ independent normal}",
    "bodyweight": r"\text{weight}_{ij} = \beta_{0,d(i)} + b_{0i} + (\beta_{1,d(i)} + b_{1i})\,t_{ij} + \varepsilon_{ij},"
                  r"\quad (b_{0i}, b_{1i}) \sim N(\mathbf 0, D)",
}
lag = r"|j - k|" if study.correlation == "ar1" else r"|t_{ij} - t_{ik}|"
st.latex(LATEX[name])
st.latex(r"\operatorname{Var}\varepsilon_{ij} = \sigma^2,\quad "
         rf"\operatorname{{Corr}}(\varepsilon_{{ij}}, \varepsilon_{{ik}}) = \phi^{{{lag}}}\ \text{{(the same group }} i)")
ar = "AR(1)" if study.correlation == "ar1" else "CAR(1)"
kind = "by position within the group (AR(1))" if study.correlation == "ar1" else "in continuous time (CAR(1))"
st.markdown(f"Errors of different groups are independent; errors of one group are correlated {kind}: two errors "
            f"one {step} apart have correlation phi, two "
            f"apart phi^2, and so on. phi = 0 is the usual mixed model. In nlme: `{study.nlme_call}`.")

st.subheader("The two fits side by side")
table = side_by_side({"independent errors": m0, f"{ar} errors": m1})
lab.table(table, 4)
gap = typical_gap(m1)
at_gap = f" per {step}: at the usual gap of {gap:g} {step}s, phi^{gap:g} = **{m1.phi ** gap:.3f}**" if gap != 1 else ""
st.markdown(f"{ar} model: phi = **{m1.phi:.4f}**{at_gap}; residual SD **{m1.sigma:.4g}** (independent errors: "
            f"{m0.sigma:.4g}); REML log-likelihood {m1.loglik:.3f} against {m0.loglik:.3f}.")
lab.code_text(lab.get_lme_anova_text(spec, study.formula, study.correlation, study.time))
lab.explain("Both models have the same fixed effects, so their **REML** likelihoods can be compared directly, as "
            "nlme's `anova(m0, m1)` does: the test asks whether phi = 0. (Models with different fixed effects "
            "would need ML fits.)")
with st.expander(f"The {ar} fit as nlme prints it (summary)"):
    lab.code_text(m1.summary())

st.subheader("Are the residuals of a group correlated?")
acfs = {"independent errors": lab.get_acf(spec, study.formula, None, study.time, "pearson"),
        f"{ar} errors": lab.get_acf(spec, study.formula, study.correlation, study.time, "normalized")}
if trees:
    acfs["growth increments"] = lab.get_acf(spec, GROWTH_MODEL, None, "year", "pearson")
lab.show(lab.styled(fig_acf(acfs), lab.scale()), key="ce_acf")
st.caption("nlme's ACF: the correlation of a group's residuals with the same group's residuals *lag* steps later, "
           f"pooled over groups. Independent errors: ordinary residuals of the model without correlation. {ar}: "
           f"*normalized* residuals, whitened by the fitted correlation: if the {ar} model is right they look "
           "independent. The dotted lines are rough 95% bounds for independent residuals: long lags rest on few "
           "pairs." + (" With uneven gaps, lags count positions, not days." if study.correlation == "car1" else ""))
if any((t.loc[t["lag"] > 0, "ACF"] < 0).any() for t in acfs.values()):
    st.caption("**Why bars below zero?** Each residual is measured from its own group's fitted curve (the fixed "
               "effects plus that group's BLUPs), which was fitted to the same few observations, so a group's "
               "residuals partly cancel out: they are negatively correlated even when the errors are independent. "
               "With a random intercept alone, n observations per group and shrinkage factor λ (the shrinkage "
               "lesson), about −λ/(n − λ) at every lag: −1/(n − 1) when λ is near 1. The dotted "
               "bounds are drawn around 0 and do not allow for this."
               + (" Here a tree has 4 years (−1/3 at most): in simulations of the workshop's truth, where the AR(1) "
                  "model is right, its normalized residuals gave bars of about −0.2 to −0.3 at every lag, as these do."
                  if trees and not spec.simulated else ""))

if trees:
    st.subheader("What ignoring the correlation does to the standard errors")
    truth = spec.truth if spec.simulated else WORKSHOP_TRUTH
    st.markdown("Draw many data sets of this design from "
                + ("the truth you set" if spec.simulated else "the truth the workshop's data came from (phi = 1: a "
                   "random walk; tree SD 0.3, yearly SD 0.5)")
                + ", fit five models to each, and hold the standard errors they report against the true spread of "
                "their estimates.")
    nsim = st.select_slider("simulated data sets", [200, 500, 1000], 500, **lab.bind("ce_nsim"))
    result = lab.run_on_click("ce_se", (spec, nsim), "Run the simulation", "ce_run", se_simulation,
                              label="Fitting", data=lab.get_data(spec), truth=truth, nsim=nsim, seed=1)
    if result is not None:
        lab.show(lab.styled(fig_se_study(result), lab.scale()), key="ce_se_fig")
        lab.table(result.table, 3)
        lab.explain(
            "**What to notice.** A model that lets each tree have its own rate (random slope) reports honest "
            "standard errors for the fertilizers whether or not it models the correlation: the fertilizer effect is "
            "judged by how much the trees' own rates vary, and that variation includes the carried-over deviations. "
            "Take the random slope away and the independent-errors model claims too much precision: its 95% "
            "intervals cover the truth far less often. AR(1) errors repair part of it. The growth increments get "
            "it right with the simplest model." + (f" ({result.failed} fits could not be verified.)"
                                                  if result.failed else ""))

    st.subheader("The random-walk view: model the growth, not the height")
    growth = lab.fit_or_stop(spec, GROWTH_MODEL)
    st.latex(r"\text{growth}_{ij} = \text{height}_{ij} - \text{height}_{i,j-1} = \beta_{f(i)} + b_i + a_{ij},\quad "
             r"a_{ij} \sim N(0, \sigma^2) \text{ independent}")
    lab.show(lab.get_figure(fig_trajectories, spec, GROWTH_MODEL, scale=lab.scale(),
                            options=(("x", "year"), ("colour", "fert"))), key="ce_growth")
    st.markdown("When each year's deviation stays in the height for good (phi = 1, the workshop's story), the height "
                "is a running total and the "
                "**yearly growth** is the rate plus this year's own deviation: independent again, and a random "
                "intercept per tree is all the model needs. Its fertilizer estimates, beside the AR(1) model's:")
    lab.table(side_by_side({"growth model": growth, "AR(1) model": m1}), 4)
    lab.code_text(growth.summary())

if spec.simulated:
    re_sd = float(m1.varcorr.sdcor.iloc[0])
    lab.truth_table(spec.truth, {"phi (AR(1) model)": ("phi", m1.phi), "tree-to-tree SD": ("sd_tree", re_sd),
                                 "yearly SD (growth model's residual SD)": ("sd_year", growth.sigma)},
                    heading="**Estimates beside the truth.** The truth's errors start at planting (height 0 at time 0), "
                            "while AR(1) assumes they have always been running: phi is an approximation, exact in spirit.")



def blocks() -> list[tuple[str, str, str]]:
    r_text, py_text = code(study, f"{spec.dataset if not spec.simulated else 'simulated'}.csv")
    return [("**R (nlme)**", "r", r_text), ("**Python (mmcore)**", "python", py_text)]


lab.code_blocks("Code: these models in R (nlme) and Python (mmcore)", blocks, data=(spec, f"{name}.csv", "ce_download"))
comparison = mmcore.anova(m0, m1)
lab.quiz("correlated_errors", quiz.correlated_errors(m1.phi, float(comparison["Pr(>Chisq)"].iloc[1]), step))
lab.page_end()
