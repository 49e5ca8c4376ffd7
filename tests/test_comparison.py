"""Model comparison and under the hood: the numbers against lme4, and the textbook formulas."""
import numpy as np
import pytest

from mmcore import fit, list_datasets, load_dataset
from mmcore.inference.variance import lm_coefficients, mixture_p
from mmcore.lessons.matrices import engine_blups, marginal
from mmcore.model.explain import describe, variance_parameters
from tests.conftest import REFERENCE
from tests.shown import codes, tables
from tests.test_pages import clean, run


@pytest.mark.parametrize("name", ["sleepstudy", "pastes", "penicillin_lme4", "penicillin", "dyestuff", "estrone"])
def test_gls_and_blup_formulas_agree_with_the_engine(name):
    f = fit(list_datasets()[name].formula, load_dataset(name))
    m = marginal(f)
    assert np.max(np.abs(m["beta"] - f.beta)) < 1e-6
    assert np.max(np.abs(m["blup"] - engine_blups(f))) < 1e-6
    assert np.allclose(m["V"], m["V"].T) and np.all(np.linalg.eigvalsh(m["V"]) > 0)


@pytest.mark.parametrize("formula,params", [("y ~ x + (1|g)", 2), ("y ~ x + (x|g)", 4), ("y ~ x + (x||g)", 3),
                                            ("y ~ 1 + (1|a/b)", 3), ("y ~ 1 + (1|a) + (1|b)", 3)])
def test_variance_parameter_counts(formula, params):
    assert variance_parameters(formula) == params
    assert describe(formula)[-1].endswith(f"= {params}.")


def test_mixture_p_values():
    assert mixture_p(0.0, 1) == pytest.approx(1.0)
    assert mixture_p(2.71, 1) == pytest.approx(0.05, abs=1e-3)  # half of chi-square(1)'s 0.0998
    assert mixture_p(5.14, 2) == pytest.approx(0.05, abs=2e-3)  # the classic 5.14 critical value


def test_lm_coefficients_equal_r():
    # R 4.x: summary(lm(yield ~ treat + blend, penicillin))$coefficients (datasets/penicillin.csv)
    c = lm_coefficients("yield ~ treat + blend", load_dataset("penicillin"))
    assert list(c.index) == ["(Intercept)", "treatB", "treatC", "treatD",
                             "blendBlend2", "blendBlend3", "blendBlend4", "blendBlend5"]
    assert c["Estimate"].tolist() == pytest.approx([90, 1, 5, 2, -9, -7, -4, -10], abs=1e-9)
    assert c.loc["treatB", "Std. Error"] == pytest.approx(2.744691847, abs=1e-8)
    assert c.loc["blendBlend5", "Std. Error"] == pytest.approx(3.068658773, abs=1e-8)
    assert c.loc["treatC", "Pr(>|t|)"] == pytest.approx(0.09350596716, abs=1e-9)
    assert c.loc["blendBlend2", "t value"] == pytest.approx(-2.9328774116, abs=1e-8)


def test_page_blocks_fixed_or_random_shows_the_same_treatment_effects():
    """The lm table uses lmer's (R's default) treatment contrasts, so what the text calls the same is
    visibly the same: the treat coefficients and their standard errors."""
    at = run("pages/model_comparison.py")
    clean(at)
    mixed = fit("yield ~ treat + (1 | blend)", load_dataset("penicillin"))
    table = next(t for t in tables(at) if "Estimate" in t.columns)
    assert list(table.index) == ["(Intercept)", "treatB", "treatC", "treatD",
                                 "blendBlend2", "blendBlend3", "blendBlend4", "blendBlend5"]
    treats = [n for n in mixed.fixef.index if n != "(Intercept)"]
    shown = table.loc[treats, "Estimate"].astype(float).to_numpy()
    assert np.max(np.abs(shown - mixed.fixef[treats].to_numpy())) < 1e-6
    assert np.max(np.abs(table.loc[treats, "Std. Error"].astype(float).to_numpy() - mixed.se[treats].to_numpy())) < 1e-3
    lm = lm_coefficients("yield ~ treat + blend", load_dataset("penicillin"))
    assert np.max(np.abs(lm.loc[treats, "Estimate"].to_numpy() - mixed.fixef[treats].to_numpy())) < 1e-6
    assert np.max(np.abs(lm.loc[treats, "Std. Error"].to_numpy() - mixed.se[treats].to_numpy())) < 1e-6
    text = next(m.value for m in at.markdown if m.value.startswith("**The same:**"))
    assert "treatB = 1, treatC = 5, treatD = 2" in text and "(2.745)" in text and "1.239 on 3 and 12 df" in text
    assert "sum-to-zero" not in " ".join(c.value for c in at.caption).lower()


@pytest.mark.parametrize("pair", [0, 1])
def test_page_anova_equals_lme4(pair):
    ref = REFERENCE["lrt"][pair]
    key = ["penicillin: does the process (treat) matter?", "sleepstudy: do drivers differ in their slopes?"][pair]
    at = run("pages/model_comparison.py", mc_pair=key)
    clean(at)
    printed = next(c for c in codes(at) if c.startswith("Models:"))  # as lme4 prints anova()
    m0, m1 = (line.split() for line in printed.splitlines() if line.startswith(("m0 ", "m1 ")))
    assert float(m1[6]) == pytest.approx(ref["chisq"], abs=1e-4) and int(m1[7]) == ref["df"]
    assert float(m0[4]) == pytest.approx(ref["loglik0"], abs=0.005)


def test_page_bootstrap_penicillin_agrees_with_the_lecture_notes():
    at = run("pages/model_comparison.py")
    at.button(key="mc_run").click().run()
    clean(at)
    text = next(m.value for m in at.markdown if "Bootstrap p-value" in m.value)
    p = float(text.split("**")[1].split()[0])
    assert abs(p - 0.36) < 3 * np.sqrt(0.36 * 0.64 / 1000)


def test_page_own_models_and_a_bad_formula():
    at = run("pages/model_comparison.py", mc_pair="two models of my own", mc_data="sleepstudy",
             mc_f0="Reaction ~ Days + (1 | Subject)", mc_f1="Reaction ~ Days + (Days || Subject)")
    clean(at)
    assert any("50:50 mixture" in m.value for m in at.markdown)
    at = run("pages/model_comparison.py", mc_pair="two models of my own", mc_data="sleepstudy",
             mc_f0="Reaction ~ Days + (1 | Subject)", mc_f1="Reaction ~ __import__('os') + (1 | Subject)")
    assert not at.exception and at.error and "function call" in at.error[0].value


@pytest.mark.parametrize("choice", ["random intercept: (1 | Subject)", "correlated intercept and slope: (Days | Subject)",
                                    "uncorrelated intercept and slope: (Days || Subject)", "slope only: (0 + Days | Subject)",
                                    "nested: (1 | batch/cask)", "nested, written out: (1 | batch) + (1 | batch:cask)",
                                    "crossed: (1 | plate) + (1 | sample)"])
def test_every_explorer_formula_fits_and_matches_its_formulas(choice):
    at = run("pages/under_the_hood.py", uh_formula=choice)
    clean(at)
    text = next(m.value for m in at.markdown if "largest difference" in m.value)
    assert float(text.split("**")[1]) < 1e-6


def test_explorer_typed_formula_errors_are_messages():
    at = run("pages/under_the_hood.py", uh_formula="a formula I type", uh_data="sleepstudy",
             uh_text="Reaction ~ Days + (Days | Subjct)")
    assert not at.exception and "not a column" in at.error[0].value
