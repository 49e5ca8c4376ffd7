"""The elements pages share: tables, figures, fit notes, the pooling pills, the estimates beside
the truth, and the code export. Streamlit only; the content comes from mmcore and lab.cache."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import mmcore
from lab.cache import SIMULATE, UPLOAD, DataSpec, get_anova_text, get_data, get_fit, get_glmm_fit
from lab.links import bind
from mmcore.figures import styled as _styled
from mmcore.lessons import codegen


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


def glmm_fit_or_stop(spec: DataSpec, formula: str, family: str, nagq: int = 1, link: str | None = None):
    """A generalized fit (glmer), or a clear message and the end of this page's run."""
    try:
        return get_glmm_fit(spec, formula, family, nagq, link)
    except mmcore.MixedModelError as err:
        st.error(f"This model cannot be fitted: {err}")
        st.stop()


def show(fig, key: str | None = None) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


def notes(fit: mmcore.LmmFit) -> None:
    """Singular fits, convergence, dropped rows and columns, in plain words."""
    for message in fit.messages:
        (st.warning if "Singular" in message or "converge" in message or "separated" in message else st.info)(message)


POOLING_CHOICES = {"complete pooling": "complete", "no pooling": "none", "partial pooling": "partial"}


def pooling_pills(key: str) -> tuple[str, ...]:
    """Which kinds of pooling the lines view shows (in the URL as their names)."""
    chosen = st.pills("Show", list(POOLING_CHOICES), selection_mode="multi", default=["partial pooling"], **bind(key))
    return tuple(POOLING_CHOICES[c] for c in chosen or ())


def code_export(formula: str, spec: DataSpec, reml: bool = True, family: str = "gaussian", nagq: int = 1,
                link: str | None = None) -> None:
    """The same model in R (lme4), Python (statsmodels) and mmcore, and the data as CSV."""
    name = None if spec.simulated or spec.transform or spec.dataset == UPLOAD else spec.dataset
    csv_name = f"{spec.dataset if spec.dataset not in (SIMULATE, UPLOAD) else 'your_data' if spec.dataset == UPLOAD else 'simulated'}.csv"
    if family != "gaussian":
        with st.expander("Code: this model in R (glmer, glmmPQL) and Python (mmcore, statsmodels' GEE)"):
            st.markdown(f"**R (lme4, MASS)**\n```r\n{codegen.glmer_code(formula, name, family, nagq, link, csv_name)}```\n"
                        f"**Python**\n```python\n{codegen.glmm_python_code(formula, family, name, nagq, link, csv_name)}```")
            st.download_button("Download the data on screen (CSV)", lambda: get_data(spec).to_csv(index=False).encode(),
                               file_name=csv_name, mime="text/csv", key=f"download_{formula}")
        return
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


def styled(fig, scale_: float):
    """House style for a figure a page builds itself (not from the shared cache)."""
    return _styled(fig, scale_)
