"""Crossed and many-level models: lme4's InstEval optimum, the sparse blocked Cholesky against a dense
textbook criterion, and the resource budget (formula terms, fixed-effect columns, a fit's size)
refused before any work is done."""
import json
import re

import numpy as np
import pandas as pd
import pytest

import mmcore
from mmcore import Budget, BudgetError, FormulaError, fit, load_dataset
from mmcore.lmm.budget import estimate
from mmcore.lmm.deviance import ProfiledDeviance
from mmcore.model import design, formula
from mmcore.model.design import build_model_data
from tests.conftest import ROOT
from tests.textbook import textbook

REF = json.loads((ROOT / "tests" / "reference" / "insteval.json").read_text())
INSTEVAL = "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)"


@pytest.fixture(scope="module")
def insteval():
    return load_dataset("insteval")


@pytest.mark.parametrize("reml", [True, False])
def test_insteval_reaches_lme4s_optimum(insteval, reml):
    ref = REF["fits"]["REML" if reml else "ML"]
    m = fit(INSTEVAL, insteval, reml=reml)
    assert m.converged
    assert m.deviance == pytest.approx(ref["criterion"], abs=2e-6)
    assert np.allclose(m.theta, ref["theta"], atol=2e-5)
    assert np.allclose(m.fixef.to_numpy(), ref["beta"], atol=1e-6)
    assert np.allclose(m.se.to_numpy(), ref["se"], rtol=1e-5)
    assert m.sigma == pytest.approx(ref["sigma"], rel=1e-6)
    assert m.ngroups == {"s": 2972, "d": 1128, "dept:service": 28}


def crossed(n=600, a=40, b=25, seed=0, slope=False):
    rng = np.random.default_rng(seed)
    ga, gb, x = rng.integers(0, a, n), rng.integers(0, b, n), rng.normal(size=n)
    y = 1 + x + rng.normal(0, 1, a)[ga] + rng.normal(0, 0.6, b)[gb] * (1 + slope * x) + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "a": ga.astype(str), "b": gb.astype(str), "c": (ga % 7).astype(str)})


@pytest.mark.parametrize("text, structure", [
    ("y ~ x + (1 | a) + (1 | b)", "dense"),  # crossed: the rest fills in
    ("y ~ x + (1 | a) + (x | b)", "dense"),  # vector-valued term in the rest
    ("y ~ x + (1 | a) + (1 | c)", "diagonal"),  # c nested in a: the rest stays diagonal
    ("y ~ x + (x | a) + (1 | b) + (1 | c)", "dense"),
])
@pytest.mark.parametrize("reml", [True, False])
def test_blocked_criterion_equals_the_dense_textbook_one(text, structure, reml):
    d = crossed(slope=True)
    md = build_model_data(text, d)
    dev = ProfiledDeviance(md, reml)
    assert dev.rest_block.diagonal == (structure == "diagonal")
    rng = np.random.default_rng(1)
    thetas = np.abs(rng.normal(size=(5, len(dev.layout.start)))) + 0.1
    ours = dev.evaluate(thetas)
    assert np.allclose(ours, [textbook(md, t, reml)["criterion"] for t in thetas], rtol=0, atol=1e-7)


def test_the_dense_coupling_gives_the_same_criterion_and_solution():
    d = crossed()
    md = build_model_data("y ~ x + (1 | a) + (1 | b)", d)
    sparse_dev, dense_dev = ProfiledDeviance(md, True), ProfiledDeviance(md, True)
    from mmcore.lmm import rest

    saved = rest.PAIR_LIMIT
    rest.PAIR_LIMIT = 0
    try:
        dense_dev = ProfiledDeviance(md, True)
    finally:
        rest.PAIR_LIMIT = saved
    assert dense_dev.rest_block.dense_coupling and not sparse_dev.rest_block.dense_coupling
    theta = np.array([0.8, 0.5])
    assert dense_dev.evaluate(theta[None])[0] == pytest.approx(sparse_dev.evaluate(theta[None])[0], abs=1e-9)
    a, b = dense_dev.solve(theta), sparse_dev.solve(theta)
    for key in ("beta", "b1", "b2", "var_b1", "var_b2"):
        assert np.allclose(a[key], b[key], atol=1e-10), key


@pytest.mark.parametrize("text", ["diameter ~ 1 + (1 | plate) + (1 | sample)",
                                  "diameter ~ 1 + (1 | sample) + (1 | plate)"])
def test_a_small_design_held_dense_gives_the_sparse_answer(text, monkeypatch):
    """Crossed Penicillin (144 rows) is held in dense arrays (rest.SMALL): the same criterion and
    solution as the sparse structures, which a larger design would use."""
    from mmcore.lmm import rest

    md = build_model_data(text, load_dataset("penicillin_lme4"))
    small = ProfiledDeviance(md, True)
    monkeypatch.setattr(rest, "SMALL", 0)
    large = ProfiledDeviance(md, True)
    assert isinstance(small.rest_block.Z2, np.ndarray) and not isinstance(large.rest_block.Z2, np.ndarray)
    thetas = np.array([[0.8, 0.5], [1.5, 3.5], [0.0, 2.0]])
    assert np.allclose(small.evaluate(thetas), large.evaluate(thetas), rtol=0, atol=1e-9)
    a, b = small.solve(thetas[1]), large.solve(thetas[1])
    for key in ("beta", "b1", "b2", "var_b1", "var_b2", "fitted"):
        assert np.allclose(a[key], b[key], atol=1e-10), key


def test_many_thetas_are_evaluated_in_bounded_chunks(monkeypatch):
    from mmcore.lmm import deviance

    d = crossed()
    dev = ProfiledDeviance(build_model_data("y ~ x + (1 | a) + (1 | b)", d), True)
    thetas = np.abs(np.random.default_rng(2).normal(size=(40, 2))) + 0.1
    whole = dev.evaluate(thetas)
    calls = []
    original = dev._decompose
    monkeypatch.setattr(deviance, "CHUNK_BYTES", dev.theta_bytes() * 3)
    monkeypatch.setattr(dev, "_decompose", lambda th, resp=None: calls.append(len(th)) or original(th, resp))
    assert np.array_equal(dev.evaluate(thetas), whole)
    assert max(calls) == 3 and sum(calls) == 40


# -- the budget -------------------------------------------------------------------------------------
def test_a_formula_of_thousands_of_terms_is_refused_before_it_is_expanded(monkeypatch):
    calls = []
    original = formula._interact
    monkeypatch.setattr(formula, "_interact", lambda f: calls.append(1) or original(f))
    names = [f"x{i}" for i in range(30)]
    with pytest.raises(FormulaError, match="more than 256 fixed-effect terms"):
        formula._parse("y ~ " + "*".join(names) + " + (1 | g)")
    assert calls == []  # 2^30 - 1 terms counted, none made


def test_a_repeated_factor_adds_nothing_as_in_r():
    f = mmcore.parse_formula("Reaction ~ " + "*".join(["Days"] * 30) + " + (1 | Subject)")
    assert f.fixed.terms == (("Days",),)


def test_thousands_of_fixed_effect_columns_are_refused_before_x_is_made(monkeypatch):
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"y": rng.normal(size=3000), "f": rng.integers(0, 60, 3000).astype(str),
                      "h": rng.integers(0, 60, 3000).astype(str), "g": rng.integers(0, 30, 3000).astype(str)})
    built = []
    monkeypatch.setattr(design, "model_matrix", lambda *a: built.append(1))
    with pytest.raises(BudgetError, match=r"3,600 columns \('f:h'"):
        build_model_data("y ~ f * h + (1 | g)", d)
    assert built == []


def test_a_fit_past_the_budget_is_refused_with_what_to_do(monkeypatch):
    rng = np.random.default_rng(0)
    n = 60000
    d = pd.DataFrame({"y": rng.normal(size=n), "a": rng.integers(0, 12000, n).astype(str),
                      "b": rng.integers(0, 9000, n).astype(str)})
    made = []
    monkeypatch.setattr(ProfiledDeviance, "__init__", lambda *a: made.append(1))
    with pytest.raises(BudgetError) as err:
        fit("y ~ 1 + (1 | a) + (1 | b)", d)
    text = str(err.value)
    assert "too large for this server" in text and "GB of memory" in text
    assert re.search(r"dense block of 8,9\d\d x 8,9\d\d for 'b'", text)
    assert "fewer levels" in text and "random sample" in text
    assert made == []  # refused before the deviance's cross-products were made
    with pytest.raises(BudgetError, match="computing"):
        fit(INSTEVAL, load_dataset("insteval"), budget=Budget(seconds=1))


def test_estimates_are_on_the_safe_side_of_what_was_measured(insteval):
    est = estimate(build_model_data(INSTEVAL, insteval))
    assert est.dense == 1156 and est.block1 == "s" and 2e6 < est.pairs < 1e7
    assert 200 < est.memory_mb < 2048 and 2 < est.seconds < 60  # measured: ~0.6 GB, 3-8 s here


def test_budget_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MMLAB_FIT_MEMORY_MB", "512")
    monkeypatch.setenv("MMLAB_FIT_SECONDS", "not a number")
    b = Budget.from_env()
    assert b.memory_mb == 512 and b.seconds == Budget.seconds and b.fixed_columns == Budget.fixed_columns


@pytest.mark.parametrize("text", ["y ~ x + f + (1 | g)", "y ~ x + f + (x | g) + (1 | h)"])
@pytest.mark.parametrize("reml", [True, False])
def test_x_eliminated_first_gives_the_same_criterion_and_solution(text, reml):
    """A fixed factor of 250 levels: X first (absorbed.py) equals the usual order (deviance.py)."""
    from mmcore.lmm.absorbed import AbsorbedDeviance, absorbs

    rng = np.random.default_rng(3)
    n = 3000
    f, g, h, x = rng.integers(0, 250, n), rng.integers(0, 30, n), rng.integers(0, 12, n), rng.normal(size=n)
    y = 1 + x + rng.normal(size=250)[f] + rng.normal(size=30)[g] * (1 + 0.5 * x) + rng.normal(size=12)[h] + rng.normal(size=n)
    d = pd.DataFrame({"y": y, "x": x, "f": f.astype(str), "g": g.astype(str), "h": h.astype(str)})
    md = build_model_data(text, d)
    assert absorbs(md) and md.gram is not None  # X'X came from the rank check
    usual, first = ProfiledDeviance(md, reml), AbsorbedDeviance(md, reml)
    thetas = np.abs(rng.normal(size=(4, len(usual.layout.start)))) + 0.2
    assert np.allclose(first.evaluate(thetas), usual.evaluate(thetas), rtol=0, atol=1e-8)
    a, b = usual.solve(thetas[0]), first.solve(thetas[0])
    for key in ("beta", "vcov", "b1", "b2", "var_b1", "var_b2", "fitted", "sigma", "logdet_rx"):
        assert np.allclose(a[key], b[key], rtol=1e-9, atol=1e-10), key
    m = fit(text, d, reml=reml)
    assert m.converged and m.deviance == pytest.approx(min(usual.evaluate(m.theta[None])[0], m.deviance), abs=1e-8)
