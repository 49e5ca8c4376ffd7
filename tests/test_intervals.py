"""Confidence intervals against lme4 1.1-31's confint (features.json `confint`, and the wider set of
scripts/references/inference.R): profile limits within 0.5% of the interval's width, the profile's
zeta at lme4's own points, Wald exactly, bootstrap within Monte Carlo error; and properties."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mmcore
from mmcore.inference.intervals import percentile_interval
from mmcore.inference.profile import zeta_at
from tests.test_ddf import FEATURES, WIDER, reference_frame


def fit_of(ref):
    return mmcore.fit(ref["formula"], reference_frame(ref["data"]), reml=ref.get("REML", True))


def check_profile(table: pd.DataFrame, rows: list, share: float = 5e-3, fit=None, level: float = 0.95) -> None:
    """Each end within `share` of the interval's width of lme4's. Where it is not (lme4 interpolates a
    spline through its profile points, and says so when that fails), the fit is given and our end must
    be the better root: |zeta - z| at ours far below that at lme4's."""
    assert list(table.index) == [r["par"] for r in rows]
    z = stats.norm.ppf(0.5 + level / 2)
    for r in rows:
        width = r["upper"] - r["lower"]
        got = table.loc[r["par"]]
        for side, sign in (("lower", -1), ("upper", 1)):
            if abs(got[side] - r[side]) <= share * width:
                continue
            assert fit is not None, (r["par"], side, got[side], r[side])
            ours, theirs = np.abs(zeta_at(fit, r["par"], [got[side], r[side]]) - sign * z)
            assert ours < 1e-3 and theirs > 10 * ours, (r["par"], side, ours, theirs)


@pytest.mark.parametrize("ref", FEATURES["confint"], ids=lambda r: r["id"])
def test_features_profile_and_wald(ref):
    fit = fit_of(ref)
    check_profile(mmcore.confint(fit, "profile"), ref["profile"])
    check_profile(mmcore.confint(fit, "profile"), ref["profile"], share=5e-4)  # what the root finding reaches
    wald = mmcore.confint(fit, "wald")
    for r in ref["wald"]:
        if r["lower"] is None:
            assert wald.loc[r["par"]].isna().all()
        else:
            assert wald.loc[r["par"]].tolist() == pytest.approx([r["lower"], r["upper"]], rel=1e-5)


@pytest.mark.parametrize("ref", WIDER["confint"], ids=lambda r: r["id"])
def test_wider_profiles(ref):
    fit = fit_of(ref)
    prof = mmcore.profile(fit)
    check_profile(prof.interval(), ref["profile"], fit=fit)
    check_profile(mmcore.confint(fit, "profile", level=0.9), ref["profile_90"], fit=fit, level=0.9)
    # lme4 interpolates a spline through its profile; our ends are roots of the profile itself
    # (e.g. penicillin's 90% lower end for the blend SD: lme4's 0.91352 has zeta -1.6429, not -1.6449)
    for p in prof.parameters:
        ends = [(e, s) for e, s in ((p.lower, -1), (p.upper, 1)) if not (p.kind == "sd" and e == 0)
                and not (p.kind == "cor" and abs(e) == 1)]
        z = zeta_at(fit, p.name, [e for e, _ in ends])
        assert np.allclose(z, [s * 1.959964 for _, s in ends], atol=1e-3), p.name
    wald = mmcore.confint(fit, "wald")
    for r in ref["wald"]:
        if r["lower"] is not None:
            assert wald.loc[r["par"]].tolist() == pytest.approx([r["lower"], r["upper"]], rel=1e-5)


@pytest.mark.parametrize("ref", WIDER["confint"], ids=lambda r: r["id"])
def test_zeta_at_lme4s_points(ref):
    """The profile itself: zeta at the points lme4's profile visited. Where lme4's optimizer stops
    short far out in a tail, its deviance is higher (|zeta| larger) than the true profile's. A
    correlation of exactly +-1 is left out: lme4's zeta there breaks its own curve's trend (three_effects:
    -3.244 at -1 after -3.266 at -0.977), while ours runs on continuously (-3.349 at -0.9999, -3.354 at -1)."""
    fit = fit_of(ref)
    for curve in ref["zeta"]:
        values, zeta = np.array(curve["value"], dtype=float), np.array(curve["zeta"], dtype=float)
        ok = np.isfinite(values) & np.isfinite(zeta)
        if curve["par"].startswith("cor_"):
            ok &= np.abs(values) < 1
        if ref["id"] == "three_effects":  # lme4 walks its tails here with warnings ("unexpected decrease in
            ok &= np.abs(zeta) <= 3.5     # profile", "bad spline fit"): hundreds of points at its cutoff
        ours = zeta_at(fit, curve["par"], values[ok])
        central = np.abs(zeta[ok]) <= 3.5
        assert np.allclose(ours[central], zeta[ok][central], atol=1e-4), curve["par"]
        assert np.all(np.abs(ours) <= np.abs(zeta[ok]) + 1e-4), curve["par"]


def mc_se(samples: np.ndarray, alpha: float) -> float:
    """Monte Carlo SE of an alpha-quantile from the order statistics' binomial spread."""
    x = np.sort(samples)
    R = len(x)
    d = 1.96 * np.sqrt(R * alpha * (1 - alpha))
    k = (R + 1) * alpha
    return (x[min(R - 1, int(k + d))] - x[max(0, int(k - d))]) / (2 * 1.96)


@pytest.mark.parametrize("ref", [r for r in FEATURES["confint"] if r["id"] != "penicillin_treat"],
                         ids=lambda r: r["id"])
def test_bootstrap_within_monte_carlo_error(ref):
    fit = fit_of(ref)
    samples = mmcore.bootstrap_parameters(fit, nsim=2000, seed=1)
    ours = mmcore.confint(fit, "boot", nsim=2000, seed=1)
    for r in ref["boot_percentile_2000"]:
        x = samples[r["par"]].to_numpy()
        lo, hi = percentile_interval(x)
        assert ours.loc[r["par"]].tolist() == pytest.approx([lo, hi])
        for got, want, alpha in ((lo, r["lower"], 0.025), (hi, r["upper"], 0.975)):
            se = np.sqrt(2) * mc_se(x, alpha)  # two independent bootstraps of 2000
            assert abs(got - want) <= 4 * se + 1e-12, (r["par"], got, want, se)


def test_penicillin_bootstrap_refits_are_the_exact_reml_estimates():
    """features.json's penicillin bootstrap comes from lme4 1.1-31's bootMer, whose refit() does not
    reproduce this model's fit (refit(m, yield) gives REML criterion 117.80 and theta 0.919 instead of
    103.83 and 0.791, with nloptwrap and bobyqa alike), so its interval is off beyond Monte Carlo
    error. For this balanced block design REML has a closed form (the ANOVA estimator, when
    positive): every replicate must equal it."""
    data = mmcore.load_dataset("penicillin")
    fit = mmcore.fit("yield ~ treat + (1 | blend)", data)
    from mmcore.lmm.batch import simulate_responses
    from mmcore.lmm.deviance import ProfiledDeviance
    from mmcore.lmm.fit import model_data

    dev = ProfiledDeviance(model_data(fit), reml=True)
    Y = simulate_responses(dev, fit.theta, fit.beta, fit.sigma, 200, np.random.default_rng(1))
    samples = mmcore.bootstrap_parameters(fit, nsim=200, seed=1)
    treat, blend = data["treat"].cat.codes.to_numpy(), data["blend"].cat.codes.to_numpy()
    for y, sd in zip(Y, samples["sd_(Intercept)|blend"]):
        grand = y.mean()
        ssb = 4 * np.sum((np.bincount(blend, y) / 4 - grand) ** 2)
        sst = 5 * np.sum((np.bincount(treat, y) / 5 - grand) ** 2)
        mse = (np.sum((y - grand) ** 2) - sst - ssb) / 12
        assert sd == pytest.approx(np.sqrt(max((ssb / 4 - mse) / 4, 0.0)), abs=1e-5)


# -- properties ---------------------------------------------------------------------------------------
def test_percentile_interval_is_boots_norm_inter():
    x = np.arange(1.0, 40.0)  # R = 39: (R + 1) 0.025 = 1 exactly, (R + 1) 0.975 = 39
    assert percentile_interval(x) == pytest.approx((1.0, 39.0))
    y = np.arange(1.0, 100.0)  # R = 99: rank 2.5 lies between the 2nd and 3rd order statistics
    from scipy import stats
    z, z1, z2 = stats.norm.ppf(0.025), stats.norm.ppf(2 / 100), stats.norm.ppf(3 / 100)
    assert percentile_interval(y)[0] == pytest.approx(2 + (z - z1) / (z2 - z1))


def test_profile_shapes():
    fit = mmcore.fit("Estrone ~ 1 + (1 | Subject)", mmcore.load_dataset("estrone"))
    prof = mmcore.profile(fit)
    for p in prof.parameters:
        assert np.all(np.diff(p.zeta) > 0), p.name  # zeta rises through the estimate
        assert p.lower < p.estimate < p.upper
    sd = prof["sd_(Intercept)|Subject"]
    # five women: the profile of the between-woman SD is far from symmetric
    assert (sd.upper - sd.estimate) > 1.5 * (sd.estimate - sd.lower)
    points = prof.points()
    assert set(points[".par"]) == {p.name for p in prof.parameters}
    ninety = mmcore.confint(fit, "profile", level=0.9)
    wide = prof.interval()
    assert np.all(ninety["lower"] > wide["lower"]) and np.all(ninety["upper"] < wide["upper"])


def test_a_reml_fit_is_profiled_by_ml_as_lme4_does():
    data = mmcore.load_dataset("sleepstudy")
    reml = mmcore.confint(mmcore.fit("Reaction ~ Days + (1 | Subject)", data), "profile")
    ml = mmcore.confint(mmcore.fit("Reaction ~ Days + (1 | Subject)", data, reml=False), "profile")
    assert np.allclose(reml.to_numpy(), ml.to_numpy(), rtol=1e-5)


def test_intervals_scale_with_the_response():
    data = mmcore.load_dataset("dyestuff")
    a = mmcore.confint(mmcore.fit("Yield ~ 1 + (1 | Batch)", data), "profile")
    b = mmcore.confint(mmcore.fit("Yield ~ 1 + (1 | Batch)", data.assign(Yield=data["Yield"] * 10)), "profile")
    assert np.allclose(b.to_numpy(), 10 * a.to_numpy(), rtol=1e-4)


def test_singular_fit_profile_starts_at_zero():
    data = mmcore.simulate_intercepts(n_groups=4, n_per_group=3, beta0=250.0, beta1=10.0, sigma_b=0.0,
                                      sigma=25.0, seed=1)
    fit = mmcore.fit("y ~ x + (1 | group)", data)
    assert fit.is_singular
    table = mmcore.confint(fit, "profile")
    assert table.loc["sd_(Intercept)|group", "lower"] == 0.0
    assert table.loc["sd_(Intercept)|group", "upper"] > 0


def test_bootstrap_is_reproducible_and_reports_progress():
    fit = mmcore.fit("Yield ~ 1 + (1 | Batch)", mmcore.load_dataset("dyestuff"))
    calls = []
    a = mmcore.confint(fit, "boot", nsim=300, seed=7, progress=lambda done, total: calls.append((done, total)))
    b = mmcore.confint(fit, "boot", nsim=300, seed=7)
    assert a.equals(b) and calls[-1] == (300, 300)


def test_bad_requests_get_clear_errors():
    fit = mmcore.fit("Yield ~ 1 + (1 | Batch)", mmcore.load_dataset("dyestuff"))
    with pytest.raises(mmcore.MixedModelError, match="level"):
        mmcore.confint(fit, level=95)
    with pytest.raises(mmcore.MixedModelError, match="method"):
        mmcore.confint(fit, method="bayes")
    with pytest.raises(mmcore.MixedModelError, match="No parameter"):
        mmcore.profile(fit, which="sd_Days|Batch")
    with pytest.raises(mmcore.MixedModelError, match="replicates"):
        mmcore.confint(fit, "boot", nsim=0)
