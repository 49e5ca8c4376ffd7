"""Lesson 2: random intercepts. Repeated measures, y = X beta + Z b + e, pooling, BLUPs."""
from types import SimpleNamespace

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
spec = lab.sidebar_data("ri", ["sleepstudy", "penicillin", "estrone", "dyestuff"], "intercepts", live="sigma_b")
st.markdown(
    f"**The question.** Here: {CONTEXT[spec.dataset]} How do we use that likeness, without pretending the "
    "measurements are independent and without fitting a separate model to each group?"
)
formula = lab.intercept_model(spec)


def prepare(spec: lab.DataSpec) -> SimpleNamespace:
    """The fit and its groups, for the data with the truth's sigma_b where the slider is (lab.sections)."""
    fit = lab.fit_or_stop(spec, formula)
    lab.notes(fit)
    group = next(iter(fit.ranef))
    kind, covariate = figures.covariate_kind(fit)
    return SimpleNamespace(spec=spec, fit=fit, group=group, levels=list(fit.ranef[group].index), kind=kind,
                           covariate=covariate)


def pooling_view(n: SimpleNamespace) -> None:
    shown = lab.pooling_pills("ri_show", default=("complete pooling", "no pooling", "partial pooling"))
    if n.kind != "none" and len(n.levels) > 18:  # a panel per group: a screenful of them
        chosen = st.multiselect(f"{lab.plural(n.group)} shown", n.levels, default=n.levels[:12],
                                **lab.bind("ri_groups", reset_when=tuple(n.levels), reset_to=n.levels[:12]))
    else:
        chosen = n.levels
    lab.show(lab.get_figure(figures.fig_pooling, n.spec, formula, scale=lab.scale(),
                            options=(("groups", tuple(chosen)), ("show", tuple(shown)))), key="ri_pooling")
    own = ("its own mean, from its data alone" if n.kind == "none" else
           f"its own intercept; the effect of {n.covariate} is still estimated from all groups together "
           f"(lm({n.fit.response} ~ {n.covariate} + {n.group}))")
    st.caption(f"**Complete pooling** ignores the groups: one estimate for all. **No pooling** gives each {n.group} "
               f"{own}. **Partial pooling** (the mixed model) sits in between: each {n.group} is pulled toward the "
               "population, more so the fewer or noisier its measurements.")


def sigma_b_dragged(n: SimpleNamespace) -> None:
    if n.spec.simulated:
        shape = f"{n.spec.truth['n_groups']} groups of {n.spec.truth['n_per_group']} with the truth's residual SD"
    else:
        shape = "{} groups of {}".format(*figures.sweep_shape(n.fit)) + f" like the {n.spec.dataset} data's, with its residual SD"
    lab.about_chart(
        f"**From complete to no pooling.** This chart simulates its own data: {shape}, no covariate, the same "
        r"random draws at every $\sigma_b$ of the truth (scaled so that the groups' true deviations have SD "
        r"$\sigma_b$ exactly), each data set fitted by REML." + ("" if n.spec.simulated else
        f" It does not show the {n.spec.dataset} data themselves.") + "\n\n"
        r"**Do:** drag the slider under the chart from 0 to the right. **Notice:** at 0 the groups' own means "
        "(orange circles) differ by noise alone, and the mixed model's estimates (blue dots) sit on the population "
        r"line (complete pooling; the title says when the fit is singular). As $\sigma_b$ grows, each group keeps "
        r"more of its own deviation, $\lambda = \sigma_b^2 / (\sigma_b^2 + \sigma^2/n)$, and the blue dots move "
        "out onto the orange circles: partial pooling comes close to no pooling."
        + (r" This chart's slider is its own; the sidebar's $\sigma_b$ draws a new data set, and the numbers on "
           "the other parts of the lesson are its exact fit." if n.spec.simulated else
           rf" The {n.spec.dataset} fit's own estimates (*The fit*): $\hat\sigma_b$ = "
           rf"{float(n.fit.varcorr.sdcor.iloc[0]):.3g}, $\hat\sigma$ = {n.fit.sigma:.3g}."))
    if n.spec.simulated:  # keyed by what the chart uses: the sidebar's sigma_b leaves it as it is
        used = tuple(p for p in n.spec.params if p[0] in ("n_groups", "n_per_group", "sigma", "beta0"))
        sweep = lab.get_truth_sweep_figure("sigma_b", used, None, lab.scale())
    else:
        sweep = lab.get_figure(figures.fig_sigma_b_sweep, n.spec, formula, scale=lab.scale())
    lab.show_followed(sweep, key="ri_sigma_b_sweep")  # where it was let go: in the link, shown again on a reload


def model(n: SimpleNamespace) -> None:
    st.latex(r"y_{ij} = \mathbf{x}_{ij}^\top\boldsymbol\beta + b_i + \varepsilon_{ij},\qquad "
             r"b_i \sim N(0, \sigma_b^2),\quad \varepsilon_{ij} \sim N(0, \sigma^2)")
    st.latex(r"\mathbf{y} = X\boldsymbol\beta + Z\mathbf{b} + \boldsymbol\varepsilon")
    st.markdown(f"Group $i$ is a level of **{n.group}**, $j$ counts its measurements. Every group gets its own "
                r"intercept $b_i$, a draw from one normal distribution: the model estimates its spread $\sigma_b$, "
                f"not a separate number per group. Fitted here: `{formula}`.")
    cx, cz = st.columns(2)
    for col, which in ((cx, "X"), (cz, "Z")):
        with col:
            lab.show(lab.get_figure(figures.fig_design, n.spec, formula, scale=lab.scale(), options=(("which", which),)),
                     key=which)
    shown = (f" Only the first {figures.MATRIX_ROWS} of the {n.fit.nobs} rows are drawn (more cannot be told apart on "
             "a screen): a group whose rows all come later has an empty column here, and the pattern goes on the "
             "same way." if n.fit.nobs > figures.MATRIX_ROWS else "")
    st.caption("The picture of it: each row is one measurement. X holds the fixed-effect columns (lme4's names); Z "
               "has one column per group with a 1 where the row belongs to that group: Z b adds the row's group "
               "effect." + shown)


def the_fit(n: SimpleNamespace) -> None:
    lab.code_text(n.fit.summary())
    sb, s = float(n.fit.varcorr.sdcor.iloc[0]), n.fit.sigma
    lab.explain(
        f"- **{n.group} (Intercept) Std.Dev. {sb:.4g}**: groups' own levels spread around the population with "
        rf"SD $\hat\sigma_b$ = {sb:.4g}." "\n"
        rf"- **Residual Std.Dev. {s:.4g}**: measurements spread around their group's level with SD $\hat\sigma$ = {s:.4g}." "\n"
        "- **Fixed effects**: the population; their standard errors allow for the grouping.\n"
        rf"- **ICC** = $\hat\sigma_b^2 / (\hat\sigma_b^2 + \hat\sigma^2)$ = {sb**2:.4g} / ({sb**2:.4g} + {s**2:.4g}) = "
        f"**{sb**2 / (sb**2 + s**2):.3f}**: the share of the variance that lies between groups."
    )
    if n.spec.simulated:
        lab.truth_table(n.spec.truth, {r"$\beta_0$": ("beta0", n.fit.fixef.iloc[0]), r"$\beta_1$": ("beta1", n.fit.fixef.get("x")),
                                     r"$\sigma_b$": ("sigma_b", sb), r"$\sigma$": ("sigma", s)},
                        heading="**Estimates beside the truth**")


def blups(n: SimpleNamespace) -> None:
    lab.show(lab.get_figure(figures.fig_caterpillar, n.spec, formula, scale=lab.scale()), key="ri_cat")
    st.caption("Each group's predicted intercept (conditional mode, BLUP) with a 95% interval from its "
               "conditional SD. Groups with intervals crossing 0 are not clearly different from average.")
    if st.toggle("Draw every group's partial-pooling line in one chart", **lab.bind("ri_panels")):
        lab.show(lab.get_figure(figures.fig_lines, n.spec, formula, scale=lab.scale(),
                                options=(("show", ("partial", "population")),)), key="ri_lines")


def diagnostics(n: SimpleNamespace) -> None:
    with lab.side_by_side("ri_diagnostics"):
        for col, builder in zip(st.columns(3), (figures.fig_qq_residuals, figures.fig_qq_ranef, figures.fig_residuals)):
            with col:
                lab.show(lab.get_figure(builder, n.spec, formula, scale=lab.scale()), key=f"ri_{builder.__name__}")
    st.caption("Q-Q plots, standardised: the dotted line is the normal, and points inside the shaded simulation "
               "envelope are what normal values of this many look like.")


def check_yourself(n: SimpleNamespace) -> None:
    st.subheader("What to notice")
    lab.explain(
        "- The partial-pooling estimate of every group lies between its own estimate and the population.\n"
        "- Groups far from the average, with few or noisy measurements, are pulled in most.\n"
        r"- As $\sigma_b$ grows (*From complete to no pooling*), each group keeps more of its own deviation: "
        r"$\lambda = \sigma_b^2 / (\sigma_b^2 + \sigma^2/n)$ runs from 0 (complete pooling) toward 1 (no pooling), "
        "faster the more measurements a group has.\n"
        r"- In simulate mode, set $\sigma_b$ to 0: the fit is often singular ($\hat\sigma_b = 0$, every group pulled "
        "all the way to the population), and the model says the data cannot tell the between-group variance from "
        r"zero. Not always: by chance the groups' means can differ more than $\sigma^2/n$ explains."
    )
    lab.quiz("random_intercepts", quiz.random_intercepts(n.fit))
    lab.code_export(formula, n.spec)


# One idea per part, only the chosen one drawn (lab.sections), in a fragment with the truth's sigma_b: a press of
# that slider, or of a widget in the part, reruns the part alone.
lab.sections("ri_tab", {"Three ways to estimate": pooling_view, "From complete to no pooling": sigma_b_dragged,
                        "The model": model, "The fit": the_fit,
                        "BLUPs": blups, "Diagnostics": diagnostics, "Check yourself": check_yourself},
             steps={"Three ways to estimate": "Compare each group's own estimate (no pooling), the mixed model's "
                                              "(partial pooling) and one estimate for all (complete pooling).",
                    "From complete to no pooling": r"Drag $\sigma_b$ of the truth and watch partial pooling move from "
                                                   "complete pooling toward no pooling.",
                    "The model": "The equation, and its picture: each row of $Z$ has a single 1, in its group's column.",
                    "The fit": r"$\sigma_b$ (between groups) against $\sigma$ (within), and the ICC computed from them. "
                               r"Then choose *simulate*, set $\sigma_b$ to 0 and press *New sample* a few times: the fit "
                               r"is often singular ($\hat\sigma_b = 0$), not always (about 6 samples in 10 with 10 groups "
                               "of 8).",
                    "BLUPs": "Each group's predicted intercept with its interval.",
                    "Diagnostics": "Are the residuals and the random effects normal?",
                    "Check yourself": "What to notice; answer the questions; then take this model to R or Python."},
             moved={"ri_show": "Three ways to estimate", "ri_groups": "Three ways to estimate", "ri_panels": "BLUPs",
                    "ri_sigma_b_sweep_step": "From complete to no pooling"},
             spec=spec, prepare=prepare)
lab.page_end()
