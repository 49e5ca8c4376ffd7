"""The elements pages share: tables, fit notes, the pooling pills, the estimates beside
the truth, and the code export. Streamlit only; the content comes from mmcore and lab.cache."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import streamlit as st

import mmcore
from lab import course
from lab.cache import SIMULATE, UPLOAD, DataSpec, get_anova_text, get_data, get_fit, get_glmm_fit
from lab.code import code_text
from lab.links import bind, presenting
from lab.page import stop
from mmcore.figures import styled as _styled
from mmcore.lessons import codegen


def table(df: pd.DataFrame, digits: int = 4, hide_index: bool = False, height: int | None = None,
          heading: str | None = None) -> None:
    """A table rounded for reading, as Markdown: an empty cell for a missing number; height (px): a
    long table scrolls in a box about that tall (the presenter's larger font: 1.8 times); heading: a
    line above it, in the same element (each element costs every press: issue 16).

    Not st.dataframe (issue 16): its grid is drawn on a canvas, costs the browser more on every rerun,
    and updates its hidden accessible copy of the cells ~0.2 s after each change; a Markdown table
    takes the page's (and the presenter's) font size, and a lesson's tables are small."""
    text = _markdown_table(df, digits, not hide_index)
    if height:  # the heading above the scrolling box, not scrolled away with the rows
        if heading:
            st.markdown(heading)
        with st.container(height=round(height * (1.8 if presenting() else 1)), border=False):
            st.markdown(text)
    else:
        st.markdown(_headed(heading, text))


def _headed(heading: str | None, text: str) -> str:
    """A Markdown table with a heading above it, in one element (each element costs every press: issue 16)."""
    return f"{heading}\n\n{text}" if heading else text


def data_head(df: pd.DataFrame, rows: int = 10, columns: int = 12) -> None:
    """The first rows of a user's table, to read: a Markdown table (the page's font, the presenter's
    larger one; st.dataframe's canvas keeps a small font) of at most `columns` columns, the rest named
    below it. Numbers as read (not rounded); text escaped (a user's _, *, $ or < stays a character;
    table() escapes |) and cut at 40 characters."""
    def text(value) -> str:
        value = " ".join(str(value).split())
        value = value if len(value) <= 40 else value[:39] + "…"
        return re.sub(r"([\\`*_{}\[\]<>()#+!$~-])", r"\\\1", value)

    head = df.iloc[:rows, :columns].copy()
    for c in head.columns:
        if not pd.api.types.is_numeric_dtype(head[c]):
            head[c] = [None if v is None or (np.ndim(v) == 0 and pd.isna(v)) else text(v) for v in head[c]]
    head.columns = [text(c) for c in head.columns]
    table(head, digits=12, hide_index=True)
    if df.shape[1] > columns:
        more = df.shape[1] - columns
        st.caption(f"{more} more column{'s' if more > 1 else ''}, not shown: "
                   + ", ".join(text(c) for c in df.columns[columns:]) + ".")


def _markdown_table(df: pd.DataFrame, digits: int, index: bool) -> str:
    """A table as Markdown: numbers right-aligned, fractions with as many decimals down a column as
    its most precise one needs (4.450 under 0.942, so the points line up; a whole number stays whole:
    a column may mix counts and estimates), an empty cell for a missing one, a | in a name escaped
    (lme4's sd_(Intercept)|blend). An index of several levels becomes columns under their names."""
    if index and df.index.nlevels > 1:
        df, index = df.reset_index(), False

    def cell(value) -> str:
        if isinstance(value, (float, np.floating)):
            return _number(float(value), digits)
        return "" if value is None or (np.ndim(value) == 0 and pd.isna(value)) else str(value).replace("|", "\\|")

    def column(values) -> list[str]:
        texts = [cell(v) for v in values]
        plain = {t for t in texts if re.fullmatch(r"-?\d+\.\d+", t)}  # not 30 (a count), "", 1.2e-05
        places = max((len(t.split(".")[1]) for t in plain), default=0)
        return [f"{float(t):.{places}f}" if t in plain else t for t in texts] if places else texts

    columns = ([""] if index else []) + [cell(str(c)) for c in df.columns]
    cols = [df.iloc[:, j] for j in range(df.shape[1])]
    numeric = ([False] if index else []) + [pd.api.types.is_numeric_dtype(c) or _all_numbers(c) for c in cols]
    body = ([[cell(str(i)) for i in df.index]] if index else []) + [
        column(c.tolist()) if pd.api.types.is_float_dtype(c) else [cell(v) for v in c.tolist()] for c in cols]
    rows = list(zip(*body)) if body else []
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---:" if n else ":---" for n in numeric) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _all_numbers(col: pd.Series) -> bool:
    """A text column of numbers as written for reading ("12.00", "< 2.2e-16"): right-aligned too."""
    return all(re.fullmatch(r"[<>]? ?[-+]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?", str(v).strip()) for v in col)


def _number(value: float, digits: int) -> str:
    if value != value:  # NaN: nothing to say in this cell (an F test for the residuals)
        return ""
    if value != 0 and abs(value) < 10.0**-digits:  # a difference at rounding level: shown, not 0
        return f"{value:.3g}"
    return np.format_float_positional(round(value, digits) + 0.0, trim="-")  # + 0.0: no "-0"


def plural(word: str) -> str:
    """An English plural for a column name in a label: Subjects, Batches, blends."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2].lower() not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def format_p(p: float) -> str:
    """A p-value as R's format.pval prints it."""
    if p != p:  # NaN
        return ""
    return "< 2.2e-16" if p < 2.2e-16 else f"{p:.3g}"


def format_boot_p(p: float, mc_se: float, nsim: int) -> str:
    """A bootstrap p-value with its Monte Carlo error; none of nsim reached the statistic: < 1/nsim."""
    if p == 0:
        return f"< {1 / nsim:.2g} (none of {nsim:,} simulated statistics reached the observed one)"
    return f"{p:.3f} +- {mc_se:.3f} (Monte Carlo SE, {nsim:,} data sets)"


def anova_table(spec: DataSpec, formulas: tuple, names: tuple, refit: bool = True) -> None:
    """The comparison as lme4's anova() prints it: text, made once per comparison (a dataframe
    element would be converted anew on every rerun). refit=False compares the REML fits."""
    code_text(get_anova_text(spec, formulas, names, refit))
    st.caption("lme4: refitting model(s) with ML (instead of REML)." if refit else
               "lme4's anova(..., refit = FALSE): the REML fits compared as they are (same fixed effects).")


def _fitted_or_stop(fit):
    """fit(), or its MixedModelError said in words and the end of this page's run (never a stack trace)."""
    try:
        return fit()
    except mmcore.BudgetError as err:  # its message already says what is too big and what to do
        st.error(str(err))
        stop()
    except mmcore.MixedModelError as err:
        st.error(f"This model cannot be fitted: {err}")
        stop()


def fit_or_stop(spec: DataSpec, formula: str, reml: bool = True) -> mmcore.LmmFit:
    """The fit, or a clear message and the end of this page's run. A large fit of a user's table runs
    in a worker process (lab/worker.py): a progress bar says how it is going."""
    bar = None

    def progress(text: str, share: float | None) -> None:
        nonlocal bar
        if bar is None:
            bar = st.progress(0.0, text=text)
        bar.progress(share or 0.0, text=text)

    try:
        return _fitted_or_stop(lambda: get_fit(spec, formula, reml, progress=progress))
    finally:
        if bar is not None:
            bar.empty()


def glmm_fit_or_stop(spec: DataSpec, formula: str, family: str, nagq: int = 1, link: str | None = None):
    """A generalized fit (glmer), or a clear message and the end of this page's run."""
    return _fitted_or_stop(lambda: get_glmm_fit(spec, formula, family, nagq, link))


def notes(fit) -> None:
    """Singular fits, convergence, dropped rows and columns, in plain words: a fit's messages (or the
    messages themselves, e.g. a step of a deletion sweep's)."""
    for message in getattr(fit, "messages", fit):
        (st.warning if "Singular" in message or "converge" in message or "separated" in message else st.info)(message)


POOLING_CHOICES = {"complete pooling": "complete", "no pooling": "none", "partial pooling": "partial"}


def pooling_pills(key: str, default: tuple = ("partial pooling",)) -> tuple[str, ...]:
    """Which kinds of pooling the lines view shows (in the URL as their names)."""
    chosen = st.pills("Show", list(POOLING_CHOICES), selection_mode="multi", default=list(default), **bind(key))
    return tuple(POOLING_CHOICES[c] for c in chosen or ())


def numbers_as_categories(data: pd.DataFrame, formula: str) -> tuple[str, ...]:
    """Fixed-effect columns that the model uses as categories but whose values are numbers: a CSV
    brings them back as numbers, so the exported code must declare them factors."""
    f = mmcore.parse_formula(formula)
    fixed = {v for term in f.fixed.terms for v in term}
    out = []
    for v in sorted(fixed):
        col = data[v] if v in data else None
        if col is not None and not pd.api.types.is_numeric_dtype(col):
            if pd.to_numeric(col.dropna().astype(str), errors="coerce").notna().all():
                out.append(v)
    return tuple(out)


def code_export(formula: str, spec: DataSpec, reml: bool = True, compare_with: str | None = None,
                family: str = "gaussian", nagq: int = 1, link: str | None = None) -> None:
    """The same model in R (lme4), Python (statsmodels) and mmcore, and the data on screen as CSV
    (after any deletion or rescaling the page made: then the code reads that CSV, not the package's
    data set). compare_with: a smaller model, for lme4's anova() between the two."""
    name = None if spec.simulated or spec.transform or spec.dataset == UPLOAD else spec.dataset
    csv_name = f"{spec.dataset if spec.dataset not in (SIMULATE, UPLOAD) else 'your_data' if spec.dataset == UPLOAD else 'simulated'}.csv"
    if spec.transform:
        csv_name = csv_name.replace(".csv", "_edited.csv")
    def blocks() -> list[tuple[str, str, str]]:
        if family != "gaussian":
            return [("**R (lme4, MASS)**", "r", codegen.glmer_code(formula, name, family, nagq, link, csv_name)),
                    ("**Python**", "python", codegen.glmm_python_code(formula, family, name, nagq, link, csv_name))]
        factors = numbers_as_categories(get_data(spec), formula)
        r = (codegen.r_comparison_code(compare_with, formula, name, csv_name) if compare_with
             else codegen.r_code(formula, name, reml, csv_name, factors))
        return [("**R (lme4)**", "r", r),
                ("**Python (statsmodels)**", "python", codegen.statsmodels_code(formula, reml, csv_name, factors)),
                ("**Python (mmcore)**", "python", codegen.mmcore_code(formula, name, reml, csv_name, factors))]

    code_blocks("Code: this model in R (glmer, glmmPQL) and Python (mmcore, statsmodels' GEE)" if family != "gaussian"
                else "Code: this model in R, statsmodels and mmcore", blocks, key="code_export",
                data=(spec, csv_name, f"download_{formula}"))


def code_blocks(label: str, blocks, key: str = "code_page", data: tuple | None = None) -> None:
    """An expander of code in R and Python, drawn only when opened: blocks() -> [(heading, language,
    code)] is called only then, and its fenced blocks are coloured by Streamlit's syntax highlighter,
    which the browser would otherwise fetch and run (~0.2 s) before the page's first chart
    (lab/code.py). data: (spec, file name, key) for a button that downloads the data on screen as
    CSV (made on click only)."""
    box = st.expander(label, key=key, on_change="rerun")
    with box:
        if not box.open:
            return
        # one element, several highlighted blocks: every element costs the server on every rerun
        st.markdown("\n".join(f"{heading}\n```{language}\n{code}```" for heading, language, code in blocks()))
        if data is not None:
            spec, file_name, button = data
            st.download_button("Download the data on screen (CSV)", lambda: get_data(spec).to_csv(index=False).encode(),
                               file_name=file_name, mime="text/csv", key=button)


def truth_table(truth: dict, mapping: dict, heading: str | None = None) -> None:
    """Estimates beside the truth they were drawn from, as a small Markdown table (a dataframe
    element costs more per rerun than the fits behind it). mapping: label -> (truth key, estimate).
    heading: a line above the table, in the same element (each element costs every press: issue 16)."""
    rows = [f"| {label} | {float(truth[key]):.3f} | {float(est):.3f} |" for label, (key, est) in mapping.items()
            if key in truth]
    st.markdown(_headed(heading, "\n".join(["| parameter | truth | estimate |", "|---|---:|---:|", *rows])))


def styled(fig, scale_: float):
    """House style for a figure a page builds itself (not from the shared cache)."""
    return _styled(fig, scale_)


ADVICE = {  # what a response holds -> which model fits it
    "binary": "A binary response needs a generalized linear mixed model: choose 'binomial (0/1)' as the response "
              "distribution (a logistic mixed model, as lme4's `glmer(..., family = binomial)`). A linear model "
              "treats 0 and 1 as numbers on a line: its predictions can fall below 0 or above 1.",
    "count": "If these are counts, a generalized linear mixed model fits them better: choose 'Poisson (counts)' as the "
             "response distribution (lme4's `glmer(..., family = poisson)`). A linear model lets predictions fall "
             "below 0 and gives every count the same spread.",
    "text": "A mixed model here needs a numeric response (a two-valued text response: code it 0/1 and use the "
            "binomial model). Ordered categories need an ordinal mixed model (R's ordinal::clmm), unordered ones a "
            "multinomial model; neither is in this app.",
    "constant": "A response with one value has nothing to explain: choose another column.",
}


def response_advice(column: str, kind: str, values) -> None:
    """What a response that is not a continuous measurement holds, and which model fits it; with a link
    to the lesson on generalized models once the course has one (lab.course.GLMM_LESSON)."""
    if kind not in ADVICE:
        return
    shown = ", ".join(map(str, sorted(pd.unique(values.dropna()), key=str)[:4]))
    what = {"binary": "has two values", "count": "holds small whole numbers", "text": "is text",
            "constant": "has one value"}[kind]
    st.warning(f"**{column}** {what} ({shown}{', ...' if values.nunique() > 4 else ''}). {ADVICE[kind]}")
    lesson = course.glmm_lesson()
    if lesson is not None and kind in ("binary", "count"):
        course.page_link(lesson[0], f"The lesson on these models: {lesson[1]}", lesson[2])
