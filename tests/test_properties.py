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


@pytest.mark.parametrize("q", [1, 2])
@pytest.mark.parametrize("per_theta", [False, True])
def test_closed_form_block_factor_equals_the_general_path(q, per_theta):
    """small.block_factor_small (q <= 2) against the kron product, cholesky_small and forward_small it
    replaces, on random blocks, shared or one per theta, and a block that is not positive definite."""
    from mmcore.lmm.small import block_factor_small, cholesky_small, forward_small

    rng = np.random.default_rng(q + 2 * per_theta)
    K, G, r = 6, 11, 4
    T = np.tril(rng.normal(size=(K, q, q)))
    Z = rng.normal(size=(G, 8, q))
    A = np.einsum("gia,gib->abg", Z, Z).reshape(q * q, G)
    B = rng.normal(size=(r, q, G))
    if per_theta:
        A = A * rng.uniform(0.5, 2.0, size=(K, 1, G))
        B = rng.normal(size=(K, r, q, G))
    A[..., 0, 0] = -50.0  # group 0: T'AT + I not positive definite where T[0, 0] is large enough
    kron = (T[:, :, None, :, None] * T[:, None, :, None, :]).reshape(K, q * q, q * q)
    M = (np.swapaxes(kron, -1, -2) @ A).reshape(K, q, q, G)
    M[:, np.arange(q), np.arange(q), :] += 1.0
    L_ref = cholesky_small(M)
    W_ref = forward_small(L_ref, np.swapaxes(T, -1, -2)[:, None] @ B)
    L, W = block_factor_small(T, A, B)
    assert L.shape == L_ref.shape and W.shape == W_ref.shape
    np.testing.assert_allclose(L, L_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W, W_ref, rtol=1e-10, atol=1e-12)
    assert np.isnan(L[:, 0, 0, 0]).any() and (np.isnan(L[..., 0]) == np.isnan(L_ref[..., 0])).all()


def test_dense_independence_check_agrees_with_gram_schmidt(monkeypatch):
    """design._independent_columns' quick Cholesky check keeps every column only where Gram-Schmidt
    would; collinear and nearly collinear designs still go to Gram-Schmidt and lose the same columns."""
    from mmcore.model import design

    rng = np.random.default_rng(3)
    designs = []
    for trial in range(60):
        X = rng.normal(size=(30, 5)) * 10.0 ** rng.integers(-4, 5, size=5)
        if trial % 3 == 1:
            X[:, 3] = X[:, 0] * 2 - X[:, 1]  # exactly collinear
        if trial % 3 == 2:
            X[:, 4] = X[:, 2] + 1e-9 * np.linalg.norm(X[:, 2]) * rng.normal(size=30)  # below the tolerance
        designs.append(X)
    with_check = [design._independent_columns(X) for X in designs]
    fast = [design._clearly_independent(X, 1e-7) is not None for X in designs]
    monkeypatch.setattr(design, "_clearly_independent", lambda X, tol: None)
    gram_schmidt = [design._independent_columns(X) for X in designs]
    assert with_check == gram_schmidt
    assert fast == [trial % 3 == 0 for trial in range(60)]  # decided quickly exactly where nothing is dropped
    assert all(len(k) == 4 for k, f in zip(gram_schmidt, fast) if not f)
