"""The correlated-errors engine beyond the references: an independent dense likelihood (V = Z D Z' +
sigma^2 C, C built entry by entry as phi^|t_i - t_j|), invariances, the batched path, bad input."""
import numpy as np
import pandas as pd
import pytest

from mmcore import DataError, MixedModelError, fit, simulate_trees
from mmcore.lmm.correlated import CorrelatedDeviance, fit_many
from mmcore.lmm.deviance import ProfiledDeviance
from mmcore.model.design import build_model_data
from tests.test_correlated import data
from tests.textbook import lambda_matrix, z_matrix

CASES = {  # data, formula, correlation, time
    "ovary diagonal": ("ovary", "follicles ~ s + c + (s || Mare)", "ar1", "obs"),
    "bodyweight slope": ("bodyweight", "weight ~ Time * Diet + (Time | Rat)", "car1", "Time"),
    "gaps, integer lags": ("gaps", "y ~ time + (time | g)", "ar1", "time"),
    "irregular times": ("continuous", "y ~ x + time + (1 | g)", "car1", "time"),
    "by position": ("negative", "y ~ trt + (1 | g)", "ar1", None),
}


def dense_criterion(md, times, theta, phi, reml: bool) -> float:
    """-2 log-likelihood (ML) or REML criterion, profiled over beta and sigma, from dense matrices."""
    X, y = md.X, md.y
    n, p = X.shape
    codes = md.terms[0].codes
    t = times
    if t is None:  # position within the group, in data order
        t = np.zeros(n)
        for g in range(md.terms[0].nlevels):
            rows = np.flatnonzero(codes == g)
            t[rows] = np.arange(1, len(rows) + 1)
    C = np.where(codes[:, None] == codes[None, :], np.power(phi, np.abs(t[:, None] - t[None, :])), 0.0)
    ZL = z_matrix(md) @ lambda_matrix(md, theta)
    V0 = ZL @ ZL.T + C
    Vinv = np.linalg.inv(V0)
    XtVX = X.T @ Vinv @ X
    beta = np.linalg.solve(XtVX, X.T @ Vinv @ y)
    r = y - X @ beta
    r2 = r @ Vinv @ r
    logdet = np.linalg.slogdet(V0)[1]
    if reml:
        return logdet + np.linalg.slogdet(XtVX)[1] + (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p)))
    return logdet + n * (1 + np.log(2 * np.pi * r2 / n))


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("reml", [True, False])
def test_criterion_equals_the_dense_likelihood(case, reml):
    name, formula, kind, time = CASES[case]
    d = data(name)
    md = build_model_data(formula, d)
    times = d[time].to_numpy(dtype=float)[md.rows] if time else None
    dev = CorrelatedDeviance(md, reml, kind, times, time or "")
    rng = np.random.default_rng(7)
    phis = [-0.6, 0.3, 0.95] if kind == "ar1" else [0.05, 0.5, 0.97]
    for phi in phis:
        theta = dev.start()[: dev.k] * np.exp(rng.normal(0, 0.5, dev.k))
        params = np.r_[theta, dev.correlation.unconstrained(phi)]
        got = float(dev.evaluate(params[None])[0])
        assert got == pytest.approx(dense_criterion(md, times, theta, phi, reml), abs=1e-7 * abs(got) + 1e-8)
        dev.set_layouts(None)  # the pair-by-pair path (many distinct gaps) gives the same
        assert float(dev.evaluate(params[None])[0]) == pytest.approx(got, abs=1e-8 * abs(got))
        dev.set_layouts(dev.correlation.group_class_sums(dev.z_sums))


def test_without_a_correlation_the_engine_is_lme4s():
    md = build_model_data("Reaction ~ Days + (Days | Subject)", data("sleep"))
    dev, lmm = CorrelatedDeviance(md, True, None, None), ProfiledDeviance(md, True)
    thetas = np.array([[1.0, 0.0, 1.0], [0.9, 0.05, 0.2], [3.0, -1.0, 0.5]])
    assert dev.evaluate(thetas) == pytest.approx(lmm.evaluate(thetas), rel=1e-10)


@pytest.mark.parametrize("name, formula, kind, time", [("bodyweight", "weight ~ Time * Diet + (Time | Rat)", "car1", "Time"),
                                                       ("trees", "height ~ 0 + year:fert + (0 + year | tree)", "ar1", "year")])
def test_row_order_does_not_matter_with_a_time_column(name, formula, kind, time):
    d = data(name)
    a = fit(formula, d, correlation=kind, time=time)
    shuffled = d.sample(frac=1, random_state=3)
    b = fit(formula, shuffled, correlation=kind, time=time)
    assert b.loglik == pytest.approx(a.loglik, abs=1e-8)
    assert b.phi == pytest.approx(a.phi, abs=1e-5)
    assert b.fixef.to_numpy() == pytest.approx(a.fixef.to_numpy(), rel=1e-6)
    # residuals and normalized residuals follow the rows of the data given
    assert b.residuals == pytest.approx(a.residuals[shuffled.index.to_numpy()], abs=1e-5)
    assert b.normalized == pytest.approx(a.normalized[shuffled.index.to_numpy()], abs=1e-5)


def test_position_equals_a_consecutive_time_column_and_car1_equals_ar1_on_whole_steps():
    d = data("ovary")
    by_position = fit("follicles ~ s + c + (1 | Mare)", d, correlation="ar1")
    by_obs = fit("follicles ~ s + c + (1 | Mare)", d, correlation="ar1", time="obs")
    assert by_obs.loglik == pytest.approx(by_position.loglik, abs=1e-9)
    assert by_obs.time == "obs" and by_position.time is None and "~1 | Mare" in by_position.summary()
    car1 = fit("follicles ~ s + c + (1 | Mare)", d, correlation="car1", time="obs")
    assert car1.loglik == pytest.approx(by_obs.loglik, abs=1e-7) and car1.phi == pytest.approx(by_obs.phi, abs=1e-5)


def test_many_responses_at_once_equal_single_fits():
    d = simulate_trees(phi=0.6, seed=3)
    md = build_model_data("height ~ 0 + year:fert + (0 + year | tree)", d)
    dev = CorrelatedDeviance(md, True, "ar1", d["year"].to_numpy(dtype=float), "year")
    Y = np.stack([simulate_trees(phi=0.6, seed=s)["height"].to_numpy() for s in (4, 5, 6)])
    many = fit_many(dev, Y)
    assert many["converged"].all()
    for s, y in enumerate(Y):
        one = fit("height ~ 0 + year:fert + (0 + year | tree)", d.assign(height=y), correlation="ar1", time="year")
        assert -many["criterion"][s] / 2 == pytest.approx(one.loglik, abs=1e-7)
        assert many["phi"][s] == pytest.approx(one.phi, abs=1e-5)
        assert many["beta"][s] == pytest.approx(one.fixef.to_numpy(), rel=1e-6)
        assert many["se"][s] == pytest.approx(one.se.to_numpy(), rel=1e-5)


def test_missing_times_are_left_out_and_said_so():
    d = data("ovary")
    d["obs"] = d["obs"].astype(float)
    d.loc[[0, 5], "obs"] = np.nan  # the time column is not in the formula
    f = fit("follicles ~ s + c + (1 | Mare)", d, correlation="ar1", time="obs")
    assert f.nobs == len(d) - 2 and any("no value of the time column 'obs'" in m for m in f.messages)
    assert list(f.rows) == [i for i in range(len(d)) if i not in (0, 5)]
    assert "obs" in f.data.columns


@pytest.mark.parametrize("change, kwargs, words", [
    (lambda d: d, dict(correlation="ma1", time="year"), "not one this app fits"),
    (lambda d: d, dict(time="year"), "correlation='ar1' or 'car1'"),
    (lambda d: d, dict(correlation="ar1", time="month"), "not a column"),
    (lambda d: d.assign(year=d["year"].astype(str)), dict(correlation="ar1", time="year"), "not numeric"),
    (lambda d: d.assign(year=d["year"] / 2), dict(correlation="ar1", time="year"), "whole-number times"),
    (lambda d: d.assign(year=1.0), dict(correlation="car1", time="year"), "same time"),
    (lambda d: d, dict(correlation="ar1", time="year", family="binomial"), "Gaussian response only"),
])
def test_bad_input_gets_a_clear_message(change, kwargs, words):
    with pytest.raises(MixedModelError, match=words):
        fit("height ~ 0 + year:fert + (0 + year | tree)", change(data("trees")), **kwargs)


def test_two_grouping_factors_are_refused_in_words():
    with pytest.raises(MixedModelError, match="one grouping factor"):
        fit("height ~ 0 + year:fert + (0 + year | tree) + (1 | fert)", data("trees"), correlation="ar1", time="year")


def test_an_ml_fit_that_reproduces_every_row_is_refused():
    d = pd.DataFrame({"y": [1.0, 2.0, 3.5, 3.0], "g": ["a", "a", "b", "b"], "t": [1, 2, 1, 2]})
    with pytest.raises(DataError):
        fit("y ~ t + (t | g)", d, reml=False, correlation="ar1", time="t")
