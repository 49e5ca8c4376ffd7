"""Lesson 5: shrinkage (partial pooling) for random intercepts and slopes, and why it pays."""
from types import SimpleNamespace

import streamlit as st

import lab
from mmcore import figures
from mmcore.figures import fig_study
from mmcore.lessons import quiz
from mmcore.lessons.shrinkage import fixed_vs_random_study

lab.page_start()
st.title("Shrinkage: partial pooling")
st.markdown(
    "**The question.** A group with few, noisy measurements has an extreme mean. Should we believe it? The mixed "
    "model answers *partly*: each group's estimate is its own mean pulled toward the population, more so the less "
    "its own data can say. This is **shrinkage**, and it makes the estimates better on average."
)
spec = lab.sidebar_data("sh", ["sleepstudy", "dyestuff", "estrone", "penicillin"], "shrinkage", live="ratio")
formula = lab.intercept_model(spec, covariate=False)


def warm(s: lab.DataSpec, scale: float = lab.scale()) -> None:
    """What a new truth costs the first tab as it opens (the fit, the group farthest out refitted with 1..n
    of its rows, its chart): computed ahead for the other values of sigma_b / sigma
    (lab/prefetch.py), so a class moving that slider finds them ready (bench/load.py --page shrinkage:
    p95 4.2 s without). A thread of its own: no Streamlit in it (the scale is this run's)."""
    table = lab.get_shrinkage_table(s, formula)
    far = str(table["own deviation"].abs().idxmax())
    lab.get_deletion_figure(s, formula, far, scale=scale)


def prepare(spec: lab.DataSpec) -> SimpleNamespace:
    """The fit and its groups, for the data with the truth's ratio where the slider is (lab.sections)."""
    base = lab.fit_or_stop(spec, formula)
    group = next(iter(base.ranef))
    lab.compute_ahead(spec, "ratio", warm, key=("shrinkage", lab.scale()))
    table = lab.get_shrinkage_table(spec, formula)
    # start where shrinkage shows: the group farthest out
    return SimpleNamespace(spec=spec, group=group, levels=list(base.ranef[group].index),
                           farthest=str(table["own deviation"].abs().idxmax()))


def deletion(n: SimpleNamespace, who: str, keep: int, n_who: int):
    """The data with `keep` of `who`'s n_who rows kept (spread over them): (data, fit, table)."""
    keep = min(keep, n_who)
    edited = n.spec.with_transform(("keep", n.group, who, keep)) if keep < n_who else n.spec
    return edited, lab.fit_or_stop(edited, formula), lab.get_shrinkage_table(edited, formula)


def one_group(n: SimpleNamespace) -> None:
    st.latex(r"\hat b_i = \lambda_i\,\frac{1}{n_i}\sum_j \left(y_{ij} - \mathbf{x}_{ij}^\top\hat{\boldsymbol\beta}\right),"
             r"\qquad \lambda_i = \frac{\sigma_b^2}{\sigma_b^2 + \sigma^2 / n_i}")
    st.caption(r"The group's own deviation is its mean distance from the population's fitted values "
               r"$\mathbf{x}_{ij}^\top\hat{\boldsymbol\beta}$ (the GLS estimate), not from the overall mean.")
    if "sh_who" not in st.session_state and "sh_who" not in st.session_state.get("_link_in", {}):
        st.session_state["sh_who"] = n.farthest  # the first visit starts where shrinkage shows (not the first group)
    who = st.selectbox(f"Delete observations from one {n.group}", n.levels,
                       **lab.bind("sh_who", reset_when=tuple(n.levels), reset_to=n.farthest))
    sweep = lab.get_deletion(n.spec, formula, who)
    n_who = len(sweep.kept)  # the group's rows the model uses
    # where the student let go of the chart's slider (or the link's value): the numbers below are that fit's
    keep = lab.bound_value("sh_keep", min(2, n_who), range(1, n_who + 1), reset_when=(tuple(n.levels), who, n_who))
    st.session_state["_sh_deletion"] = (n.levels, who, keep)  # for the questions, in their own tab
    lab.notes(sweep.messages[keep - 1])  # that fit's (singular, not converged)
    st.markdown(f"**Drag the slider under the chart**: keep 1 to {n_who} of {who}'s observations (spread over its "
                "rows). Every step is the model refitted to those data, computed once: the chart answers while you drag, "
                "the numbers below when you let go.")
    lab.show(lab.at_step(lab.get_deletion_figure(n.spec, formula, who, scale=lab.scale()), keep - 1), key="sh_axis",
             on_step=lambda step: st.session_state.update(sh_keep=step + 1))
    row = sweep.tables[keep - 1].loc[who]
    vb, ve = sweep.sigma_b[keep - 1] ** 2, sweep.sigma[keep - 1] ** 2
    st.markdown(
        f"**{who}**, with {keep} of its {n_who} observations: "
        f"$\\lambda_i$ = {vb:.4g} / ({vb:.4g} + {ve:.4g} / {keep}) = "
        f"**{row['lambda']:.3f}**, so its estimate keeps {row['lambda']:.0%} of its own deviation "
        f"({row['own deviation']:+.4g}) and moves to {row['BLUP']:+.4g}. Fewer observations, smaller $\\lambda_i$. "
        "(The other groups move a little too: with fewer data the estimates of $\\sigma_b$ and $\\sigma$ change.)"
    )
    lab.table(sweep.steps().reset_index().rename(columns={"sigma_b": r"$\hat\sigma_b$", "sigma": r"$\hat\sigma$",
                                                          "lambda": r"$\lambda_i$"}), 3, hide_index=True,
              heading=f"**{who} at every number kept** (each row a fit; the chart's slider moves through them)")


def all_groups(n: SimpleNamespace) -> None:
    st.markdown(r"**Drag the slider under the chart**: $\sigma_b / \sigma$ from 0 (every group at the population) "
                "upward; each group's estimate slides from the population toward its own mean. The slider starts at "
                "the fit's estimate; every step is the model solved exactly with the ratio held there.")
    lab.show_followed(lab.get_figure(figures.fig_shrinkage_sweep, n.spec, formula, scale=lab.scale()), key="sh_sweep",
                      reset_when=n.spec)  # where it was let go: in the link, shown again on a reload


def slopes(n: SimpleNamespace) -> None:
    slope_spec = lab.DataSpec("sleepstudy")
    if n.spec.dataset != "sleepstudy":
        st.caption("This part uses sleepstudy whatever the data chosen: a random slope needs a covariate measured "
                   "within each group (Days, within each Subject).")
    model = "Reaction ~ Days + (Days | Subject)"
    subjects = [str(s) for s in lab.get_fit(slope_spec, model).ranef["Subject"].index]
    subject = st.selectbox("Delete days from one subject", subjects, index=subjects.index("335"), **lab.bind("sh_subject"))
    # where the student let go of the chart's slider (or the link's value): 2 to 10 days kept
    days = lab.bound_value("sh_days", 10, range(2, 11), reset_when=subject)
    lab.notes(lab.get_deletion_fits(slope_spec, model, subject, 2)[days - 2])  # that fit's (singular, not converged)
    st.markdown(f"**Drag the slider under the chart**: keep 2 to 10 of subject {subject}'s days (spread over them). "
                "Every step is the model refitted to those data: the chart answers while you drag.")
    lab.show(lab.at_step(lab.get_slope_deletion_figure(slope_spec, model, subject, scale=lab.scale()), days - 2),
             key="sh_plane",
             on_step=lambda step: st.session_state.update(sh_days=step + 2))
    st.caption("Orange: each subject's own least-squares line (intercept, slope); blue: the mixed model's; grey: "
               "the move from one to the other; green: where 95% of subjects' lines should lie. Subjects whose own "
               "line is far out, or rests on few days, move most: delete days from one and watch its move grow.")


def pays(n: SimpleNamespace) -> None:
    st.markdown("10 individuals, 3 measurements each, SD 10 between and 20 within. Each individual's effect is estimated "
                "as a **fixed** effect (its own mean) and as a **random** effect (its BLUP); we add up the squared errors "
                "against the true effects, over many simulated data sets.")
    c1, c2, c3, c4, c5 = st.columns(5)
    params = (c1.number_input("individuals", 2, 100, 10, **lab.bind("sh_n_ind")),
              c2.number_input("measurements", 2, 50, 3, **lab.bind("sh_n_rep")),
              c3.number_input("SD between", 0.0, 100.0, 10.0, **lab.bind("sh_sd_b")),
              c4.number_input("SD within", 0.1, 100.0, 20.0, **lab.bind("sh_sd_w")),
              c5.select_slider("data sets", [100, 200, 500, 1000, 2000, 5000], 1000, **lab.bind("sh_nsim")))
    result = lab.run_on_click("sh_study", params, "Run the simulation", "sh_run", fixed_vs_random_study,
                             n_individuals=params[0], n_measures=params[1], sd_between=params[2], sd_within=params[3],
                             nsim=params[4], seed=1)
    if result is not None:
        lab.show(lab.styled(fig_study(result, "Sum of squared errors per data set", "sum of squared errors"), lab.scale()),
                key="sh_study_fig")
        better = (result["random"] < result["fixed"]).mean()
        st.markdown(f"Mean over {len(result):,} data sets: fixed **{result['fixed'].mean():.0f}**, random "
                    f"**{result['random'].mean():.0f}**. The random-effect estimate wins in {better:.0%} of the data sets. "
                    f"(One data set in the lecture notes: 1099 fixed, 562 random.)")


def check_yourself(n: SimpleNamespace) -> None:
    st.subheader("What to notice")
    lab.explain(r"- $\lambda_i$ is near 1 when a group has many observations or groups differ a lot ($\sigma_b$ large): "
                "little shrinkage.\n"
                r"- $\lambda_i$ is near 0 when $\sigma_b^2$ is small against $\sigma^2 / n_i$: the group is pulled "
                "almost to the population.\n- Shrinkage trades a little bias for much less variance: on average the "
                "estimates are closer to the truth.")
    # the deletion set in its tab; else the link's (a link to this tab), else the start. Both go into this
    # tab's link too, so that it reproduces these questions
    shown_levels, who, keep = st.session_state.get("_sh_deletion", (None, None, None))
    if shown_levels != n.levels or who not in n.levels:
        given = st.session_state.get("_link_in", {}).get("sh_who", [None])[-1]
        who, keep = (given if given in n.levels else n.farthest), None
    n_who = len(lab.get_deletion(n.spec, formula, who).kept)  # the group's rows the model uses, as in its tab
    st.session_state["sh_who"] = who  # its widget (in its own tab) is not drawn in this run
    lab.bind("sh_who")
    if keep is not None:
        st.session_state["sh_keep"] = keep
    keep = lab.bound_value("sh_keep", min(2, n_who), range(1, n_who + 1))
    edited, _, table = deletion(n, who, keep, n_who)
    st.caption(f"The questions are about the data as *One group, fewer observations* left them: {who} with "
               f"{min(keep, n_who)} of its {n_who} observations.")
    lab.quiz("shrinkage", quiz.shrinkage(table, who, min(keep, n_who), n_who))
    lab.code_export(formula, edited)


# One idea per part, only the chosen one drawn (lab.sections), in a fragment with the truth's ratio: a press of
# that slider, or of a widget in the part, reruns the part alone.
lab.sections("sh_tab", {"One group, fewer observations": one_group, "All groups, one ratio": all_groups,
                        "Random slopes": slopes, "Does shrinkage pay?": pays, "Check yourself": check_yourself},
             steps={"One group, fewer observations": "Pick a group, then drag the slider under the chart from all "
                                                     r"its observations down to one: its $\lambda$ falls and its "
                                                     "estimate slides inward.",
                    "All groups, one ratio": r"Drag $\sigma_b / \sigma$ from 0 upward and watch every group leave the "
                                             "population.",
                    "Random slopes": "Drag the days kept of one subject: its move from its own line to the mixed "
                                     "model's grows.",
                    "Does shrinkage pay?": "Run the lecture notes' simulation: which estimates are closer to the truth "
                                           "on average?",
                    "Check yourself": "What to notice; answer the questions; then take this model to R or Python."},
             moved={"sh_who": "One group, fewer observations", "sh_keep": "One group, fewer observations",
                    "sh_subject": "Random slopes", "sh_days": "Random slopes", "sh_n_ind": "Does shrinkage pay?",
                    "sh_n_rep": "Does shrinkage pay?", "sh_sd_b": "Does shrinkage pay?", "sh_sd_w": "Does shrinkage pay?",
                    "sh_nsim": "Does shrinkage pay?", "sh_study": "Does shrinkage pay?",
                    "sh_sweep_step": "All groups, one ratio"},
             spec=spec, prepare=prepare)
lab.page_end()
