"""Shipped datasets, the estrone-style data and the simulators."""
import hashlib

import numpy as np
import pandas as pd
import pytest

from mmcore import (
    DataError,
    fit,
    list_datasets,
    load_dataset,
    simulate_blocks,
    simulate_intercepts,
    simulate_nested,
    simulate_slopes,
)
from tests.conftest import ROOT

SHA256 = {  # from the shared data's SOURCES.md: the files are copied unchanged
    "sleepstudy": "0a002bec8be2fa9d40dbbf3d5038e614d113a4fd5bf8813f6f4271c3d6294675",
    "penicillin": "6a3b856d3652be6340e248f369b29fa5abd4d5d42f0acab950c53abaf94e0a36",
    "penicillin_lme4": "9a26c574d34d1b6d5a6fcb31d296ffa65fe0339eea4b77f502d90b7f2b4eca24",
    "dyestuff": "4fa4c10f8db617562965d43014e2bb15df244f2cc0a1f83f47b3cd4ac40c17a1",
    "ctsib": "e71fa9c2d9e9c27db426a1d6ba84fe9cbe1ea6b3841ecbeb8087bc3b0024f33d",
    "cbpp": "2798bc7704a4bdb8ade4e164d8c3a6397efa7ba5fb25c1ec11f517b4ffb940a7",  # the shared copy, unchanged
    "grouseticks": "a6a8668dabb406bee6dbeb8cc12c51588ef9bf4b3e34d27c398a2d8a5db6c8a8",
}


@pytest.mark.parametrize("name", list(SHA256))
def test_real_datasets_are_unchanged_copies(name):
    assert hashlib.sha256((ROOT / "datasets" / f"{name}.csv").read_bytes()).hexdigest() == SHA256[name]


@pytest.mark.parametrize("name", list(list_datasets()))
def test_every_dataset_loads_and_fits_its_suggested_formula(name):
    info = list_datasets()[name]
    d = load_dataset(name)
    assert info.response in d and all(g in d for g in info.groups) and info.description
    f = fit(info.formula, d, family=info.family)
    assert f.converged and np.isfinite(f.loglik)


def test_factor_levels_follow_r():
    assert list(load_dataset("sleepstudy").Subject.cat.categories[:3]) == ["308", "309", "310"]
    assert list(load_dataset("penicillin").treat.cat.categories) == ["A", "B", "C", "D"]


def test_load_returns_a_copy():
    d = load_dataset("dyestuff")
    d["Yield"] = 0
    assert load_dataset("dyestuff")["Yield"].mean() == pytest.approx(1527.5)


def test_unknown_dataset():
    with pytest.raises(DataError, match="no dataset called"):
        load_dataset("iris")


def test_estrone_is_the_documented_shape_and_reproducible():
    d = load_dataset("estrone")
    assert d.shape == (80, 3) and d.groupby("Subject", observed=True).size().tolist() == [16] * 5
    assert 25 <= d.Estrone.mean() <= 35 and (d.Estrone > 0).all()
    assert list_datasets()["estrone"].simulated
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_estrone", ROOT / "scripts" / "make_estrone.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    made = mod.make()
    shipped = pd.read_csv(ROOT / "datasets" / "estrone.csv")
    assert made.equals(shipped)  # the seeded script makes exactly the shipped file


@pytest.mark.parametrize("sim", [simulate_intercepts, simulate_slopes, simulate_blocks, simulate_nested])
def test_simulators_are_seeded_and_fit_their_formula(sim):
    a, b, c = sim(seed=5), sim(seed=5), sim(seed=6)
    assert a.equals(b) and not a.equals(c)
    f = fit(a.attrs["formula"], a)
    assert f.converged and a.attrs["truth"]


def test_simulated_estimates_approach_the_truth():
    d = simulate_slopes(n_groups=300, n_per_group=10, rho=0.6, seed=1)
    f = fit("y ~ x + (x|group)", d)
    corr = f.varcorr.sdcor[2]
    assert corr == pytest.approx(0.6, abs=0.12)
    assert f.fixef["x"] == pytest.approx(10, abs=1.0) and f.sigma == pytest.approx(25, rel=0.05)


def test_the_truths_rho_moves_one_sample_continuously_and_is_the_sweeps():
    """simulate_slopes draws b0 = s0 z0, b1 = s1 (rho z0 + sqrt(1 - rho^2) z1): the sidebar's rho moves one
    sample, through 0 too (numpy's eigenvector factor drew another sample at rho = 0), and at seed 1 its
    data are the correlation sweep's at the same rho (random slopes' Correlation part says so)."""
    from mmcore.lessons.sweeps import rho_sweep

    near = [simulate_slopes(seed=1, rho=r)["y"].to_numpy() for r in (-0.05, 0.0, 0.05)]
    # a step of 0.05 moves a slope by ~0.05 sd_b1 z: y by a few units at x = 9 (sigma 25); the old draw jumped by tens
    assert max(np.abs(near[1] - near[0]).max(), np.abs(near[2] - near[1]).max()) < 5.0
    sweep = rho_sweep(seed=1)
    for r in (-0.95, 0.0, 0.35):
        step = int(np.argmin(np.abs(sweep.rhos - r)))
        assert np.array_equal(simulate_slopes(seed=1, rho=r)["y"].to_numpy(), sweep.y[step])
