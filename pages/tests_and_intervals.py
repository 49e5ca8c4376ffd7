"""Lesson 8: tests and intervals for fixed effects. Where lme4's p-values went: Wald t with which
df (Satterthwaite, Kenward-Roger), against the LRT and the parametric bootstrap; a simulation under
the null with few groups; intervals for fixed effects and for variance components (Wald, profile,
bootstrap) and lme4's zeta plot."""
import streamlit as st

import lab
import mmcore
from mmcore.figures import fig_intervals, fig_null_rejections
from mmcore.lessons import codegen, quiz
from mmcore.lessons.inference_tables import fixed_intervals, readable, variance_intervals
from mmcore.lessons.testing import null_study

MODELS = {  # dataset: (model, the model without the tested term, that term, grouping factor)
    "penicillin": ("yield ~ treat + (1 | blend)", "yield ~ 1 + (1 | blend)", "treat", "blend"),
    "sleepstudy": ("Reaction ~ Days + (Days | Subject)", "Reaction ~ 1 + (Days | Subject)", "Days", "Subject"),
    "estrone": ("Estrone ~ 1 + (1 | Subject)", None, None, "Subject"),
    "dyestuff": ("Yield ~ 1 + (1 | Batch)", None, None, "Batch"),
    lab.SIMULATE: ("y ~ treat + (1 | block)", "y ~ 1 + (1 | block)", "treat", "block"),
}
LATEX = {
    "treat": r"y_{ij} = \mu + \tau_i + b_j + \varepsilon_{ij},\quad b_j \sim N(0, \sigma_b^2),\ "
             r"\varepsilon_{ij} \sim N(0, \sigma^2),\qquad H_0: \tau_B = \tau_C = \tau_D = 0",
    "Days": r"y_{ij} = (\beta_0 + b_{0i}) + (\beta_1 + b_{1i})\,\text{Days}_{ij} + \varepsilon_{ij},\qquad "
            r"H_0: \beta_1 = 0",
    None: r"y_{ij} = \mu + b_i + \varepsilon_{ij},\quad b_i \sim N(0, \sigma_b^2),\ \varepsilon_{ij} \sim N(0, \sigma^2)",
}

lab.page_start()
st.title("Tests and intervals for fixed effects")
st.markdown(
    "**The question.** *Where are the p-values?* lme4 prints a t value for each fixed effect but no p-value, "
    "because under H0 the statistic is only approximately t, with degrees of freedom that depend on the "
    "unknown variances. lmerTest estimates them (Satterthwaite, Kenward-Roger). How much does the choice matter, "
    "and which intervals can we trust for a variance estimated from a handful of groups?")
spec = lab.sidebar_data("ti", ["penicillin", "sleepstudy", "estrone", "dyestuff"], "tests")
formula, formula0, term, group = MODELS[spec.dataset]
fit = lab.fit_or_stop(spec, formula)
lab.notes(fit)
if spec.dataset == "estrone":
    st.caption("The estrone data here are **simulated** in the shape of Rosner's study (the real data are not public).")
lab.steps([
    "Read the t table: the same t, four p-values. Which df does each use, and why are Satterthwaite's so few?",
    "Test the whole term: F with Satterthwaite's and Kenward-Roger's df, the LRT, the parametric bootstrap.",
    "Run the simulation under H0 with 3 or 4 groups: which test keeps its 5%?",
    "Choose *estrone* (5 women): compare Wald, profile and bootstrap intervals for the between-woman variance.",
    "In the zeta plot, see where the straight Wald line and the curved profile part.",
])
st.latex(LATEX[term if term in LATEX else "treat"])
st.caption(f"`{formula}`, fitted by REML; {fit.nobs} observations in {fit.ngroups[group]} groups.")
if spec.simulated:
    lab.truth_table(spec.truth, {"effect of B": ("effect", fit.fixef["treatB"]),
                                 "between-block SD": ("sigma_block", fit.varcorr.sdcor.iloc[0]),
                                 "residual SD": ("sigma", fit.sigma)}, heading="**Estimates beside the truth**")

st.subheader("The t tests: one statistic, four choices of df")
tt = lab.get_t_tests(spec, formula)
lab.table(readable(tt).T)
last = tt.index[-1]
n_p = fit.nobs - len(fit.beta)
lab.explain(
    f"Every column uses the same t = estimate / SE. The **z** column treats it as normal (infinitely many df), the "
    f"**n - p** column as if all {fit.nobs} observations were independent ({n_p} df). **Satterthwaite** matches the "
    "variance of the SE's estimate to a chi-square and reads off its df; **Kenward-Roger** also corrects the SE "
    "for the variance parameters being estimated. Here the df for "
    f"**{last}** are {tt.loc[last, 'df Satterthwaite']:.2f}: "
    + ("the treatments are compared within each block, so block effects cancel and only the residual error "
       "remains: (treatments - 1)(blocks - 1) df, as the classical ANOVA of a block design. The intercept also "
       "carries the blocks' variation, so its df lie between."
       if term == "treat" else
       "every driver has a slope of their own, so the mean slope is estimated from one slope per driver: "
       "about (drivers - 1) df, whatever the number of days."
       if term == "Days" else "the mean of a few groups is known from the group means: (groups - 1) df."))
with st.expander("The summary as lmerTest prints it"):
    ddf = st.radio("df", ["Satterthwaite", "Kenward-Roger"], horizontal=True, **lab.bind("ti_ddf"))
    lab.code_text(lab.get_summary_text(spec, formula, ddf.lower()))

st.subheader("Testing a term")
if formula0 is None:
    st.info("This model has only an intercept: there is no term to test. Choose penicillin or sleepstudy.")
else:
    sat, kr = lab.get_f_tests(spec, formula, "satterthwaite"), lab.get_f_tests(spec, formula, "kenward-roger")
    lrt = lab.get_comparison(spec, (formula0, formula), ("m0", "m1"))
    rows = [f"| F, Satterthwaite (lmerTest) | F = {sat['F value'].iloc[0]:.4g} | {int(sat['NumDF'].iloc[0])}, "
            f"{sat['DenDF'].iloc[0]:.2f} | {lab.format_p(sat['Pr(>F)'].iloc[0])} |",
            f"| F, Kenward-Roger (pbkrtest) | F = {kr['F value'].iloc[0]:.4g} | {int(kr['NumDF'].iloc[0])}, "
            f"{kr['DenDF'].iloc[0]:.2f} | {lab.format_p(kr['Pr(>F)'].iloc[0])} |",
            f"| LRT, ML fits, chi-square | Chisq = {lrt['Chisq'].iloc[1]:.4g} | {int(lrt['Df'].iloc[1])} | "
            f"{lab.format_p(lrt['Pr(>Chisq)'].iloc[1])} |"]
    st.markdown("\n".join(["| test of " + term + " | statistic | df | p-value |", "|---|---|---|---|", *rows]))
    boot = lab.run_on_click("ti_lrt", (spec, formula), "Bootstrap the LRT (1000 data sets under H0)", "ti_lrt_run",
                            mmcore.bootstrap_lrt, label="Simulating under H0", primary=False,
                            fit0=lab.get_fit(spec, formula0, False), fit1=lab.get_fit(spec, formula, False),
                            nsim=1000, seed=1)
    if boot is not None:
        st.markdown(f"**Parametric bootstrap of the LRT:** p = **{boot.p_value:.3g}** (Monte Carlo error "
                    f"{boot.mc_se:.3f}): the share of 1000 data sets drawn under H0 whose LRT statistic reached "
                    f"{boot.observed:.4g}. Compare the chi-square's {lab.format_p(boot.p_chisq)}.")
    st.caption("The F tests are lmerTest's type III tests (its contrasts do not depend on the reference level). "
               "The LRT refits both models by ML and trusts the chi-square, which needs many groups.")

st.subheader("Which test keeps its 5%? A simulation under H0")
left, right = st.columns([1, 2])
with left:
    design = st.radio("treatment applied", ["within", "between"], horizontal=True, **lab.bind("ti_design"),
                      help="within: every treatment in every group (blocks); between: each group gets one treatment")
    n_groups = st.slider("number of groups", 3 if design == "within" else 4, 12, 4, **lab.bind("ti_groups"))
    nsim = st.select_slider("simulated data sets", [200, 500, 1000], 500, **lab.bind("ti_nsim"))
    sd_group = st.slider("between-group SD (residual SD 4)", 0.0, 10.0, 3.0, 0.5, **lab.bind("ti_sdg"))
    shape = "4 treatments, each once in every group" if design == "within" else "2 treatments, 4 rows in each group"
    st.caption(f"{n_groups} groups; {shape}; no treatment effect at all (H0 true).")
    study = lab.run_on_click("ti_null", (design, n_groups, nsim, sd_group), "Simulate", "ti_null_run", null_study,
                             label="Fitting and testing", design=design, n_groups=n_groups,
                             per_group=1 if design == "within" else 4, n_treatments=4 if design == "within" else 2,
                             sigma_group=sd_group, sigma=4.0, nsim=nsim, seed=1)
with right:
    if study is None:
        st.info("Press *Simulate*: each data set is fitted by REML and ML and tested five ways.")
    else:
        rej = study.rejection
        lab.show(lab.styled(fig_null_rejections(rej, study.level, study.n_groups, study.design), lab.scale()),
                 key="ti_null_fig")
        st.caption("A test that keeps its level rejects a true H0 in 5% of data sets (blue: within 2 Monte Carlo "
                   f"SE of 5%, give or take a point). Median df: Satterthwaite {rej.loc['F, Satterthwaite', 'df']:.1f}, "
                   f"Kenward-Roger {rej.loc['F, Kenward-Roger', 'df']:.1f}, residual {rej.loc['F, residual df n - p', 'df']:.0f}.")
lab.explain("With few groups the chi-square and normal references treat the estimated variances as known: they reject "
            "too often. The residual df pretend every observation is independent, which matters most when the "
            "treatment varies between groups. Satterthwaite's and Kenward-Roger's df come close to 5%; with a "
            "treatment between very few groups Kenward-Roger tends to be cautious, and a boundary fit (a group "
            "variance estimated as 0) makes every approximation rougher.")

st.subheader("Intervals for the fixed effects")
profile = lab.get_profile(spec, formula)
nboot = st.select_slider("bootstrap replicates", [200, 500, 1000], 500, **lab.bind("ti_nboot"))
boot_par = lab.run_on_click("ti_boot", (spec, formula, nboot), "Add parametric-bootstrap intervals", "ti_boot_run",
                            mmcore.bootstrap_parameters, label="Refitting", fit=fit, nsim=nboot, seed=1)
fixed = fixed_intervals(fit, profile, boot_par)
shown = fixed[fixed["parameter"] != "(Intercept)"] if len(fit.beta) > 1 else fixed
lab.show(lab.styled(fig_intervals(shown, "95% intervals for the fixed effects", zero_line=len(fit.beta) > 1),
                    lab.scale()), key="ti_fixed")
st.caption("Wald uses the normal; the t intervals use Satterthwaite's and Kenward-Roger's df and are wider with few "
           "groups. The profile interval comes from the ML likelihood (as lme4's confint), so it is close to Wald's.")

st.subheader("Intervals for the variance components")
variances = variance_intervals(fit, profile, boot_par)
lab.show(lab.styled(fig_intervals(variances, "95% intervals for the variances"), lab.scale()), key="ti_var")
wald_row = variances[(variances["method"] == "Wald")].iloc[0]
lab.explain(
    f"The Wald interval for **{wald_row['parameter']}** is estimate +- 1.96 SE = ({wald_row['lower']:.4g}, "
    f"{wald_row['upper']:.4g})"
    + (": its lower end is **below zero**, which no variance can be. " if wald_row["lower"] < 0 else ". ")
    + f"With {fit.ngroups[group]} groups the variance is estimated from a few group means, and its sampling "
    "distribution is skewed (a scaled chi-square with few df): long to the right, squeezed against zero on the left. "
    "The profile interval follows the likelihood itself and the bootstrap the simulated estimates; neither can go "
    "below zero.")
names = [p.name for p in profile.parameters]
parameter = st.selectbox("zeta plot of", names, **lab.bind("ti_par"))
lab.show(lab.get_zeta_figure(spec, formula, parameter, lab.scale()), key="ti_zeta")
st.caption("lme4's zeta plot: zeta = signed square root of the rise of the deviance. Where the Wald approximation "
           "holds, the curve is the dashed straight line; the profile interval is where the curve crosses +-1.96 "
           "(dashed verticals), the Wald interval where the line does (dotted).")
with st.expander("The intervals as numbers (lme4's confint)"):
    lab.table(profile.interval().rename(columns={"lower": "profile 2.5 %", "upper": "profile 97.5 %"}), 4)



def blocks() -> list[tuple[str, str, str]]:
    r_code, py_code = codegen.inference_code(formula, None if spec.simulated or spec.dataset == "estrone" else spec.dataset)
    return [("**R**", "r", r_code), ("**Python (mmcore)**", "python", py_code)]


lab.code_blocks("Code: these tests and intervals in R (lmerTest, lme4) and mmcore", blocks)
lab.code_export(formula, spec)
lab.quiz("tests_and_intervals", quiz.tests_and_intervals(
    last, float(tt.loc[last, "t"]), float(tt.loc[last, "df Satterthwaite"]), n_p, float(wald_row["lower"]),
    float(wald_row["upper"]), group))
lab.page_end()
