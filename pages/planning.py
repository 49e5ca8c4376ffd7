"""Lesson: planning a study by simulation. How many groups, how many observations in each: the SE and
coverage of the treatment effect and of sigma_b, the power of both tests and the share of singular fits,
over a grid of designs, each from hundreds of simulated studies fitted at once."""
import streamlit as st

import lab
from mmcore.figures import fig_planning, fig_planning_theory
from mmcore.figures.designs import METHOD_NAMES
from mmcore.lessons import codegen, quiz
from mmcore.lessons.planning import findings, plan, theory, theory_se

GROUPS = [4, 6, 8, 10, 15, 20, 30, 40, 60]
PER_GROUP = [2, 4, 6, 10, 20, 40]
VIEWS = {"the treatment effect": ("effect_se", "effect_coverage", "effect_power"),
         "the between-group SD": ("sigma_b_se", "sigma_b_coverage", "variance_power"),
         "singular fits": ("singular",)}
DESIGN_WORDS = {"between": "half the groups treated (a cluster-randomised trial)",
                "within": "half of each group's observations treated"}

lab.page_start()
st.title("Planning a study: how many groups?")
st.markdown(
    "**The question.** *Only a handful of teachers* (or schools, or patients): is that enough? A study with groups "
    "has two sample sizes, the number of groups **G** and the observations per group **n**, and they do different "
    "things. Choose a design and a truth, and see by simulation what each (G, n) delivers.")
spec = lab.sidebar_data("pl", ["dyestuff", "penicillin", "sleepstudy", "estrone"], "planning")
layout = st.radio("Treatment applied", list(DESIGN_WORDS), horizontal=True, **lab.bind("pl_layout"),
                  help="between: " + DESIGN_WORDS["between"] + "; within: " + DESIGN_WORDS["within"])
st.caption(f"Treatment {layout} groups: {DESIGN_WORDS[layout]}.")
if spec.simulated:
    truth = {k: float(v) for k, v in spec.truth.items() if k in ("effect", "sigma_b", "sigma")}
    spec = lab.DataSpec(spec.dataset, spec.simulator, spec.params + (("design", layout),), spec.seed)
    pilot = None
else:
    pilot = lab.fit_or_stop(spec, lab.intercept_model(spec))
    sb, s = float(pilot.varcorr.sdcor.iloc[0]), float(pilot.sigma)
    d = st.slider(r"Effect to detect, in SDs of one observation, $\sqrt{\sigma_b^2 + \sigma^2}$", 0.0, 2.0, 0.5, 0.05,
                  **lab.bind("pl_d"))
    truth = dict(effect=round(d * (sb**2 + s**2) ** 0.5, 6), sigma_b=sb, sigma=s)
lab.steps([
    "Press *Simulate the designs* and look at the power curves: which matters more, more groups or more per group?",
    "Switch the treatment between *between* and *within* groups and simulate again: compare the SE curves.",
    "Look at coverage with few groups under *z*, then under Satterthwaite or Kenward-Roger.",
    r"Open *the between-group SD*: how many groups until $\sigma_b$ is estimated to within a third of itself?",
    r"Set $\sigma_b$ small (simulate mode) and watch the share of singular fits grow.",
])

st.subheader("The model and what theory says")
st.latex(r"y_{ij} = \beta_0 + \beta_1\,\text{treat}_{ij} + b_i + \varepsilon_{ij},\quad b_i \sim N(0, \sigma_b^2),\ "
         r"\varepsilon_{ij} \sim N(0, \sigma^2)")
if layout == "between":
    st.latex(r"\operatorname{Var}(\hat\beta_1) = \frac{4}{G}\Big(\sigma_b^2 + \frac{\sigma^2}{n}\Big)"
             r"\quad\text{(variances known; G groups, half treated)}")
else:
    st.latex(r"\operatorname{Var}(\hat\beta_1) = \frac{4\sigma^2}{nG}\quad\text{(the group effects cancel within groups)}")
st.markdown(
    f"The truth used for planning: treatment effect **{truth['effect']:.4g}**, between-group SD $\\sigma_b$ = "
    f"**{truth['sigma_b']:.4g}**, residual SD $\\sigma$ = **{truth['sigma']:.4g}**"
    + (f" ($\\sigma_b$ and $\\sigma$ estimated from the pilot data *{spec.dataset}* below; the effect is {d:.2f} of its "
       "total SD)." if pilot is not None else " (the sidebar's truth)."))
example = pilot if pilot is not None else lab.fit_or_stop(spec, "y ~ treat + (1 | group)")
with st.expander("The pilot study (its estimates are the truth the planner uses)" if pilot is not None else
                 "One simulated study of this design, its fit beside the truth", expanded=False):
    lab.code_text(example.summary())
    if pilot is None:
        lab.truth_table(spec.truth, {r"effect $\beta_1$": ("effect", example.fixef["treatB"]),
                                     r"$\sigma_b$": ("sigma_b", example.varcorr.sdcor.iloc[0]),
                                     r"$\sigma$": ("sigma", example.sigma)})
        lab.notes(example)

st.subheader("Simulate the designs")
groups = st.pills("Numbers of groups G", GROUPS, selection_mode="multi", default=[4, 6, 10, 20, 40, 60],
                  **lab.bind("pl_groups"))
c2, c3 = st.columns([3, 2])
per_group = c2.pills("Observations per group n", PER_GROUP, selection_mode="multi", default=[2, 6, 20],
                     **lab.bind("pl_n"))
nsim = c3.select_slider("Studies per design", [100, 200, 500, 1000], 200, **lab.bind("pl_nsim"))
DDF = {"Satterthwaite": "satterthwaite", "Kenward-Roger": "kenward-roger", "z (no df)": "z"}
ddf = DDF[st.radio("The effect's t test and interval use", list(DDF), horizontal=True, **lab.bind("pl_ddf"))]
groups, per_group = tuple(sorted(groups or [])), tuple(sorted(per_group or []))
st.caption(f"{len(groups) * len(per_group)} designs x {nsim} studies: each study is fitted by REML (lmer) and ML, "
           r"its effect tested with lmerTest's t, its $\sigma_b$ given lme4's profile interval, its $\sigma_b$ tested by "
           "the likelihood-ratio test against the 50:50 mixture. All studies of a design are fitted together.")
params = (layout, groups, per_group, truth["effect"], truth["sigma_b"], truth["sigma"], nsim)
table = lab.run_on_click("pl_plan", params, "Simulate the designs", "pl_run", plan, label="Simulating studies",
                         shared=True, groups=groups, per_group=per_group, design=layout, effect=truth["effect"],
                         sigma_b=truth["sigma_b"], sigma=truth["sigma"], nsim=nsim, seed=1)
if table is None:
    st.info("Choose the grid and press *Simulate the designs* (a progress bar shows how far it is). Until then, "
            "the textbook's answer with the variances known:")
    if groups and per_group:
        known = theory(groups, per_group, layout, truth["effect"], truth["sigma_b"], truth["sigma"])
        for col, which in zip(st.columns(2), ("se", "power")):
            with col:
                lab.show(lab.styled(fig_planning_theory(known, which), lab.scale()), key=f"pl_theory_{which}")
else:
    view = st.segmented_control("Show", list(VIEWS), default=list(VIEWS)[0], **lab.bind("pl_view")) or list(VIEWS)[0]
    columns = st.columns(len(VIEWS[view]))
    for col, metric in zip(columns, VIEWS[view]):
        with col:
            lab.show(lab.styled(fig_planning(table, metric, ddf), lab.scale()), key=f"pl_{metric}")
    st.markdown(findings(table, ddf, METHOD_NAMES[ddf])[{"the treatment effect": "effect", "the between-group SD":
                                                         "sigma_b", "singular fits": "singular"}[view]])
    st.caption("One line per number of observations per group n; dashed, in the same colour: its theory with the "
               "variances known. Bars: +- 2 Monte Carlo SE. Coverage and power are drawn on their whole scale, 0 to "
               "100%, so that a drop below 95% looks as large as it is. The grey band around the dotted 95% line is "
               "where a correct interval's simulated coverage falls 95% of the time; the dotted line at 80% is the "
               "usual target power.")
    with st.expander("The numbers"):
        lab.table(table.set_index(["groups", "per_group"]), 3)

st.subheader("What to notice")
lab.explain(
    r"- **Between groups**, every group contributes one draw of $b_i$: the SE cannot fall below $2\sigma_b/\sqrt{G}$, "
    "however large n. Beyond a few observations per group, only more groups help.\n"
    r"- **Within groups**, $b_i$ cancels in the comparison: the SE is $2\sigma/\sqrt{nG}$ and the total number of "
    "observations is what counts.\n"
    "- With few groups, **z intervals cover less than 95%** (they ignore that the SE is estimated from G - 2 df); "
    "Satterthwaite's and Kenward-Roger's t intervals keep their 95%.\n"
    r"- **$\sigma_b$ needs groups**: its SE falls like $1/\sqrt{G}$, observations per group barely help, and with few "
    "groups many fits are singular and the profile interval covers less than it says.")
if table is not None:
    lab.page_link("pages/tests_and_intervals.py", "Why the df matter: tests and intervals", ":material/rule:")


def blocks() -> list[tuple[str, str, str]]:
    r_code, py_code = codegen.planning_code(layout, groups or (10,), per_group or (6,), truth["effect"],
                                            truth["sigma_b"], truth["sigma"], nsim)
    return [("**R** (one design, one study at a time)", "r", r_code), ("**Python (mmcore)**", "python", py_code)]


lab.code_blocks("Code: this simulation in R (lme4, lmerTest) and mmcore", blocks)
lab.code_export("y ~ treat + (1 | group)" if pilot is None else lab.intercept_model(spec), spec)
few_z = None if table is None else float(table.loc[table["groups"].idxmin(), "coverage_z"])
lab.quiz("planning", quiz.planning(layout, truth["sigma_b"], truth["sigma"],
                                   lambda g, n: theory_se(g, n, layout, truth["sigma_b"], truth["sigma"]),
                                   few_z, int(table["groups"].min()) if table is not None else 4))
lab.page_end()
