"""Lesson 7: comparing models. LRT as lme4's anova(), the parametric bootstrap, the boundary,
and blocks as fixed or random effects."""
import numpy as np
import streamlit as st

import lab
import mmcore
from mmcore.figures import fig_bootstrap
from mmcore.inference.reference import lrt_reference
from mmcore.inference.variance import anova_blocks, lm_coefficients, mixture_p, variance_test
from mmcore.lessons import quiz

PAIRS = {
    "penicillin: does the process (treat) matter?":
        ("penicillin", "yield ~ 1 + (1 | blend)", "yield ~ treat + (1 | blend)"),
    "sleepstudy: do drivers differ in their slopes?":
        ("sleepstudy", "Reaction ~ Days + (1 | Subject)", "Reaction ~ Days + (Days | Subject)"),
    "sleepstudy: does sleep deprivation matter (Days)?":
        ("sleepstudy", "Reaction ~ 1 + (Days | Subject)", "Reaction ~ Days + (Days | Subject)"),
    "two models of my own": None,
}

lab.page_start()
st.title("Comparing models")
st.markdown("**The question.** Is the bigger model worth its extra parameters? For nested models the "
            "likelihood-ratio test (LRT) compares their maximised likelihoods; AIC and BIC weigh fit against size.")
choice = st.sidebar.selectbox("Comparison", list(PAIRS), **lab.bind("mc_pair"))
if PAIRS[choice] is None:
    dataset = st.sidebar.selectbox("Data", ["sleepstudy", "penicillin", "dyestuff", "pastes", "penicillin_lme4"],
                                   **lab.bind("mc_data"))
    info = mmcore.list_datasets()[dataset]
    start0 = info.formula.split("~")[0] + "~ 1 + (1 | " + info.groups[0] + ")"
    f0 = st.sidebar.text_input("smaller model", start0, **lab.bind("mc_f0", reset_when=dataset, reset_to=start0))
    f1 = st.sidebar.text_input("bigger model", info.formula, **lab.bind("mc_f1", reset_when=dataset, reset_to=info.formula))
else:
    dataset, f0, f1 = PAIRS[choice]
spec = lab.DataSpec(dataset)
m0, m1 = lab.fit_or_stop(spec, f0), lab.fit_or_stop(spec, f1)
if m0.npar >= m1.npar:
    st.error("The second model must have more parameters than the first (it should contain it).")
    lab.stop()
ref = lrt_reference(m0, m1)
random_differs = bool(ref.added_variances or ref.added_covariances)

lab.steps([
    "Pick a comparison in the sidebar and read the anova table: npar, AIC, BIC, logLik, Chisq.",
    "Read what the bigger model adds, and so which reference distribution the test has.",
    "Run the parametric bootstrap: does it agree with the chi-square (or mixture) p-value?",
    "Compare penicillin's blocks as fixed and as random effects.",
])
st.subheader("The likelihood-ratio test, as lme4's anova() prints it")
try:
    table = lab.get_comparison(spec, (f0, f1), ("m0", "m1"))
except mmcore.MixedModelError as err:
    st.error(str(err))
    lab.stop()
lab.anova_table(spec, (f0, f1), ("m0", "m1"))
chisq, df, p = table["Chisq"].iloc[1], int(table["Df"].iloc[1]), table["Pr(>Chisq)"].iloc[1]
if ref.kind == "not nested":
    st.warning(f"{ref.explanation} lme4's anova() prints a chi-square p-value for any two models; for these two it "
               "means nothing. AIC: m0 {:.2f}, m1 {:.2f}; BIC: m0 {:.2f}, m1 {:.2f}.".format(*table["AIC"], *table["BIC"]))
else:
    p_text = {"chisq": f"p = **{lab.format_p(p)}** from chi-square({df})",
              "mixture": f"from chi-square({df}) p = {lab.format_p(p)}, but the right reference is the mixture: "
                         f"p = **{lab.format_p(mixture_p(chisq, df))}**",
              "bootstrap": f"chi-square({df}) gives p = {lab.format_p(p)}, which is not the right reference here: "
                           "run the bootstrap below"}[ref.reference]
    refit_text = ("Both models were **refitted by ML**, as lme4's anova() does: REML likelihoods of models with different "
                  "fixed effects cannot be compared." if not ref.same_fixed else
                  "lme4's anova() refits both by ML. The fixed effects are the same here, so the REML fits could be "
                  "compared as they are too (below).")
    st.markdown(
        f"Chisq = 2 (logLik m1 - logLik m0) = 2 ({table['logLik'].iloc[1]:.3f} - ({table['logLik'].iloc[0]:.3f})) = "
        f"**{chisq:.3f}** on {df} df; {p_text}. {refit_text} AIC and BIC: smaller is better; BIC charges more per "
        "parameter.")
    st.info(f"**What m1 adds.** {ref.explanation}")
if ref.same_fixed and random_differs and ref.kind != "not nested":
    st.markdown("**The REML likelihood-ratio test** (lme4's `anova(m0, m1, refit = FALSE)`): with the same fixed "
                "effects the REML likelihoods are comparable (Pinheiro & Bates 2000, section 2.4.1), and REML's "
                "variance estimates are the better ones.")
    lab.anova_table(spec, (f0, f1), ("m0", "m1"), refit=False)

st.subheader("Parametric bootstrap of the LRT")
st.markdown("The chi-square reference is an approximation. Instead, simulate many data sets from the *smaller* "
            "fitted model, refit both models to each, and see how often the statistic is as large as ours.")
nsim = st.select_slider("data sets", [100, 200, 500, 1000, 2000], 1000, **lab.bind("mc_nsim"))
boot = None if ref.kind == "not nested" else lab.run_on_click(
    "mc_boot", (spec, f0, f1, nsim), "Run the bootstrap", "mc_run", mmcore.bootstrap_lrt,
    label="Refitting both models", fit0=m0, fit1=m1, nsim=nsim, seed=1)
if boot is not None:
    shown_ref = {"chisq": f"chi-square({df})", "mixture": "the 50:50 mixture",
                 "bootstrap": f"chi-square({df}) (not the right reference here)"}[ref.reference]
    ref_p = mixture_p(chisq, df) if ref.reference == "mixture" else boot.p_chisq
    st.markdown(f"Bootstrap p-value: **{lab.format_boot_p(boot.p_value, boot.mc_se, nsim)}**, against "
                f"{lab.format_p(ref_p)} from {shown_ref}."
                + (" The lecture notes' lme4 loop gives about 0.36 here." if dataset == "penicillin" and df == 3 else ""))
    lab.show(lab.styled(fig_bootstrap(boot.statistics, boot.observed, "LRT statistic in data simulated under m0",
                                      "LRT statistic", reference=None if ref.reference == "bootstrap" else ref.reference,
                                      df=df), lab.scale()), key="mc_boot_fig")

st.subheader("Testing a variance: the boundary problem")
if ref.reference == "mixture":
    rows = {f"chi-square({df})": lab.format_p(p), "50:50 mixture": lab.format_p(mixture_p(chisq, df)),
            "parametric bootstrap": lab.format_boot_p(boot.p_value, boot.mc_se, nsim) if boot is not None
            else "run the bootstrap above"}
    st.markdown(
        f"m1 adds one variance, and H0 puts it at **zero, the edge of its range**. The chi-square({df}) reference is "
        f"then too conservative. The asymptotic null is a 50:50 mixture of chi-square({df - 1}) and chi-square({df}) "
        "(Self & Liang 1987; Stram & Lee 1994).")
    st.markdown("\n".join(["| reference | p-value |", "|---|---:|", *[f"| {k} | {v} |" for k, v in rows.items()]]))
elif ref.kind == "covariance":
    st.markdown("This comparison adds a correlation, not a variance: a correlation of 0 lies inside its range, so "
                "there is no boundary problem and the chi-square p-value needs no correction. The boundary problem "
                "appears when a **variance** is tested: compare `(1 | Subject)` with `(Days | Subject)`.")
elif ref.kind == "several variances":
    st.markdown("This comparison puts several variances on their boundary at once. The null distribution is a "
                "chi-bar-square mixture whose weights depend on the design: the 50:50 mixture is not it, and "
                "halving the p-value is not right either. The parametric bootstrap above is the honest answer.")
else:
    blocks = lab.fit_or_stop(lab.DataSpec("penicillin"), "yield ~ treat + (1 | blend)")
    vt = variance_test(blocks)
    st.markdown(
        "This comparison tests fixed effects: no boundary. The boundary problem appears when a **variance** is "
        "tested, e.g. do penicillin's blends differ? LRT of `yield ~ treat + (1 | blend)` against "
        f"`lm(yield ~ treat)`: **{vt.observed:.3f}**; chi-square(1) p = {lab.format_p(vt.p_chisq)}; the 50:50 "
        f"mixture halves it: **{lab.format_p(vt.p_mixture)}**.")
    vboot = lab.run_on_click("mc_vt", (), "Bootstrap it (1000 data sets)", "mc_vt", variance_test,
                             label="Simulating without blend effects", primary=False, fit=blocks, nsim=1000, seed=1)
    if vboot is not None:
        st.markdown(f"Bootstrap p-value: **{lab.format_boot_p(vboot.p_boot, vboot.mc_se, 1000)}**; "
                    f"{np.mean(vboot.statistics < 1e-8):.0%} of the simulated statistics are exactly 0.")

st.subheader("Blocks: fixed or random?")
pen = lab.get_data(lab.DataSpec("penicillin"))
two_way = anova_blocks(pen, "yield", "treat", "blend")
fixed_blocks = lm_coefficients("yield ~ treat + blend", pen)
mixed = lab.get_fit(lab.DataSpec("penicillin"), "yield ~ treat + (1 | blend)")
treats = [n for n in mixed.fixef.index if n != "(Intercept)"]  # treatB, treatC, ...: differences from the first
blend_names = [n for n in fixed_blocks.index if n.startswith("blend")]
first_treat, first_blend = sorted(pen["treat"].unique())[0], sorted(pen["blend"].unique())[0]
c1, c2 = st.columns(2)
with c1:
    st.markdown("**lm(yield ~ treat + blend)**: blends as fixed effects")
    lab.table(two_way["table"], 4)
    lab.table(fixed_blocks[["Estimate", "Std. Error", "t value"]], 3)  # three columns: fits a half-width screen
    st.caption(f"R's default treatment contrasts, as in lmer's summary: (Intercept) is treatment {first_treat} in "
               f"{first_blend}; {', '.join(treats)} are differences from treatment {first_treat}; "
               f"{blend_names[0]} ... {blend_names[-1]} are differences from {first_blend}.")
with c2:
    st.markdown("**lmer(yield ~ treat + (1 | blend))**: blends as random effects")
    lab.code_text(mixed.summary().split("Correlation of Fixed")[0])
estimates = ", ".join(f"{n} = {fixed_blocks.loc[n, 'Estimate']:.4g}" for n in treats)
ses = sorted({f"{v:.4g}" for v in fixed_blocks.loc[treats, "Std. Error"]})
st.markdown(
    f"**The same:** the treatment coefficients ({estimates}: each a difference from treatment {first_treat}), their "
    f"standard errors ({', '.join(ses)}) and t values, and the treatment F test "
    f"({two_way['table'].loc['treat', 'F value']:.4g} on {two_way['table'].loc['treat', 'Df']:.0f} and "
    f"{two_way['table'].loc['Residuals', 'Df']:.0f} df). The design is balanced (each treatment once in each blend), "
    "so the blend effects cancel from every difference between treatments, and REML's residual variance "
    f"({mixed.sigma**2:.4g}) equals lm's residual mean square.")
st.markdown(
    "**Different:** the intercept: in lm "
    f"({fixed_blocks.loc['(Intercept)', 'Estimate']:.4g}) it is treatment {first_treat} in {first_blend}, in lmer "
    f"({mixed.fixef['(Intercept)']:.4g}) treatment {first_treat} averaged over all blends, with a standard error "
    "that includes the blend variance. The fixed model estimates each blend's effect from its own mean "
    f"({blend_names[0]} ...: differences from {first_blend}); the mixed model estimates their spread "
    f"($\\hat\\sigma_b^2$ = {mixed.varcorr.vcov.iloc[0]:.4g}, which is (MS_blend - MS_error) / "
    f"{len(treats) + 1} = {two_way['sigma_b2']:.4g}) and shrinks each blend toward the average. "
    "Choose random when the blends are a sample from many possible blends and the question is about blends in general.")
lab.code_export(f1, spec, reml=True, compare_with=f0)
lab.quiz("model_comparison", quiz.model_comparison(float(table["AIC"].iloc[0]), float(table["AIC"].iloc[1]),
                                                  random_differs))
lab.page_end()
