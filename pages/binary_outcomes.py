"""Lesson 11: binary and count outcomes. Generalized linear mixed models as glmer fits them: the logit
model of the balance data (ctsib), binomial counts (cbpp), odds ratios, subjects' curves and their
average, marginal against conditional, Laplace against quadrature against PQL, diagnostics that suit
a GLMM, and overdispersed counts with an observation-level random effect (grouseticks)."""
import streamlit as st

import lab
from mmcore import figures
from mmcore.lessons import quiz
from mmcore.lessons.glm_diagnostics import pearson_dispersion
from mmcore.lessons.glmm import (
    attenuation_factor,
    odds_ratios,
    pql_bias_study,
    pql_study_design,
    probability_text,
    random_intercept_sd,
)
from mmcore.lmm.rprint import signif_text

lab.page_start()
st.title("Binary and count outcomes: generalized mixed models")
st.markdown(
    "**The question.** Forty people tried to stand still on foam or a normal surface, with eyes open, closed or "
    "under a dome, twice each. Did they stay stable? The outcome is yes or no, and a linear model would predict "
    "probabilities below 0 and above 1. A **generalized** linear mixed model puts the person's random effect on "
    "the log-odds scale: what does a coefficient mean then, and why does the average person differ from the "
    "person in the middle?"
)
spec = lab.sidebar_data("gl", ["ctsib", "cbpp"], "binary")
if spec.simulated:
    st.caption("Simulated here: each subject tried at x from -2 to 2; P(y = 1 | b_i) = logistic(beta0 + beta1 x + b_i), "
               "b_i ~ N(0, sigma_b^2), with the truth set in the sidebar.")
MODELS = {"ctsib": "stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject)",
          "cbpp": "cbind(incidence, size - incidence) ~ period + (1 | herd)"}
formula = "y ~ x + (1 | group)" if spec.simulated else MODELS[spec.dataset]
METHODS = {"Laplace": 1, "adaptive quadrature, 25 points": 25}
method = st.radio("Fit by", list(METHODS), horizontal=True, **lab.bind("gl_method"),
                  help="glmer's nAGQ: the Laplace approximation (1) or adaptive Gauss-Hermite quadrature")
nagq = METHODS[method]
fit = lab.glmm_fit_or_stop(spec, formula, "binomial", nagq)
lab.notes(fit)
group = next(iter(fit.ranef))
sigma_b = random_intercept_sd(fit)

lab.steps([
    "Read the odds ratios: each compares two situations for the same person.",
    "Look at the people's curves: the average of S-curves is flatter than the curve of the median person.",
    "Move sigma_b in the theory figure and switch to the probit link: the average curve is Phi(x beta / sqrt(1 + "
    "sigma_b^2)).",
    "Compare Laplace, quadrature and PQL, then run the simulation: PQL's sigma_b is too small for binary data.",
    "Check the diagnostics: raw residuals of 0/1 data say nothing; binned and simulated residuals do.",
    "Counts: see how an observation-level random effect takes up overdispersion in the grouse ticks.",
])

st.subheader("The model")
st.latex(r"\operatorname{logit} P(y_{ij} = 1 \mid b_i) = \log \frac{P}{1 - P} = \mathbf{x}_{ij}^\top \boldsymbol\beta + b_i,"
         r"\qquad b_i \sim N(0, \sigma_b^2)")
st.markdown(
    f"Each {group} has a random effect b_i on the log-odds scale; given b_i the outcomes are independent Bernoulli "
    "(or binomial k of n) draws. There is no residual variance: the variance of a 0/1 outcome is fixed by its "
    "probability. glmer integrates b_i out by the Laplace approximation, or by adaptive quadrature with one "
    "random effect."
)
lab.code_text(fit.summary())
if spec.simulated:
    lab.truth_table(spec.truth, {"beta0": ("beta0", fit.fixef.iloc[0]), "beta1": ("beta1", fit.fixef.iloc[1]),
                                 "sigma_b": ("sigma_b", sigma_b)})

st.subheader("Odds ratios: for the same person")
ratios = odds_ratios(fit)
left, right = st.columns([3, 2])
with left:
    lab.show(lab.get_glmm_figure(figures.fig_odds_ratios, spec, formula, "binomial", nagq, scale=lab.scale()),
             key="gl_or")
with right:
    term = ratios["estimate"].abs().idxmax() if len(ratios) else None
    if term is not None:
        r = ratios.loc[term]
        ratio = signif_text(r.ratio)  # 2120 and 0.045, never 2.12e+03
        st.markdown(
            f"**{term}**: exp({signif_text(r.estimate)}) = **{ratio}** (95% interval {signif_text(r.lower)} to "
            f"{signif_text(r.upper)}). For one and the same {group.lower()} (the same b_i), the *odds* of y = 1 are "
            f"{ratio} times as large. Not the probability: from a probability of 0.5 (odds 1) to odds of "
            f"{ratio} is a probability of {probability_text(r['from 0.5 to'])}."
        )
    lab.explain("A GLMM's coefficients are **conditional** (subject-specific): they compare situations *within* a "
                "subject. A population-averaged (marginal) model, such as GEE, answers a different question: how "
                "the share of y = 1 differs between two groups of people. Its coefficients are smaller.")

st.subheader(f"{group.capitalize()}s' curves and their average")
if spec.simulated:
    lab.show(lab.get_glmm_figure(figures.fig_subject_curves, spec, formula, "binomial", nagq, scale=lab.scale(),
                                 options=(("x", "x"),)), key="gl_curves")
else:
    factors = ("Surface", "Vision") if spec.dataset == "ctsib" else ("period",)
    lab.show(lab.get_glmm_figure(figures.fig_cell_profiles, spec, formula, "binomial", nagq, scale=lab.scale(),
                                 options=(("factors", factors),)), key="gl_profiles")
st.caption("Thin lines: a few people's fitted probabilities (their own b_i). Dashed: the median person, b = 0. "
           "Thick: the population average, E_b[P(y = 1 | b)], which follows the observed shares; the median person "
           "is more extreme than the average.")

st.subheader("Marginal against conditional, as sigma_b grows")
c1, c2, c3 = st.columns(3)
theory_sigma = c1.slider("sigma_b", 0.0, 5.0, 2.0, 0.25, **lab.bind("gl_sigma"))
link = c2.radio("link", ["logit", "probit"], horizontal=True, **lab.bind("gl_link"))
slope = c3.slider("beta1 (conditional slope)", 0.25, 3.0, 1.5, 0.25, **lab.bind("gl_slope"))
lab.show(lab.get_theory_figure(0.0, slope, theory_sigma, link, lab.scale()), key="gl_theory")
factor = attenuation_factor(theory_sigma, link)
st.latex(r"P(y = 1) = E_b\left[\Phi(x\beta + b)\right] = \Phi\!\left(\frac{x\beta}{\sqrt{1 + \sigma_b^2}}\right)"
         if link == "probit" else
         r"E_b\left[\operatorname{logistic}(x\beta + b)\right] \approx \operatorname{logistic}\!\left("
         r"\frac{x\beta}{\sqrt{1 + c^2\sigma_b^2}}\right),\quad c = \tfrac{16\sqrt3}{15\pi} \approx 0.588")
st.markdown(f"With sigma_b = {theory_sigma:g} the population-averaged slope is **{factor:.2f}** times the conditional "
            f"one ({slope:g} becomes {slope * factor:.2f}). On the data above:")
lab.table(lab.get_attenuation(spec, formula, "binomial"), 3)
st.caption("GEE (exchangeable within subjects) or, for counts k of n, the GLM ignoring the subjects: "
           "population-averaged coefficients beside the GLMM's conditional ones, and the ratio theory predicts.")

st.subheader("Laplace, adaptive quadrature and PQL")
table = lab.get_methods(spec, formula, "binomial")
terms = [n for n in fit.fixed_names if n != "(Intercept)"][:4]
lab.show(lab.styled(figures.fig_methods(table, terms), lab.scale()), key="gl_methods")
lab.table(table[[*terms, "sigma_b", "logLik"]], 4)
lab.explain(
    "**Laplace** replaces each subject's integral by a normal approximation at its mode; **adaptive quadrature** "
    "evaluates it with 25 nodes placed around the mode (exact for practical purposes, one random effect only). "
    "**PQL** (MASS's glmmPQL, the lecture notes' table) fits a weighted linear mixed model to a working response, "
    "again and again: no likelihood, and for binary data with few observations per subject its variance is "
    "biased toward zero. Its standard errors also come from that linear model."
)
study_design = pql_study_design(spec.truth if spec.simulated else None)
nsim = st.select_slider("data sets in the simulation", [20, 50, 100, 200], 50, **lab.bind("gl_nsim"))
study = lab.run_on_click("gl_study", (spec, nsim), "Simulate: PQL against Laplace", "gl_study_run", pql_bias_study,
                         label="Fitting simulated data sets", primary=False, data=study_design["data"],
                         formula="y ~ x + (1 | group)", truth=study_design["truth"], nsim=nsim, seed=1)
st.caption(f"Binary data from the truth {study_design['label']}, each data set fitted both ways.")
if study is not None:
    lab.show(lab.styled(figures.fig_method_study(study), lab.scale()), key="gl_study_fig")
    st.markdown(f"Mean sigma_b: Laplace **{study.laplace_sigma.mean():.3f}**, PQL **{study.pql_sigma.mean():.3f}** "
                f"(truth {study.truth['sigma_b']:g}).")

st.subheader("Diagnostics that suit a GLMM")
if st.toggle("Show binned and simulated residuals", **lab.bind("gl_diag")):
    d1, d2 = st.columns(2)
    with d1:
        lab.show(lab.get_glmm_figure(figures.fig_binned_residuals, spec, formula, "binomial", nagq,
                                     scale=lab.scale()), key="gl_binned")
    with d2:
        lab.show(lab.get_glmm_figure(figures.fig_simulated_residuals, spec, formula, "binomial", nagq,
                                     scale=lab.scale()), key="gl_dharma")
    lab.explain("Residuals y - p of 0/1 data fall on two curves whatever the model, so their plot says nothing. "
                "**Binned residuals** average them in bins of fitted probability: about 95% of bins should lie "
                "within +- 2 SE. **Simulated residuals** (as R's DHARMa) place each observation among responses "
                "simulated from the fitted model: under the model they are uniform, for any family.")

st.subheader("Counts: overdispersion and an observation-level random effect")
ticks = lab.DataSpec("grouseticks")
COUNT_MODELS = {"(1 | BROOD) + (1 | LOCATION)": "TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION)",
                "... + (1 | INDEX), one level per chick": "TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)"}
st.markdown("Ticks counted on 403 red grouse chicks (INDEX) from 118 broods at 63 locations. A Poisson count has "
            "variance equal to its mean; these vary more. A random effect with **one level per chick** gives each "
            "count its own rate: a lognormal-Poisson mixture that absorbs the extra variance.")
st.latex(r"\log E(y_{i} \mid b) = \mathbf{x}_i^\top\boldsymbol\beta + b_{\text{brood}(i)} + b_{\text{location}(i)}"
         r" + \varepsilon_i,\qquad \varepsilon_i \sim N(0, \sigma_\varepsilon^2)")
counts = {name: lab.glmm_fit_or_stop(ticks, f, "poisson") for name, f in COUNT_MODELS.items()}
lab.code_text(lab.get_glmm_anova_text(ticks, tuple(COUNT_MODELS.values()), ("m0", "m1"), "poisson"))
lab.show(lab.styled(figures.fig_count_frequencies(counts), lab.scale()), key="gl_counts")
st.markdown(" · ".join(f"{name}: Pearson dispersion **{pearson_dispersion(f):.2f}**" for name, f in counts.items()))
st.caption("The sum of squared Pearson residuals over the residual df: near 1 for a Poisson model that fits; the "
           "observation-level effect brings it down (even below 1: its own variance now carries the spread).")

lab.code_export(formula, spec, family="binomial", nagq=nagq)
top = ratios["estimate"].abs().idxmax() if len(ratios) else "x"
lab.quiz("binary_outcomes", quiz.glmm(top, float(ratios.loc[top, "ratio"]) if len(ratios) else 1.0, sigma_b,
                                      attenuation_factor(sigma_b, "logit"), "binomial"))
lab.page_end()
