"""Lesson 7: comparing models. LRT as lme4's anova(), the parametric bootstrap, the boundary,
and blocks as fixed or random effects."""
import numpy as np
import pandas as pd
import streamlit as st

import lab
import mmcore
from mmcore.figures import fig_bootstrap
from mmcore.inference.variance import anova_blocks, mixture_p, sum_to_zero, variance_test
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
random_differs = mmcore.parse_formula(f0).random != mmcore.parse_formula(f1).random

lab.steps([
    "Pick a comparison in the sidebar and read the anova table: npar, AIC, BIC, logLik, Chisq.",
    "Run the parametric bootstrap: does it agree with the chi-square p-value?",
    "For a variance, compare the chi-square, the 50:50 mixture and the bootstrap p-values.",
    "Compare penicillin's blocks as fixed and as random effects.",
])
st.subheader("The likelihood-ratio test, as lme4's anova() prints it")
st.code(f"m0 <- lmer({f0}, data)\nm1 <- lmer({f1}, data)\nanova(m0, m1)", language="r")
try:
    table = lab.get_comparison(spec, (f0, f1), ("m0", "m1"))
except mmcore.MixedModelError as err:
    st.error(str(err))
    lab.stop()
lab.anova_table(spec, (f0, f1), ("m0", "m1"))
chisq, df, p = table["Chisq"].iloc[1], int(table["Df"].iloc[1]), table["Pr(>Chisq)"].iloc[1]
st.markdown(
    f"Chisq = 2 (logLik m1 - logLik m0) = 2 ({table['logLik'].iloc[1]:.3f} - ({table['logLik'].iloc[0]:.3f})) = "
    f"**{chisq:.3f}** on {df} df, p = **{lab.format_p(p)}** from chi-square({df}). Both models were **refitted by ML**: "
    "REML likelihoods of models with different fixed effects cannot be compared. AIC and BIC: smaller is better; "
    "BIC charges more per parameter."
)

st.subheader("Parametric bootstrap of the LRT")
st.markdown("The chi-square reference is an approximation. Instead, simulate many data sets from the *smaller* "
            "fitted model, refit both models to each, and see how often the statistic is as large as ours.")
nsim = st.select_slider("data sets", [100, 200, 500, 1000, 2000], 1000, **lab.bind("mc_nsim"))
boot = lab.run_on_click("mc_boot", (spec, f0, f1, nsim), "Run the bootstrap", "mc_run", mmcore.bootstrap_lrt,
                       label="Refitting both models", fit0=m0, fit1=m1, nsim=nsim, seed=1)
if boot is not None:
    st.markdown(f"Bootstrap p-value: **{boot.p_value:.3f}** +- {boot.mc_se:.3f} (Monte Carlo SE, {nsim:,} data sets), "
                f"against {lab.format_p(boot.p_chisq)} from chi-square({df})."
                + (" The lecture notes' lme4 loop gives about 0.36 here." if dataset == "penicillin" and df == 3 else ""))
    lab.show(lab.styled(fig_bootstrap(boot.statistics, boot.observed, "LRT statistic in data simulated under m0",
                                    "LRT statistic", reference="mixture" if random_differs and df == 1 else "chisq",
                                    df=df), lab.scale()), key="mc_boot_fig")

st.subheader("Testing a variance: the boundary problem")
if random_differs:
    naive, mix = p, mixture_p(chisq, df)
    st.markdown(
        f"m1 adds random effects, so H0 puts a variance at **zero, the edge of its range**. The chi-square({df}) "
        f"reference is then too conservative. The asymptotic null is a 50:50 mixture of chi-square({df - 1}) and "
        f"chi-square({df}) (Stram & Lee 1994).")
    rows = {"chi-square": lab.format_p(naive), "50:50 mixture": lab.format_p(mix),
            "parametric bootstrap": f"{boot.p_value:.3f}" if boot is not None else "run the bootstrap above"}
    lab.table(pd.DataFrame({"p-value": rows}))
else:
    blocks = lab.fit_or_stop(lab.DataSpec("penicillin"), "yield ~ treat + (1 | blend)")
    vt = variance_test(blocks)
    st.markdown(
        "This comparison tests fixed effects: no boundary. The boundary problem appears when a **variance** is tested, "
        f"e.g. do penicillin's blends differ? LRT of `yield ~ treat + (1 | blend)` against `lm(yield ~ treat)`: "
        f"**{vt.observed:.3f}**; chi-square(1) p = {lab.format_p(vt.p_chisq)}; the 50:50 mixture halves it: "
        f"**{lab.format_p(vt.p_mixture)}**.")
    vboot = lab.run_on_click("mc_vt", (), "Bootstrap it (1000 data sets)", "mc_vt", variance_test,
                            label="Simulating without blend effects", primary=False, fit=blocks, nsim=1000, seed=1)
    if vboot is not None:
        st.markdown(f"Bootstrap p-value: **{vboot.p_boot:.3f}** +- {vboot.mc_se:.3f}; "
                    f"{np.mean(vboot.statistics < 1e-8):.0%} of the simulated statistics are exactly 0.")

st.subheader("Blocks: fixed or random?")
pen = lab.get_data(lab.DataSpec("penicillin"))
two_way = anova_blocks(pen, "yield", "treat", "blend")
mixed = lab.get_fit(lab.DataSpec("penicillin"), "yield ~ treat + (1 | blend)")
c1, c2 = st.columns(2)
with c1:
    st.markdown("**lm(yield ~ treat + blend)**: blends as fixed effects")
    lab.table(two_way["table"], 4)
    lab.table(sum_to_zero(pen, "yield", "treat", "blend")[["estimate"]], 3)  # a column: fits a half-width screen
    st.caption("Sum-to-zero contrasts: the grand mean, and each level's deviation from it.")
with c2:
    st.markdown("**lmer(yield ~ treat + (1 | blend))**: blends as random effects")
    st.code(mixed.summary().split("Correlation of Fixed")[0], language="text")
st.markdown(
    f"**The same:** the treatment effects (balanced design: each process once in each blend) and the treatment F test "
    f"({two_way['table'].loc['treat', 'F value']:.3f}). **Different:** the fixed model estimates each blend's "
    f"effect from its own mean; the mixed model estimates their spread (sigma_b^2 = {mixed.varcorr.vcov.iloc[0]:.4g}, "
    f"which is (MS_blend - MS_error) / 4 = {two_way['sigma_b2']:.4g}) and shrinks each blend toward the average. "
    "Choose random when the blends are a sample from many possible blends and the question is about blends in general.")
lab.code_export(f1, spec, reml=True)
lab.quiz("model_comparison", quiz.model_comparison(float(table["AIC"].iloc[0]), float(table["AIC"].iloc[1]),
                                                  random_differs))
lab.page_end()
