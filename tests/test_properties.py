"""Properties any correct fit has: row order, scaling, ML vs REML, many-response refits."""
import numpy as np
import pytest

from mmcore import fit, load_dataset, simulate_slopes
from mmcore.lmm.batch import fit_many, simulate_responses
from mmcore.lmm.deviance import ProfiledDeviance
from mmcore.model.design import build_model_data

MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days|Subject)"),
    ("penicillin", "yield ~ treat + (1|blend)"),
    ("penicillin_lme4", "diameter ~ 1 + (1|plate) + (1|sample)"),
]


@pytest.mark.parametrize("name,formula", MODELS)
def test_row_order_does_not_change_the_fit(name, formula):
    d = load_dataset(name)
    a = fit(formula, d)
    perm = np.random.default_rng(0).permutation(len(d))
    b = fit(formula, d.iloc[perm].reset_index(drop=True))
    assert b.reml_criterion == pytest.approx(a.reml_criterion, abs=1e-8)
    assert b.fixef.to_numpy() == pytest.approx(a.fixef.to_numpy(), rel=1e-7)
    assert b.varcorr.vcov.to_numpy() == pytest.approx(a.varcorr.vcov.to_numpy(), rel=1e-5)
    for g in a.ranef:  # same levels, same BLUPs; fitted values follow the rows
        assert b.ranef[g].loc[a.ranef[g].index].to_numpy() == pytest.approx(a.ranef[g].to_numpy(), abs=1e-5)
    assert b.fitted == pytest.approx(a.fitted[perm], abs=1e-5)


@pytest.mark.parametrize("name,formula", MODELS)
@pytest.mark.parametrize("scale", [1e-3, 10.0, 1e4])
def test_rescaling_the_response_rescales_the_estimates(name, formula, scale):
    d = load_dataset(name)
    a = fit(formula, d)
    response = a.response
    d[response] = d[response] * scale
    b = fit(formula, d)
    assert b.fixef.to_numpy() == pytest.approx(a.fixef.to_numpy() * scale, rel=1e-6)
    assert b.se.to_numpy() == pytest.approx(a.se.to_numpy() * scale, rel=1e-5)
    assert b.sigma == pytest.approx(a.sigma * scale, rel=1e-6)
    assert b.theta == pytest.approx(a.theta, abs=1e-5)  # theta is relative to sigma: unchanged
    assert b.varcorr.vcov.to_numpy() == pytest.approx(a.varcorr.vcov.to_numpy() * scale**2, rel=1e-4)
    # the criterion shifts by a known constant: n log(scale^2) (REML: (n - p) log(scale^2))
    shift = (a.nobs - len(a.fixef)) * np.log(scale**2)
    assert b.reml_criterion == pytest.approx(a.reml_criterion + shift, abs=1e-6)


@pytest.mark.parametrize("name,formula", MODELS)
def test_balanced_designs_give_the_same_fixed_effects_under_ml_and_reml(name, formula):
    d = load_dataset(name)
    ml, reml = fit(formula, d, reml=False), fit(formula, d, reml=True)
    assert ml.fixef.to_numpy() == pytest.approx(reml.fixef.to_numpy(), rel=1e-6)
    # yet the variance components differ: REML's are larger (ML does not allow for estimating beta)
    re_var = lambda f: sum(np.trace(cov) for _, _, cov in f.re_cov)  # noqa: E731
    assert re_var(reml) > re_var(ml)


def test_reml_variance_exceeds_ml_for_one_way_anova():
    d = load_dataset("dyestuff")
    ml, reml = fit("Yield ~ 1 + (1|Batch)", d, reml=False), fit("Yield ~ 1 + (1|Batch)", d)
    assert reml.varcorr.vcov[0] > ml.varcorr.vcov[0]


def test_fit_many_matches_single_fits():
    d = simulate_slopes(n_groups=12, n_per_group=6, seed=4)
    formula = "y ~ x + (x|group)"
    dev = ProfiledDeviance(build_model_data(formula, d), reml=False)
    f0 = fit(formula, d, reml=False)
    Y = simulate_responses(dev, f0.theta, f0.beta, f0.sigma, 8, np.random.default_rng(1))
    many = fit_many(dev, Y)
    for s in range(len(Y)):
        single = fit(formula, d.assign(y=Y[s]), reml=False)
        assert many.criterion[s] == pytest.approx(single.deviance, abs=1e-6)
        assert many.sigma[s] == pytest.approx(single.sigma, rel=1e-5)
    assert many.converged.all()


def test_fit_is_picklable_and_immutable():
    import dataclasses
    import pickle

    f = fit("Reaction ~ Days + (Days|Subject)", load_dataset("sleepstudy"))
    g = pickle.loads(pickle.dumps(f))
    assert g.reml_criterion == f.reml_criterion and g.fixef.equals(f.fixef)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.sigma = 1.0
