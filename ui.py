"""Streamlit-only helpers shared by the pages: the sidebar (data source and the truth's sliders),
cached data, fits and figures, plain-language notes, code export. mmcore never imports this.

Caching of data, fits and figures lives in labcache.py (shared by every session; re-exported here).
"""
from __future__ import annotations

import zlib

import pandas as pd
import streamlit as st

import mmcore
from labcache import (SIMULATE, UPLOAD, DataSpec, get_anova_text, get_comparison, get_components_figure,  # noqa: F401
                      get_curves, get_curves_figure, get_data, get_figure, get_fit, get_matrices, get_predictions,
                      get_shrinkage_table, register_upload)
from mmcore import codegen
from mmcore.plotting import styled as _styled


# The course, in the order the lecture notes teach it: (file, title, icon, one-line goal).
# The first six are the core lessons; the rest go further.
CORE = 6
LESSONS = [
    ("pages/fixed_or_random.py", "1 Fixed or random?", ":material/help:",
     "Tell fixed from random effects in real designs, and say why"),
    ("pages/random_intercepts.py", "2 Random intercepts", ":material/stacked_line_chart:",
     "Groups that start at different levels: y = X beta + Z b + e, pooling, BLUPs"),
    ("pages/icc.py", "3 Intraclass correlation", ":material/pie_chart:",
     "How much of the variance lies between groups, with an honest interval and test"),
    ("pages/random_slopes.py", "4 Random slopes", ":material/show_chart:",
     "Groups that change at different rates: correlated and uncorrelated slopes"),
    ("pages/shrinkage.py", "5 Shrinkage", ":material/compress:",
     "Partial pooling: why each group's estimate leans toward the population"),
    ("pages/ml_vs_reml.py", "6 ML vs REML", ":material/balance:",
     "Two criteria, two answers: why REML for variances and ML for fixed-effect tests"),
    ("pages/model_comparison.py", "7 Model comparison", ":material/compare_arrows:",
     "Likelihood-ratio tests, the parametric bootstrap, the boundary, blocks fixed or random"),
    ("pages/under_the_hood.py", "8 Under the hood", ":material/build:",
     "Formulas in words, and X, Z, Lambda, V: the GLS and BLUP formulas checked against the fit"),
    ("pages/your_data.py", "Your own data", ":material/upload_file:",
     "Upload a CSV, build a model from menus, see every view of it"),
]
TUTORIAL = ("pages/tutorial.py", "The course, step by step", ":material/school:")

# Each dataset's random-intercept model: the lessons on intercepts, shrinkage and ML vs REML share it.
INTERCEPT_MODELS = {
    "sleepstudy": "Reaction ~ Days + (1 | Subject)",
    "penicillin": "yield ~ treat + (1 | blend)",
    "estrone": "Estrone ~ 1 + (1 | Subject)",
    "dyestuff": "Yield ~ 1 + (1 | Batch)",
}


def intercept_model(spec: DataSpec, covariate: bool = True) -> str:
    """The random-intercept model for the chosen data; simulated data with or without their x."""
    if spec.simulated:
        return "y ~ x + (1 | group)" if covariate else "y ~ 1 + (1 | group)"
    return INTERCEPT_MODELS[spec.dataset]


# The truth's sliders: name -> (label, min, max, default, step)
TRUTHS = {
    "intercepts": {
        "n_groups": ("number of groups", 2, 60, 10, 1),
        "n_per_group": ("observations per group", 2, 30, 8, 1),
        "beta0": ("intercept beta0", 0.0, 500.0, 250.0, 5.0),
        "beta1": ("slope beta1", -30.0, 30.0, 10.0, 0.5),
        "sigma_b": ("between-group SD sigma_b", 0.0, 100.0, 30.0, 1.0),
        "sigma": ("residual SD sigma", 1.0, 100.0, 25.0, 1.0),
    },
    "shrinkage": {
        "n_groups": ("number of groups", 2, 40, 10, 1),
        "n_per_group": ("observations per group", 1, 30, 3, 1),
        "ratio": ("sigma_b / sigma", 0.0, 3.0, 0.5, 0.05),
        "sigma": ("residual SD sigma", 1.0, 50.0, 20.0, 1.0),
    },
    "icc": {
        "icc": ("ICC (the truth)", 0.0, 0.95, 0.5, 0.05),
        "n_groups": ("number of groups", 2, 50, 10, 1),
        "n_per_group": ("group size J", 2, 50, 10, 1),
    },
    "slopes": {
        "n_groups": ("number of groups", 3, 60, 18, 1),
        "n_per_group": ("observations per group", 3, 20, 10, 1),
        "beta0": ("intercept beta0", 0.0, 500.0, 250.0, 5.0),
        "beta1": ("slope beta1", -30.0, 30.0, 10.0, 0.5),
        "sigma_b0": ("SD of intercepts sigma_b0", 0.0, 60.0, 25.0, 1.0),
        "sigma_b1": ("SD of slopes sigma_b1", 0.0, 20.0, 6.0, 0.5),
        "rho": ("correlation rho", -1.0, 1.0, 0.0, 0.05),
        "sigma": ("residual SD sigma", 1.0, 60.0, 25.0, 1.0),
    },
}


def table(df: pd.DataFrame, digits: int = 4, **kwargs) -> None:
    """A table rounded for reading. No pandas Styler: it costs tens of ms per rerun."""
    st.dataframe(df.round(digits), **kwargs)


def format_p(p: float) -> str:
    """A p-value as R's format.pval prints it."""
    if p != p:  # NaN
        return ""
    return "< 2.2e-16" if p < 2.2e-16 else f"{p:.3g}"


def anova_table(spec: DataSpec, formulas: tuple, names: tuple) -> None:
    """The comparison as lme4's anova() prints it: text, made once per comparison (a dataframe
    element would be converted anew on every rerun)."""
    st.code(get_anova_text(spec, formulas, names), language="text")
    st.caption("lme4: refitting model(s) with ML (instead of REML).")


def fit_or_stop(spec: DataSpec, formula: str, reml: bool = True) -> mmcore.LmmFit:
    """The fit, or a clear message and the end of this page's run (never a stack trace)."""
    try:
        return get_fit(spec, formula, reml)
    except mmcore.MixedModelError as err:
        st.error(f"This model cannot be fitted: {err}")
        st.stop()


def show(fig, key: str | None = None) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


def scale() -> float:
    """Figure scale: 1, or larger in presenter mode."""
    return 1.6 if st.session_state.get("present") else 1.0


def notes(fit: mmcore.LmmFit) -> None:
    """Singular fits, convergence, dropped rows and columns, in plain words."""
    for message in fit.messages:
        (st.warning if "Singular" in message or "converge" in message else st.info)(message)


def sidebar_data(page: str, datasets: list[str], simulator: str) -> DataSpec:
    """The shared sidebar: dataset (or simulate), and the truth's sliders, seed and new sample."""
    sb = st.sidebar
    options = datasets + [SIMULATE]
    key = f"{page}_dataset"
    chosen = sb.selectbox("Data", options, help="A real data set, or 'simulate': data drawn from a truth you set",
                          **bind(key))
    if chosen != SIMULATE:
        info = mmcore.list_datasets()[chosen]
        sb.caption(f"**{info.title}.** {info.description}")
        return DataSpec(chosen)
    sb.markdown("**The truth** (what the simulation draws from)")
    params = {}
    for name, (label, lo, hi, default, step) in TRUTHS[simulator].items():
        params[name] = sb.slider(label, lo, hi, default, step, **bind(f"{page}_{name}"))
    seed_key = f"{page}_seed"
    if sb.button("New sample", key=f"{page}_new", help="Draw new data from the same truth"):
        st.session_state[seed_key] = int(st.session_state.get(seed_key, 1)) + 1
    seed = sb.number_input("seed", 0, 10**6, 1, step=1, **bind(seed_key))
    return DataSpec(SIMULATE, simulator, tuple(sorted(params.items())), int(seed))


POOLING_CHOICES = {"complete pooling": "complete", "no pooling": "none", "partial pooling": "partial"}


def pooling_pills(key: str) -> tuple[str, ...]:
    """Which kinds of pooling the lines view shows (in the URL as their names)."""
    chosen = st.pills("Show", list(POOLING_CHOICES), selection_mode="multi", default=["partial pooling"], **bind(key))
    return tuple(POOLING_CHOICES[c] for c in chosen or ())


def code_export(formula: str, spec: DataSpec, reml: bool = True) -> None:
    """The same model in R (lme4), Python (statsmodels) and mmcore, and the data as CSV."""
    name = None if spec.simulated or spec.transform or spec.dataset == UPLOAD else spec.dataset
    csv_name = f"{spec.dataset if spec.dataset not in (SIMULATE, UPLOAD) else 'your_data' if spec.dataset == UPLOAD else 'simulated'}.csv"
    with st.expander("Code: this model in R, statsmodels and mmcore"):
        # one element, three highlighted blocks: every element costs the server on every rerun
        st.markdown(f"**R (lme4)**\n```r\n{codegen.r_code(formula, name, reml, csv_name)}```\n"
                    f"**Python (statsmodels)**\n```python\n{codegen.statsmodels_code(formula, reml, csv_name)}```\n"
                    f"**Python (mmcore)**\n```python\n{codegen.mmcore_code(formula, name, reml, csv_name)}```")
        st.download_button("Download the data on screen (CSV)", lambda: get_data(spec).to_csv(index=False).encode(),
                           file_name=csv_name, mime="text/csv", key=f"download_{formula}")  # made on click only


def truth_table(truth: dict, mapping: dict) -> None:
    """Estimates beside the truth they were drawn from, as a small Markdown table (a dataframe
    element costs more per rerun than the fits behind it). mapping: label -> (truth key, estimate)."""
    rows = [f"| {label} | {float(truth[key]):.3f} | {float(est):.3f} |" for label, (key, est) in mapping.items()
            if key in truth]
    st.markdown("\n".join(["| parameter | truth | estimate |", "|---|---:|---:|", *rows]))


def url_path(path: str) -> str:
    """A page's URL: its file name with hyphens (pages/random_intercepts.py -> random-intercepts)."""
    return path.split("/")[-1].removesuffix(".py").replace("_", "-")


def page_link(path: str, label: str, icon: str | None = None) -> None:
    """st.page_link inside the app; a plain link when a page runs on its own (AppTest)."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.page_link(path, label=label, icon=icon)
    except StreamlitAPIException:
        st.markdown(f"- [{label}](/{url_path(path)})")


def run_with_progress(label: str, task, **kwargs):
    """Run a simulation or bootstrap with a progress bar (task takes a progress(done, total) callback)."""
    bar = st.progress(0.0, text=label)
    result = task(progress=lambda done, total: bar.progress(min(done / total, 1.0), text=f"{label}: {done:,} of {total:,}"),
                  **kwargs)
    bar.empty()
    return result


def run_on_click(key: str, params: tuple, button: str, button_key: str, task, label: str = "Simulating",
                 primary: bool = True, **kwargs):
    """An explicitly started simulation or bootstrap: its result for these parameters, computed (with
    a progress bar) when the button is pressed and remembered for later reruns; None before."""
    result = remembered(key, params)
    if st.button(button, key=button_key, type="primary" if primary else "secondary"):
        result = run_with_progress(label, task, **kwargs)
        remember(key, params, result)
    return result


def remembered(key: str, params: tuple):
    """A result stored by an explicit run, if it was run with these parameters."""
    stored = st.session_state.get(f"result:{key}")
    return stored[1] if stored and stored[0] == params else None


def remember(key: str, params: tuple, result) -> None:
    st.session_state[f"result:{key}"] = (params, result)  # own prefix: never a widget's key


def styled(fig, scale_: float):
    """House style for a figure a page builds itself (not from the shared cache)."""
    return _styled(fig, scale_)


# -- shareable state, presenter mode, guided paths -------------------------------------------------
PRESENTER_CSS = """<style>
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2rem; padding-right: 2rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.45rem; line-height: 1.5; }
h1 { font-size: 3.4rem !important; } h2, h3 { font-size: 2.3rem !important; }
[data-testid="stWidgetLabel"] p { font-size: 1.25rem !important; }
code { font-size: 1.15rem !important; }
</style>"""


def bind(key: str) -> dict:
    """Widget arguments that keep its value in the URL: a link reproduces the view."""
    st.session_state.setdefault("_bound", [])
    if key not in st.session_state["_bound"]:
        st.session_state["_bound"].append(key)
    return dict(key=key, bind="query-params")


def page_start() -> None:
    """Call first on every page: remembers the URL's parameters (a widget drops the ones it cannot
    use, silently) and sets up presenter mode, a sidebar toggle or ?present=1."""
    incoming = {k: st.query_params.get_all(k) for k in st.query_params}
    if "present" not in st.session_state and incoming.get("present", [""])[-1].lower() in ("1", "yes", "on"):
        st.session_state["present"] = True  # ?present=1, as a lecturer would type it (the toggle reads 'true')
        incoming["present"] = ["true"]
    st.session_state["_incoming"] = incoming
    st.session_state["_bound"] = []
    st.sidebar.toggle("Presenter mode", help="Large fonts and figures for a projector; long explanations folded",
                      **bind("present"))
    if st.session_state.get("present"):
        st.html(PRESENTER_CSS)


def _as_text(value) -> list[str]:
    values = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in values:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return out


def _same(given: list[str], value) -> bool:
    try:
        return [float(g) for g in given] == [float(v) for v in _as_text(value)]
    except ValueError:
        return [g.lower() for g in given] == [v.lower() for v in _as_text(value)]


def page_end() -> None:
    """Call last: a note on link parameters that were ignored, and the link to this view."""
    incoming = st.session_state.get("_incoming", {})
    bound = st.session_state.get("_bound", [])
    unknown = [k for k in incoming if k not in bound]
    invalid = [k for k in incoming if k in bound and not _same(incoming[k], st.session_state.get(k))]
    if unknown or invalid:
        parts = ([f"unknown: {', '.join(unknown)}"] if unknown else []) + \
                ([f"not valid here: {', '.join(invalid)}"] if invalid else [])
        st.sidebar.caption(f"Some link settings were ignored ({'; '.join(parts)}).")
    query = "&".join(f"{k}={v}" for k in bound if k in st.session_state for v in _as_text(st.session_state[k]))
    base = (st.context.url or "").split("?")[0]
    st.sidebar.caption("Link to this view:")
    st.sidebar.code(f"{base}?{query}" if query else base, language=None, wrap_lines=True)


def explain(text: str, title: str = "Explanation") -> None:
    """A long explanation: shown, or folded in presenter mode."""
    if st.session_state.get("present"):
        with st.expander(title):
            st.markdown(text)
    else:
        st.markdown(text)


def steps(items: list[str]) -> None:
    """The guided path: numbered steps, what to do and what to notice."""
    with st.expander("Guided path: what to do, what to notice", expanded=not st.session_state.get("present")):
        st.markdown("\n".join(f"{i}. {item}" for i, item in enumerate(items, 1)))


def quiz(page: str, questions) -> None:
    """Checks of understanding with immediate feedback; a lesson is completed when all are right."""
    st.subheader("Check your understanding")
    right = 0
    for q in questions:
        # the options depend on the data on screen: a new set of options is a new question
        choice = st.radio(q.text, q.options, index=None, key=f"quiz_{q.key}_{zlib.crc32('|'.join(q.options).encode())}")
        if choice is None:
            continue
        if choice == q.answer:
            right += 1
            st.success(f"Right. {q.why}")
        else:
            st.error(f"Not quite: the answer is **{q.answer}**. {q.why}")
    done = st.session_state.setdefault("completed", {})
    if right == len(questions):
        done[page] = True
    if done.get(page):
        st.caption("Lesson completed in this session.")
