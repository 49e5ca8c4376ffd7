"""Lesson 13: under the hood. lme4 formulas in words, and the matrices of y = X beta + Z b + e,
with the GLS and BLUP formulas computed from V and set beside the engine's answers."""
import numpy as np
import pandas as pd
import streamlit as st

import lab
import mmcore
from mmcore import figures
from mmcore.figures import fig_matrix
from mmcore.figures.model import TEXT_CELLS
from mmcore.lessons.matrices import engine_blups
from mmcore.model.explain import describe, variance_parameters

EXPLORER = {
    "random intercept: (1 | Subject)": ("sleepstudy", "Reaction ~ Days + (1 | Subject)"),
    "correlated intercept and slope: (Days | Subject)": ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    "uncorrelated intercept and slope: (Days || Subject)": ("sleepstudy", "Reaction ~ Days + (Days || Subject)"),
    "slope only: (0 + Days | Subject)": ("sleepstudy", "Reaction ~ Days + (0 + Days | Subject)"),
    "nested: (1 | batch/cask)": ("pastes", "strength ~ 1 + (1 | batch/cask)"),
    "nested, written out: (1 | batch) + (1 | batch:cask)": ("pastes", "strength ~ 1 + (1 | batch) + (1 | batch:cask)"),
    "crossed: (1 | plate) + (1 | sample)": ("penicillin_lme4", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    "a formula I type": None,
}


lab.page_start()
st.title("Under the hood")
st.subheader("lme4 formulas, in words")
choice = st.selectbox("Formula", list(EXPLORER), **lab.bind("uh_formula"))
if EXPLORER[choice] is None:
    c1, c2 = st.columns([1, 2])
    dataset = c1.selectbox("Data", ["sleepstudy", "pastes", "penicillin_lme4", "penicillin", "dyestuff"],
                           **lab.bind("uh_data"))
    start = mmcore.list_datasets()[dataset].formula
    formula = c2.text_input("lme4 formula", start, **lab.bind("uh_text", reset_when=dataset, reset_to=start))
else:
    dataset, formula = EXPLORER[choice]
spec = lab.DataSpec(dataset)
try:
    words = describe(formula)
except mmcore.FormulaError as err:
    st.error(str(err))
    lab.stop()
lab.code_text(formula)
st.markdown("\n".join(f"- {line}" for line in words))
fit = lab.fit_or_stop(spec, formula)
lab.notes(fit)
lab.code_export(formula, spec)
c1, c2 = st.columns([3, 2])
with c1:
    lab.show(lab.get_figure(figures.fig_design, spec, formula, scale=lab.scale(), options=(("which", "Z"),)), key="uh_z")
with c2:
    st.metric("variance parameters", variance_parameters(formula))
    lab.table(fit.varcorr, 4, hide_index=True)
    st.caption(f"Groups: {', '.join(f'{g} ({n})' for g, n in fit.ngroups.items())}. Z has one column per level of each "
               "grouping factor (and per random slope).")

st.subheader("The matrices of this model")
st.latex(r"\mathbf y = X\boldsymbol\beta + Z\mathbf b + \boldsymbol\varepsilon,\quad \mathbf b \sim N(0, D),\ "
         r"D = \sigma^2\Lambda\Lambda^\top,\quad V = \operatorname{Var}(\mathbf y) = Z D Z^\top + \sigma^2 I")
try:
    mats = lab.get_matrices(spec, formula)
except mmcore.MixedModelError as err:
    st.info(str(err))
    lab.stop()
tabs = st.tabs(["X", "Lambda", "D", "V"], **lab.bind("uh_tab"))
# Lambda and D of one term are the same small block once per group: its first groups, few enough
# for their values to be written in the cells, show all there is (other models: up to 60 columns)
q, size = len(fit.re_cov[0][1]), len(mats["z_names"])
shown = (TEXT_CELLS // q) * q if len(fit.re_cov) == 1 and size > TEXT_CELLS else min(size, 60)
part = f" (first {shown} of {size} columns)" if shown < size else ""
signs = ("Blue above 0, vermillion below, white at 0: an entry's colour shows its sign and size"
         + (f"; the same {q} x {q} block repeats for every group, the first {shown // q} of {size // q} groups are shown."
            if shown < size and len(fit.re_cov) == 1 else "."))
with tabs[0]:
    lab.show(lab.styled(fig_matrix(mats["X"], mats["x_names"], "X"), lab.scale()), key="uh_X")
with tabs[1]:
    lab.show(lab.styled(fig_matrix(mats["Lambda"][:shown, :shown], mats["z_names"][:shown],
                                   "Lambda: relative covariance factor" + part, mats["z_names"][:shown], signed=True),
                        lab.scale()), key="uh_L")
    st.caption(signs)
with tabs[2]:
    lab.show(lab.styled(fig_matrix(mats["D"][:shown, :shown], mats["z_names"][:shown], "D = σ² Λ Λᵀ" + part,
                                   mats["z_names"][:shown], signed=True), lab.scale()), key="uh_D")
    st.caption(signs)
with tabs[3]:
    n = min(len(mats["V"]), 120)
    lab.show(lab.styled(fig_matrix(mats["V"][:n, :n], list(range(1, n + 1)), "V = Z D Zᵀ + σ² I"),
                      lab.scale()), key="uh_V")
    st.caption("V is block diagonal when there is one grouping factor: rows of different groups are uncorrelated.")

st.subheader("The textbook formulas, computed from V")
st.latex(r"\hat{\boldsymbol\beta} = (X^\top V^{-1}X)^{-1}X^\top V^{-1}\mathbf y,\qquad "
         r"\hat{\mathbf b} = E(\mathbf b\mid\mathbf y) = D Z^\top V^{-1}(\mathbf y - X\hat{\boldsymbol\beta})")
gls = pd.DataFrame({"GLS from V": mats["beta"], "engine (lme4's PLS)": fit.beta,
                    "difference": mats["beta"] - fit.beta}, index=mats["x_names"])
lab.table(gls, 4)
blup_diff = float(np.max(np.abs(mats["blup"] - engine_blups(fit))))
st.markdown(
    f"The BLUP formula gives all {len(mats['blup'])} random effects; the largest difference from the engine's conditional "
    f"modes is **{blup_diff:.1e}**. The engine never forms V (an n x n matrix): it solves lme4's penalized least "
    "squares with the small blocks of Z'Z, which is why it is fast, and these formulas show it is the same model."
)
lab.page_end()
