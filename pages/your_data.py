"""Your own data: upload or paste a CSV, choose how each column is used, build a model from
menus (or type it), and see the same views as the lessons. Every bad input gets a message."""
import hashlib

import pandas as pd
import streamlit as st

import lab
import mmcore
from mmcore import figures
from mmcore.data.upload import MAX_BYTES
from mmcore.model.builder import (
                                  STRUCTURES,
                                  apply_types,
                                  binary_text_columns,
                                  build_formula,
                                  guess_groups,
                                  guess_response,
                                  response_kind,
                                  suggest_families,
                                  summarise_columns,
                                  time_like,
)
from mmcore.model.builder import nesting as guess_nesting


@st.cache_data(max_entries=32, show_spinner="Reading the file ...")
def read(key: str, _raw: bytes) -> pd.DataFrame:  # noqa: ARG001
    """Cached on `key` alone (the upload's id or the text's hash): Streamlit does not hash an
    argument named with a leading underscore, and hashing 50 MB on every rerun costs more than reading it."""
    return mmcore.read_csv(_raw)

def glmm_views(spec, formula: str, family: str) -> None:
    """The views of a generalized model: its fit, odds (rate) ratios, curves, BLUPs, diagnostics."""
    fit = lab.glmm_fit_or_stop(spec, formula, family)
    lab.notes(fit)
    lab.code_text(fit.summary())
    numeric = [v for v in fit.fixed_names if v in fit.data.columns and pd.api.types.is_numeric_dtype(fit.data[v])]
    views = ["Ratios", "BLUPs", "Diagnostics"] + (["Curves"] if numeric and len(fit.re_cov) == 1 else [])
    view = st.segmented_control("View", views, default="Ratios", key="yd_glmm_view") or "Ratios"
    figure, options = {"Ratios": (figures.fig_odds_ratios, ()), "BLUPs": (figures.fig_caterpillar, ()),
                       "Diagnostics": (figures.fig_simulated_residuals, ()),
                       "Curves": (figures.fig_subject_curves, (("x", numeric[0]),) if numeric else ())}[view]
    lab.show(lab.get_glmm_figure(figure, spec, formula, family, scale=lab.scale(), options=options), key=f"yd_{view}")
    if view == "Diagnostics" and family == "binomial":
        lab.show(lab.get_glmm_figure(figures.fig_binned_residuals, spec, formula, family, scale=lab.scale()),
                 key="yd_binned")
    lesson = lab.course.glmm_lesson()
    st.caption("A generalized mixed model, fitted as lme4's glmer (Laplace approximation)."
               + (f" Lesson {lesson[1]} explains the odds ratios, the curves and these diagnostics." if lesson else ""))


lab.page_start()
st.title("Your own data")
st.markdown("Try what you learned on your own data: a CSV with one row per measurement, a numeric response, and a "
            "column saying which group each row belongs to.")
source = st.radio("Data", ["upload a CSV", "paste CSV text", "an example"], horizontal=True, **lab.bind("yd_source"))
raw, key, name = None, None, "your_data"
if source == "upload a CSV":
    up = st.file_uploader(f"CSV file (up to {MAX_BYTES // 2**20} MB)", type=["csv", "txt", "tsv"], key="yd_file")
    if up is not None:
        if up.size > MAX_BYTES:
            st.error(f"The file is {up.size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB. Upload a smaller file.")
            lab.stop()
        raw, key, name = up.getvalue(), f"file:{up.file_id}", up.name.rsplit(".", 1)[0]
elif source == "paste CSV text":
    text = st.text_area("CSV text, with a header row", height=160, key="yd_paste",
                        placeholder="y,x,group\n12.1,1,a\n13.4,2,a\n...")
    if text.strip():
        raw = text.encode("utf-8")
        key = "paste:" + hashlib.sha1(raw).hexdigest()
else:
    example = st.selectbox("Example", ["sleepstudy", "penicillin", "dyestuff", "pastes", "ctsib", "insteval"],
                           **lab.bind("yd_example"))
    raw, key, name = mmcore.load_dataset(example).to_csv(index=False).encode(), f"example:{example}", example
if raw is None:
    st.info("Upload a CSV file, paste CSV text, or choose an example to begin.")
    # What the page will draw, on an example: it also has the browser load its chart library
    # now, while the user picks a file, rather than after the upload.
    st.caption("What you will see, here for the sleepstudy example: your data, and a line per group from the model.")
    lab.show(lab.get_figure(figures.fig_lines, lab.DataSpec("sleepstudy"), "Reaction ~ Days + (Days | Subject)",
                          scale=lab.scale(), options=(("groups", ("308", "309", "310", "330")),)), key="yd_preview")
    lab.stop()
try:
    table = read(key, raw)
except mmcore.DataError as err:
    st.error(str(err))
    lab.stop()
for note in table.attrs.get("notes", []):
    st.info(note)
st.markdown(f"**{len(table):,} rows, {table.shape[1]} columns.** The first rows:")
lab.data_head(table)

st.subheader("How each column is used")
info = mmcore.list_datasets().get(name) if key.startswith("example:") else None
summary = summarise_columns(table, list(info.groups) if info else None)
cols = st.data_editor(summary, hide_index=True, key=f"yd_types_{key}", disabled=[
    "column", "distinct values", "missing", "example"], column_config={"use as": st.column_config.SelectboxColumn(
        options=["numeric", "factor", "skip"], required=True, help="numeric: numbers (a fixed effect is then a "
        "slope); factor: categories or group codes; skip: left out")})
types = dict(zip(cols["column"], cols["use as"]))
skipped = tuple(c for c, t in types.items() if t == "skip")
if skipped:
    st.caption(f"Skipped: {', '.join(skipped)} (row numbers saved with the file, as R's write.csv does).")
codes = [c for c in table.columns if types.get(c) == "factor" and pd.api.types.is_numeric_dtype(table[c])]
if codes:
    st.caption(f"{', '.join(codes)} {'holds numbers' if len(codes) == 1 else 'hold numbers'} used as codes for "
               "groups: a factor, one level per code (R's factor()), as the model treats a grouping factor.")
data, notes = apply_types(table, types)
for note in notes:
    st.warning(note)

st.subheader("The model")
guessed_groups = list(info.groups[:1]) if info else guess_groups(data, skip=skipped)
columns = list(data.columns)
guess = info.response if info else guess_response(data, guessed_groups, skipped)
c1, c2 = st.columns(2)
response = c1.selectbox("Response", columns, index=columns.index(guess) if guess in columns else 0, key=f"yd_resp_{key}")
kind = response_kind(data[response])
if types.get(response) != "numeric":
    lab.response_advice(response, kind, data[response])  # never another column instead: say why this one cannot be fitted
    text = [v for v in table[response].dropna().astype(str).unique() if pd.to_numeric(v, errors="coerce") != pd.to_numeric(v, errors="coerce")]
    st.error(f"{response} is not numeric (it is used as a factor{': ' + ', '.join(text[:3]) if text else ''}), so it "
             "cannot be the response of a linear mixed model. Choose another response, or mark it 'numeric' above "
             "(values that are not numbers then count as missing).")
    lab.stop()
for other in binary_text_columns(data, (response, *guessed_groups)):
    st.caption(f"{other} has two values ({', '.join(map(str, data[other].dropna().unique()))}): if it is your response, "
               "choose it above to see which model fits it.")
candidates = [c for c in data.columns if c != response]
groups = c2.multiselect("Grouping factor(s)", candidates, key=f"yd_groups_{key}",
                        default=[g for g in guessed_groups if g != response])
numeric_groups = [g for g in groups if types.get(g) == "numeric"]
if numeric_groups:
    st.caption(f"{', '.join(numeric_groups)}: numeric codes, used as groups. A grouping factor is a factor whatever "
               "its type above (lme4 makes it one); 'numeric' matters only where it is also a fixed effect or a slope.")
times = time_like(data, groups, (response,))
suggested = [v for t in mmcore.parse_formula(info.formula).fixed.terms for v in t] if info else times
fixed = c1.multiselect("Fixed effects", [c for c in candidates if c not in groups], key=f"yd_fixed_{key}",
                       default=[v for v in dict.fromkeys(suggested) if v not in groups])
if times and not info:
    st.caption(f"{', '.join(times)} {'looks' if len(times) == 1 else 'look'} like time: suggested as a fixed effect, "
               "and as a random slope (each group its own rate of change).")
structure = c2.radio("Random effects", list(STRUCTURES), format_func=STRUCTURES.get, key=f"yd_struct_{key}")
slopes = [c for c in fixed if types[c] == "numeric"]
slopes = sorted(slopes, key=lambda c: c not in times)  # time first
slope = c1.selectbox("Random slope on", slopes or [None], key=f"yd_slope_{key}") if structure != "intercept" else None
nesting = "crossed"
if len(groups) >= 2:
    guessed_nesting, why = guess_nesting(data, groups[0], groups[1])
    nesting = c2.radio("Two grouping factors are", ["crossed", "nested"], horizontal=True, key=f"yd_nest_{key}",
                       index=["crossed", "nested"].index(guessed_nesting),
                       help="nested: the second factor's levels are within the first's (classes in schools)")
    if why:
        c2.caption(why)
try:
    built = build_formula(response, fixed, groups, structure, slope, nesting)
except mmcore.DataError as err:
    st.warning(str(err))
    lab.stop()
formula = st.text_input("lme4 formula (built from the menus; edit it freely)", built, key=f"yd_formula_{built}")
families = suggest_families(data[response])
family = st.radio("Response distribution", list(families), format_func=families.get, horizontal=True,
                  key=f"yd_family_{key}_{response}", help="0/1 outcomes: binomial (a logistic mixed model, as glmer); "
                  "counts 0, 1, 2, ...: Poisson. Linear: lmer.")
reml = st.toggle("REML (off: maximum likelihood)", True, key="yd_reml") if family == "gaussian" else False
if family == "gaussian":  # a 0/1 or count response fitted as a linear model: say what fits it better
    lab.response_advice(response, kind, data[response])

spec = lab.register_upload(f"{key}|{sorted(types.items())}", data)
if family != "gaussian":  # a generalized model (glmer): its own views
    glmm_views(spec, formula, family)
    lab.code_export(formula, spec, family=family)
    lab.stop()
fit = lab.fit_or_stop(spec, formula, reml)
lab.notes(fit)
lab.code_text(fit.summary())
group = next(iter(fit.ranef))
levels = list(fit.ranef[group].index)
# One view at a time (tabs would build and send every chart on every rerun: slow for big data)
view = st.segmented_control("View", ["Lines", "BLUPs", "Diagnostics", "Shrinkage and ICC"], default="Lines",
                            key="yd_view") or "Lines"
if view == "Lines":
    shown = st.multiselect(f"{lab.plural(group)} shown", levels, default=levels[:6], key=f"yd_shown_{key}")
    lab.show(lab.get_figure(figures.fig_lines, spec, formula, reml, lab.scale(),
                          (("groups", tuple(shown)), ("show", ("partial", "none", "population")))), key="yd_lines")
elif view == "BLUPs":
    lab.show(lab.get_figure(figures.fig_caterpillar, spec, formula, reml, lab.scale()), key="yd_cat")
elif view == "Diagnostics":
    with lab.side_by_side("yd_diagnostics"):
        for col, builder in zip(st.columns(3), (figures.fig_qq_residuals, figures.fig_qq_ranef, figures.fig_residuals)):
            with col:
                lab.show(lab.get_figure(builder, spec, formula, reml, lab.scale()), key=f"yd_{builder.__name__}")
else:
    intercepts_only = all(cols == ("(Intercept)",) for _, cols, _ in fit.re_cov)
    if intercepts_only:
        lab.show(lab.get_figure(figures.fig_decomposition, spec, formula, reml, lab.scale()), key="yd_icc")
        st.markdown("ICC: " + ", ".join(f"**{g}** {v:.3f}" for g, v in mmcore.icc(fit).items()))
    if len(fit.re_cov) == 1 and intercepts_only and len(levels) <= 60:
        lab.show(lab.get_figure(figures.fig_shrinkage, spec, formula, reml, lab.scale()), key="yd_shrink")
        st.caption(f"Labelled: the {lab.plural(group)} that moved most, as many as fit without overlapping; hover "
                   f"over a point to see which {group} it is.")
    elif not intercepts_only:
        st.info("The ICC and the shrinkage picture are shown for random-intercept models.")
    elif len(levels) > 60:
        st.info(f"{len(levels):,} groups are too many to draw one by one; see the BLUPs view.")
lab.code_export(formula, spec, reml)
lab.page_end()
