"""Lesson: nested and crossed random effects. Which levels meet which (the incidence picture), the
variance at each level and what each SD means, and the two classic mistakes side by side: reused
labels of a nested factor fitted as crossed, and a crossed factor left out."""
import streamlit as st

import lab
import mmcore
from mmcore.lessons import codegen, quiz

NESTED, CROSSED = "nested", "crossed"
# Each design: its model, the mistaken model shown beside it, the two factors, and what each SD means.
DESIGNS = {
    "pastes": dict(
        kind=NESTED, outer="batch", inner="cask", unique="sample",
        formula="strength ~ 1 + (1 | batch/cask)", wrong="strength ~ 1 + (1 | batch) + (1 | cask)",
        question="Paste strength was tested twice in each of 3 casks from each of 10 delivery batches. Casks are "
                 "labelled a, b, c in every batch, but cask a of batch A is not cask a of batch B.",
        latex=r"y_{ijk} = \mu + b_i + c_{ij} + \varepsilon_{ijk},\quad b_i \sim N(0, \sigma_{\text{batch}}^2),\ "
              r"c_{ij} \sim N(0, \sigma_{\text{cask}}^2),\ \varepsilon_{ijk} \sim N(0, \sigma^2)",
        words="batch $i$, cask $j$ of that batch, test $k$ of that cask",
        meaning={"batch": "how much batches' mean strengths differ", "cask:batch": "how much casks of one batch differ",
                 "Residual": "how much two tests of one cask differ"}),
    "penicillin_lme4": dict(
        kind=CROSSED, outer="plate", inner="sample",
        formula="diameter ~ 1 + (1 | plate) + (1 | sample)", wrong="diameter ~ 1 + (1 | plate)",
        question="Six penicillin samples were each assayed on each of 24 plates: every sample meets every plate. "
                 "A plate shifts all six of its zones together; a sample is more or less potent on every plate.",
        latex=r"y_{ij} = \mu + p_i + s_j + \varepsilon_{ij},\quad p_i \sim N(0, \sigma_{\text{plate}}^2),\ "
              r"s_j \sim N(0, \sigma_{\text{sample}}^2),\ \varepsilon_{ij} \sim N(0, \sigma^2)",
        words="plate $i$, sample $j$: one zone for each pair",
        meaning={"plate": "how much plates shift their zones", "sample": "how much the samples' potencies differ",
                 "Residual": "what is left for one sample on one plate"}),
    "statlab": dict(
        kind=NESTED, outer="school", inner="student", unique="pupil",
        formula="score ~ 1 + (1 | school/student)", wrong="score ~ 1 + (1 | school) + (1 | student)",
        question="Students in schools, each tested several times (the StatLab design, drawn from the truth in the "
                 "sidebar). The class lists number the students 1, 2, 3 ... in every school.",
        latex=r"y_{ijk} = \mu + s_i + p_{ij} + \varepsilon_{ijk},\quad s_i \sim N(0, \sigma_{\text{school}}^2),\ "
              r"p_{ij} \sim N(0, \sigma_{\text{student}}^2),\ \varepsilon_{ijk} \sim N(0, \sigma^2)",
        words="school $i$, student $j$ of that school, test $k$",
        meaning={"school": "how much schools' mean scores differ", "student:school": "how much students of one "
                 "school differ", "Residual": "how much one student's tests differ"},
        truth={"school": "sigma_school", "student:school": "sigma_student", "Residual": "sigma"}),
    "crossed": dict(
        kind=CROSSED, outer="subject", inner="item",
        formula="rt ~ condition + (1 | subject) + (1 | item)", wrong="rt ~ condition + (1 | subject)",
        question="Every subject responds to every item (drawn from the truth in the sidebar); half the items are in "
                 "condition B. Subjects differ in speed, and items in difficulty: the lecture notes' "
                 "pitch ~ gender + (1 | subject) + (1 | scenario).",
        latex=r"y_{ij} = \mu + \beta\,[\text{item } j \text{ in B}] + u_i + w_j + \varepsilon_{ij},\quad "
              r"u_i \sim N(0, \sigma_{\text{subject}}^2),\ w_j \sim N(0, \sigma_{\text{item}}^2)",
        words="subject $i$, item $j$: one response for each pair",
        meaning={"subject": "how much subjects' speeds differ", "item": "how much items' difficulties differ",
                 "Residual": "what is left for one subject on one item"},
        truth={"subject": "sigma_subject", "item": "sigma_item", "Residual": "sigma"}),
}
DESIGNS["insteval"] = dict(
    kind=CROSSED, outer="s", inner="d", formula="y ~ service + (1 | s) + (1 | d)", wrong="y ~ service + (1 | s)",
    term="service1",
    question="73,421 ratings (1 to 5) of lectures at ETH Zurich: 2,972 students (s) rated 1,128 lecturers (d), each "
             "student some of the lecturers. service: the lecture was a service course for another department.",
    latex=r"y_{ij} = \mu + \beta\,[\text{service}] + s_i + d_j + \varepsilon_{ij},\quad s_i \sim N(0, "
          r"\sigma_{\text{student}}^2),\ d_j \sim N(0, \sigma_{\text{lecturer}}^2)",
    words="student $i$, lecturer $j$: one rating for each pair that occurs", unit_words=("student", "lecturer"),
    meaning={"s": "how much students differ in the ratings they give", "d": "how much lecturers differ in the "
             "ratings they get", "Residual": "what is left for one student rating one lecturer"})
SIMULATED = {"students in schools (StatLab)": "statlab", "subjects x items": "crossed"}
DATASETS = ["pastes", "penicillin_lme4"] + (["insteval"] if "insteval" in mmcore.list_datasets() else [])

lab.page_start()
st.title("Nested and crossed random effects")
spec = lab.sidebar_data("nc", DATASETS, SIMULATED)
key = spec.simulator if spec.simulated else spec.dataset
d = DESIGNS[key]
outer, inner, kind = d["outer"], d["inner"], d["kind"]
ow, iw = d.get("unit_words", (outer, inner))  # the units in words (InstEval's columns are s and d)
if d.get("unique"):
    spec = spec.with_transform(("combine", d["unique"], outer, inner))  # unique labels beside the reused ones
st.markdown(f"**The question.** {d['question']} Which levels meet which, where does the variance lie, and how "
            "must the model be written so that it says what the design is?")
with st.spinner("Fitting 73,421 ratings: a second or two, once for everyone" if key == "insteval" else "Fitting"):
    fit = lab.fit_or_stop(spec, d["formula"])  # cached for every session: InstEval is fitted once per server
    wrong = lab.fit_or_stop(spec, d["wrong"])
lab.notes(fit)
lab.steps([
    "Look at the incidence picture: a filled square is crossed, a block diagonal is nested.",
    "Read each standard deviation as a sentence: how much units at that level differ.",
    "Compare the two fits side by side: which one says what the design is, and what does the other get wrong?",
    "Choose *simulate* and *students in schools*: set the between-student SD high and see the wrong model lose it.",
    "Choose *subjects x items* and raise the between-item SD: the SE of the condition effect without "
    "(1 | item) stays small, with it grows.",
])

st.subheader("Which levels meet which")
data = lab.get_data(spec)
rel = lab.get_relation(spec, outer, d["unique"] if d.get("unique") else inner)
if kind == NESTED:
    left, right = st.columns(2)
    with left:
        lab.show(lab.get_incidence_figure(spec, outer, inner, f"As labelled: {outer} x {inner}", lab.scale()),
                 key="nc_labels")
    with right:
        lab.show(lab.get_incidence_figure(spec, outer, d["unique"], f"As the design is: {rel.levels_b} {inner}s, each "
                                          f"in one {outer}", lab.scale()), key="nc_units")
    st.warning(lab.get_reused_labels(spec, outer, inner))
    st.caption(f"*As labelled*: the labels alone make {outer} and {inner} look crossed (every label in every {outer}). "
               f"*As the design is*: the {inner}s as units, labelled {outer}:{inner} (column {d['unique']}); each belongs to one {outer}, so the picture is block "
               f"diagonal. {rel.text}")
else:
    left, right = st.columns([3, 2])
    with left:
        lab.show(lab.get_incidence_figure(spec, outer, inner, f"{outer} x {inner}: observations of each pair",
                                          lab.scale()), key="nc_incidence")
    with right:
        st.markdown(f"{rel.text}\n\nEach factor has a variance of its own, and neither is inside the other: "
                    f"`(1 | {outer}) + (1 | {inner})`. A nested design would show one block per {outer}; here "
                    + ("every row is full." if rel.kind == CROSSED else
                       f"each {ow} meets a few {iw}s scattered over all of them (partially crossed): the same "
                       "model, with each observation sharing its two levels."))

st.subheader("The model")
st.latex(d["latex"])
st.markdown(f"Here {d['words']}. Fitted by REML: `{d['formula']}`"
            + (f" (the same as `(1 | {outer}) + (1 | {outer}:{inner})`, or with unique labels "
               f"`(1 | {outer}) + (1 | {d['unique']})`)." if kind == NESTED else "."))
with st.expander("lme4's formulas for two grouping factors"):
    st.markdown(
        "| formula | in words |\n|---|---|\n"
        "| `(1 \\| g1/g2)` | intercepts vary between levels of g1, and between levels of g2 within each g1: the same as "
        "`(1 \\| g1) + (1 \\| g1:g2)` |\n"
        "| `(1 \\| g1) + (1 \\| g2)` | intercepts vary between levels of g1 and, separately, between levels of g2: crossed "
        "factors, or nested ones whose g2 labels are unique |\n"
        "| `(1 \\| g1:g2)` | only the combinations vary: each g1-g2 pair its own intercept, nothing shared by g1 |\n\n"
        "The three differ only in which observations share a random effect; the labels decide the rest.")
with st.expander("The fit, as lme4 prints it", expanded=not st.session_state.get("present")):
    lab.code_text(fit.summary())

st.subheader("Variance at each level")
table = lab.get_variance_table(spec, d["formula"])
rows = []
for comp, row in table.iterrows():
    corr = "" if comp == "Residual" else f"{row['correlation']:.2f}"
    rows.append(f"| {comp} | {row['levels']:.0f} | {row['SD']:.4g} | {row['share']:.1%} | {corr} | "
                f"{d['meaning'].get(comp, '')} |")
st.markdown("\n".join(["| component | units | SD | share of variance | correlation of two observations sharing "
                       "it | the SD says |", "|---|---:|---:|---:|---:|---|", *rows]))
corr_label = f"a {inner} (and so its {outer})" if kind == NESTED else f"a {ow}"
shared = next(c for c in table.index if c != "Residual" and (inner in c if kind == NESTED else c == outer))
lab.explain(
    f"Each SD is on the scale of the response: **{table.index[0]}** units differ by about {table['SD'].iloc[0]:.3g} "
    "from one to the next, and so on down. The shares add up to 1; the correlation of two observations is the share "
    "of the variance they have in common: "
    + (f"two observations of one {inner} share its {outer} too, so their correlation adds both shares "
       f"({table.loc[shared, 'correlation']:.2f})." if kind == NESTED else
       f"two observations of one {ow} share only it ({table.loc[outer, 'correlation']:.2f}); two of one "
       f"{iw} share only that ({table.loc[inner, 'correlation']:.2f})."),
    title="How to read the SDs, the shares and the correlations")
if spec.simulated:
    lab.truth_table(spec.truth, {f"SD {c}": (t, table.loc[c, "SD"]) for c, t in d["truth"].items()}
                    | ({"effect of condition B": ("effect", fit.fixef["conditionB"])} if key == "crossed" else {}),
                    heading="**Estimates beside the truth**")

if kind == NESTED:
    st.subheader("The pitfall: reused labels fitted as crossed")
    st.markdown(f"`{d['wrong']}` reads the labels literally: {inner} a of one {outer} is {inner} a of every "
                f"{outer}, so it fits a **crossed** model with {wrong.ngroups[inner]} {inner}s. `(1 | {outer}/{inner})` "
                f"or unique labels make the {fit.ngroups[f'{inner}:{outer}']} units the design has.")
else:
    st.subheader("The other mistake: a crossed factor left out")
    st.markdown(f"`{d['wrong']}` forgets that the {iw}s are a sample too: observations of one {iw} are treated "
                f"as independent, and everything that depends on the choice of {iw}s claims too much precision.")
left, right = st.columns(2)
with left:
    st.markdown(f"**Correct:** `{d['formula']}`")
    lab.code_text(fit.summary(), key="nc_right")  # the fit's printout above, again beside the wrong one
with right:
    st.markdown(f"**{'Wrong' if kind == NESTED else 'Forgets a factor'}:** `{d['wrong']}`")
    lab.code_text(wrong.summary())
random_part = lambda f: f.split("~")[1].split("+", 1)[1].strip() if "+" in f else f  # noqa: E731
lab.show(lab.get_variance_shares_figure(spec, (d["formula"], d["wrong"]), (
    f"right: {random_part(d['formula'])}", f"{'wrong' if kind == NESTED else 'forgets one'}: {random_part(d['wrong'])}"),
    lab.scale()), key="nc_shares")
term = d.get("term", "conditionB" if key == "crossed" else "(Intercept)")
se_right, se_wrong = lab.get_se(spec, d["formula"], term), lab.get_se(spec, d["wrong"], term)
if kind == NESTED:
    pit = lab.get_pitfall_table(spec, d["formula"], d["wrong"], outer, inner)
    lab.table(pit, 4)
    lab.explain(
        f"The wrong model has only {wrong.ngroups[inner]} {inner}s, each spread over every {outer}: a {inner}-level "
        f"difference that is real within one {outer} averages out over the others, so its SD shrinks to "
        f"{pit.loc['SD of the inner factor', 'wrong']:.3g} and the residual SD grows from "
        f"{pit.loc['residual SD', 'right']:.3g} to {pit.loc['residual SD', 'wrong']:.3g}. Its REML criterion is "
        f"{pit.loc['REML criterion', 'wrong'] - pit.loc['REML criterion', 'right']:.1f} higher: the data fit it far "
        "worse. No error message warns you: only knowing the design does.",
        title="What reading the labels as crossed does to the fit")
else:
    lab.explain(
        f"Without (1 | {inner}) the {iw} variance moves into the residual, and the SE of **{term}** "
        + (f"falls from {se_right:.3g} to {se_wrong:.3g}. The mistaken SE is too small: it describes a repetition "
           f"with these very {iw}s, not the population of {iw}s the conclusion is about (Clark's "
           "'language-as-fixed-effect fallacy', 1973)." if se_wrong < se_right else
           f"goes from {se_right:.3g} to {se_wrong:.3g}: here the {iw}s hardly differ, so leaving them out costs "
           f"little. Raise the between-{iw} SD and it will."),
        title=f"What leaving out the {iw}s does to the standard error")

st.subheader("What to notice")
lab.explain(
    "- Nested or crossed is a property of the **design**, not of the labels: the same letters can name different "
    "units.\n"
    "- `(1 | a/b)` is shorthand for `(1 | a) + (1 | a:b)`: the model is the same as giving b unique labels.\n"
    "- In a crossed design each factor is a sample of its own: leave one out and the SEs of effects that vary "
    "with it are too small.\n"
    "- A variance component is a statement about units: how much they differ, on the response's scale.",
    title="Four points about nested and crossed designs")
if key == "crossed" or kind == NESTED:
    lab.page_link("pages/planning.py", "How many groups would a study need? Plan it by simulation",
                  ":material/calculate:")
csv_name = "simulated.csv" if spec.simulated else f"{spec.dataset}_edited.csv"


def blocks() -> list[tuple[str, str, str]]:
    r_code, py_code = codegen.comparison_code(d["formula"], d["wrong"], None if spec.simulated else spec.dataset,
                                              csv_name, (d["unique"], outer, inner) if kind == NESTED else None)
    return [("**R**", "r", r_code), ("**Python (mmcore)**", "python", py_code)]


lab.code_blocks("Code: both models in R (lme4) and mmcore", blocks)
lab.code_export(d["formula"], spec)
if kind == NESTED:
    labels, units = data[inner].nunique(), fit.ngroups[f"{inner}:{outer}"]
else:  # the pairs of levels there could be, and those that occur
    labels, units = rel.levels_a * rel.levels_b, rel.pairs
lab.quiz("nested_crossed", quiz.nested_crossed(
    kind, outer, inner, labels, units, d["formula"], d["wrong"], corr_label,
    float(table.loc[shared, "correlation"]), [float(s) for s in table["share"]], se_right, se_wrong, term))
lab.page_end()
