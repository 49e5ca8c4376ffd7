"""anova, the parametric bootstrap of the LRT, the ICC."""
import numpy as np
import pytest

from mmcore import MixedModelError, anova, bootstrap_lrt, fit, icc, load_dataset


@pytest.fixture(scope="module")
def penicillin_pair():
    p = load_dataset("penicillin")
    return fit("yield ~ 1 + (1|blend)", p, reml=False), fit("yield ~ treat + (1|blend)", p, reml=False)


def test_anova_orders_by_parameters_and_names_models(penicillin_pair):
    m0, m1 = penicillin_pair
    t = anova(m1, m0, names=["full", "null"])
    assert list(t.index) == ["null", "full"] and list(t.npar) == [3, 6]
    assert t.attrs["note"] == ""  # both ML already: nothing refitted


def test_anova_refuses_fits_on_different_rows():
    d = load_dataset("sleepstudy")
    a = fit("Reaction ~ Days + (1|Subject)", d)
    b = fit("Reaction ~ Days + (1|Subject)", d.iloc[:170])
    with pytest.raises(MixedModelError, match="different rows"):
        anova(a, b)


def test_bootstrap_lrt_penicillin(penicillin_pair):
    m0, m1 = penicillin_pair
    seen = []
    b = bootstrap_lrt(m0, m1, nsim=1000, seed=2026, progress=lambda done, total: seen.append((done, total)))
    assert b.observed == pytest.approx(4.047367, abs=1e-4)
    assert b.df == 3 and b.nsim == 1000 and len(b.statistics) == 1000
    # the lecture notes' lme4 loop gives about 0.36; ours must agree within Monte Carlo error
    assert abs(b.p_value - 0.36) < 3 * np.sqrt(0.36 * 0.64 / 1000)
    assert b.mc_se == pytest.approx(np.sqrt(b.p_value * (1 - b.p_value) / 1000))
    assert b.p_chisq == pytest.approx(0.2564, abs=1e-4)
    assert seen[-1] == (2000, 2000) and len(seen) >= 2
    assert b.failed == 0
    again = bootstrap_lrt(m0, m1, nsim=1000, seed=2026)
    assert np.array_equal(again.statistics, b.statistics)  # seeded: reproducible


def test_icc_one_way():
    f = fit("Yield ~ 1 + (1|Batch)", load_dataset("dyestuff"))
    s2b, s2 = f.varcorr.vcov[0], f.sigma**2
    assert icc(f) == {"Batch": pytest.approx(s2b / (s2b + s2))}
    e = fit("Estrone ~ 1 + (1|Subject)", load_dataset("estrone"))
    assert 0.8 <= icc(e)["Subject"] <= 0.9


def test_icc_refuses_random_slopes():
    with pytest.raises(MixedModelError, match="random-intercept"):
        icc(fit("Reaction ~ Days + (Days|Subject)", load_dataset("sleepstudy")))
