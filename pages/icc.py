"""Lesson 3: the intraclass correlation: how much of the variance lies between groups, with an
honest interval, a boundary-aware test, and the ANOVA connection."""
from types import SimpleNamespace

import numpy as np
import streamlit as st

import lab
import mmcore
from mmcore import figures
from mmcore.figures import fig_bootstrap
from mmcore.inference.variance import anova_oneway, icc_bootstrap, variance_test
from mmcore.lessons import quiz

lab.page_start()
st.title("The intraclass correlation (ICC)")
spec = lab.sidebar_data("ic", ["estrone", "dyestuff"], "icc", live="icc")
QUESTION = {
    "estrone": "Five women each had their plasma estrone measured sixteen times. How much of the spread is between "
               "women, and how much is the assay's own noise?",
    "dyestuff": "Six batches of an intermediate product, five preparations of dyestuff from each. How much of the "
                "spread in yield is between batches, and how much between preparations of one batch?",
    "simulate": "Groups drawn from a truth you set in the sidebar. How much of the spread is between groups, and "
                "how much within?",
}
st.markdown(
    f"**The question.** {QUESTION[spec.dataset]} The ICC is the share of the variance that lies between groups, "
    "and also the correlation of two measurements of the same group."
)
formula = lab.intercept_model(spec, covariate=False)
if spec.dataset == "estrone":
    st.caption("The estrone data here are **simulated** in the shape of Rosner's study (the real data are not public).")


def prepare(spec: lab.DataSpec) -> SimpleNamespace:
    """The fit and its numbers, for the data with the truth's ICC where the slider is (lab.sections)."""
    fit = lab.fit_or_stop(spec, formula)
    lab.notes(fit)
    group = next(iter(fit.ranef))
    a = anova_oneway(lab.get_data(spec), fit.response, group)  # n0, the group size: the design effect and the quiz
    return SimpleNamespace(spec=spec, fit=fit, group=group, vb=float(fit.re_cov[0][2][0, 0]), ve=fit.sigma**2,
                           icc=mmcore.icc(fit)[group], a=a, n0=a["n0"])


def split(n: SimpleNamespace) -> None:
    st.latex(r"y_{ij} = \mu + b_i + \varepsilon_{ij},\quad \operatorname{Var}(y_{ij}) = \sigma_b^2 + \sigma^2,\quad "
             r"\text{ICC} = \frac{\sigma_b^2}{\sigma_b^2 + \sigma^2} = \operatorname{Corr}(y_{ij}, y_{ik})")
    lab.show(lab.get_figure(figures.fig_decomposition, n.spec, formula, scale=lab.scale()), key="ic_split")
    st.markdown(f"ICC = {n.vb:.4g} / ({n.vb:.4g} + {n.ve:.4g}) = **{n.icc:.3f}** (REML estimates)."
                + (f" The truth: ICC = **{n.spec.truth['icc']:.2f}**." if n.spec.simulated else ""))


def looks_like(n: SimpleNamespace) -> None:
    lab.about_chart("Drag the slider under the chart: {} groups of {}".format(*figures.sweep_shape(n.fit)) +
                ", the same random draws at every ICC of the truth, "
                "each data set fitted by REML (the estimate is in the title). Low ICC: the group means huddle "
                "together; high: the groups separate and the points of one group close up."
                + (" This chart's slider is its own; the sidebar's ICC draws a new data set, and the numbers on the "
                   "other parts of the lesson are its exact fit." if n.spec.simulated else ""))
    if n.spec.simulated:  # keyed by the group sizes alone: the sidebar's ICC leaves this chart as it is
        sweep = lab.get_truth_sweep_figure("icc", tuple(p for p in n.spec.params if p[0] != "icc"), 0.5, lab.scale())
    else:
        sweep = lab.get_figure(figures.fig_icc_sweep, n.spec, formula, scale=lab.scale())
    lab.show_followed(sweep, key="ic_sweep")  # where it was let go: in the link, shown again on a reload


def bootstrap(n: SimpleNamespace) -> None:
    st.markdown(f"How sure is the ICC of {n.icc:.3f}? A parametric bootstrap draws many data sets from the fitted "
                "model, refits each, and takes the middle 95% of their ICCs as the interval.")
    nsim = st.select_slider("bootstrap replicates", [200, 500, 1000, 2000, 5000], 1000, **lab.bind("ic_nsim"))
    boot = lab.run_on_click("ic_boot", (n.spec, formula, nsim), "Compute the 95% interval", "ic_run", icc_bootstrap,
                           label="Bootstrapping", fit=n.fit, nsim=nsim, seed=1)
    if boot is not None:
        st.markdown(f"95% parametric-bootstrap interval for the ICC: **{boot.lower:.3f} to {boot.upper:.3f}** "
                    f"(estimate {boot.icc:.3f}, {nsim:,} data sets drawn from the fit and refitted).")
        lab.show(lab.styled(fig_bootstrap(boot.samples, boot.icc, "ICC in the bootstrap data sets", "ICC",
                                        interval=(boot.lower, boot.upper)), lab.scale()), key="ic_boot_fig")
        st.caption(f"With only {n.fit.ngroups[n.group]} groups the interval is wide: the between-group variance is "
                   "estimated from that many group means.")


def boundary_test(n: SimpleNamespace) -> None:
    test = variance_test(n.fit)
    st.markdown(
        r"**Testing $\sigma_b^2 = 0$.** "
        f"Likelihood-ratio statistic (ML fits, mixed model against the same model without the random effect): "
        f"**{test.observed:.3f}**. The usual chi-square(1) p-value is {lab.format_p(test.p_chisq)}, but it is wrong here: "
        r"$\sigma_b^2 = 0$ sits on the **boundary** of the possible values"
        f", and under H0 the statistic is exactly 0 about "
        f"half the time. The 50:50 mixture of chi-square(0) and chi-square(1) halves the p-value: "
        f"**{lab.format_p(test.p_mixture)}**. Or simulate the null distribution:"
    )
    boot_test = lab.run_on_click("ic_test", (n.spec, formula), "Bootstrap the null distribution (1000 data sets)", "ic_test",
                                variance_test, label="Simulating under H0", primary=False, fit=n.fit, nsim=1000, seed=1)
    if boot_test is not None:
        zero = float(np.mean(boot_test.statistics < 1e-8))
        p_text = (f"< {1 / len(boot_test.statistics):.3g} (no simulated statistic reached the observed one)"
                  if boot_test.p_boot == 0 else f"{boot_test.p_boot:.3g} (Monte Carlo error {boot_test.mc_se:.3f})")
        st.markdown(f"Bootstrap p-value **{p_text}**. "
                    f"{zero:.0%} of the simulated statistics are exactly 0: with few groups even more than the "
                    "asymptotic half.")
        lab.show(lab.styled(fig_bootstrap(boot_test.statistics, boot_test.observed, "LRT statistic under H0: σ<sub>b</sub>² = 0",
                                        "LRT statistic", reference="mixture"), lab.scale()), key="ic_test_fig")


def anova(n: SimpleNamespace) -> None:
    means = n.a["group_means"]
    balanced = float(n.n0).is_integer() and np.ptp(np.bincount(n.fit.data[n.group].astype("category").cat.codes)) == 0
    st.markdown(
        f"One-way ANOVA: MSA = {n.a['MSA']:.4g}, MSE = {n.a['MSE']:.4g}, group size $n$ = {n.n0:.4g}. Its estimators are "
        rf"$\hat\sigma^2$ = MSE = **{n.a['sigma2']:.4g}** and $\hat\sigma_b^2$ = (MSA - MSE) / $n$ = **{n.a['sigma_b2']:.4g}**. "
        + ("For a balanced design these **are** the REML estimates whenever MSA > MSE: the two methods agree by "
           "construction (an identity of the estimators, not a check of one against the other). When MSA < MSE the "
           r"ANOVA estimate of $\sigma_b^2$ is negative, and REML stops at 0: a singular fit."
           if balanced else
           r"With unequal group sizes ($n_0$ is the usual average size) the REML estimates differ from these.")
        + f" REML here: {n.vb:.4g} and {n.ve:.4g}.\n\n"
        rf"Why MSA / $n$ estimates $\sigma_b^2 + \sigma^2/n$: a group's mean varies around $\mu$ by "
        rf"Var(mean of group $i$) = $\sigma_b^2 + \sigma^2 / n$ = {n.vb:.4g} + {n.ve:.4g} / {n.n0:.4g} = **{n.vb + n.ve / n.n0:.4g}** "
        f"(REML plugged in); the {len(means)} observed group means have variance **{means.var(ddof=1):.4g}**."
    )


def design_effect(n: SimpleNamespace) -> None:
    n_total = n.fit.nobs
    deff = 1 + (n.n0 - 1) * n.icc
    st.markdown(
        f"{n_total} measurements in groups of $n$ = {n.n0:.4g} with ICC {n.icc:.3f} carry the information of only "
        f"$N / (1 + (n - 1)\\,\\text{{ICC}})$ = {n_total} / {deff:.3g} = **{n_total / deff:.1f}** independent ones. "
        "Measuring the same group again adds little when the ICC is high: more groups beat more measurements per "
        "group. " + ("Move the ICC and the group size in the sidebar and watch the effective sample size."
                     if n.spec.simulated else "Choose *simulate* as the data (sidebar), then move the ICC and the "
                     "group size and watch the effective sample size.")
    )


def check_yourself(n: SimpleNamespace) -> None:
    lab.quiz("icc", quiz.icc(n.icc, n.n0, n.fit.ngroups[n.group]))
    lab.code_export(formula, n.spec)


# One idea per part, only the chosen one drawn (lab.sections), in a fragment with the truth's ICC: a press of
# that slider reruns the part alone.
lab.sections("ic_tab", {"Variance split": split, "What an ICC looks like": looks_like,
                        "Bootstrap interval": bootstrap, "Variance test": boundary_test, "ANOVA": anova,
                        "Design effect": design_effect, "Check yourself": check_yourself},
             steps={"Variance split": "How much of the variance lies between groups?",
                    "What an ICC looks like": "From low ICC to high (the slider under the chart): what happens to the group "
                                              "means, and to the points of one group?",
                    "Bootstrap interval": "Compute a 95% interval of the ICC. How wide is it with this few groups?",
                    "Variance test": r"Why must the chi-square p-value of the test of $\sigma_b^2 = 0$ be halved?",
                    "ANOVA": "The one-way ANOVA's estimates of the two variances beside REML's: when are they the "
                             "same, and when does REML stop at 0?",
                    "Design effect": "What are the measurements worth? With *simulate* as the data (sidebar), move "
                                     "the ICC and the group size and watch it change.",
                    "Check yourself": "Answer the questions; then take this model to R or Python."},
             moved={"ic_nsim": "Bootstrap interval", "ic_boot": "Bootstrap interval", "ic_test": "Variance test",
                    "ic_sweep_step": "What an ICC looks like"},
             spec=spec, prepare=prepare)
lab.page_end()
