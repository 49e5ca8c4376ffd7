"""The client-side sliders (mmcore/lessons/sweeps.py, mmcore/figures/sweeps.py): every step a
student can drag to carries exact numbers. The shrinkage sweep against an independent GLS/BLUP
computation at each ratio and against the fit at its estimate; the ICC sweep's estimates against a
fit of each step's data; the deletion sweep and random intercepts' sigma_b sweep against lme4 at every
step (scripts/references/deletion.R, sigma_b_sweep.R); the pages show them (AppTest)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

import mmcore
from mmcore.figures import fig_icc_sweep, fig_shrinkage_sweep
from mmcore.lessons.sweeps import deletion_sweep, icc_sweep, shrinkage_sweep
from tests.conftest import ROOT
from tests.shown import chart_specs

MODELS = [("sleepstudy", "Reaction ~ Days + (1 | Subject)"), ("dyestuff", "Yield ~ 1 + (1 | Batch)"),
          ("penicillin", "yield ~ treat + (1 | blend)")]


def gls_blups(X, Z, y, ratio):
    """Henderson's answer with theta held at `ratio`, from the marginal covariance V = I + r^2 ZZ'
    (sigma^2 cancels): beta by GLS, b = r^2 Z' V^-1 (y - X beta)."""
    V = np.eye(len(y)) + ratio**2 * Z @ Z.T
    Vi = np.linalg.inv(V)
    beta = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
    return beta, ratio**2 * Z.T @ Vi @ (y - X @ beta)


@pytest.mark.parametrize("dataset, formula", MODELS)
def test_every_shrinkage_step_is_the_model_solved_at_that_ratio(dataset, formula):
    fit = mmcore.fit(formula, mmcore.load_dataset(dataset))
    sweep = shrinkage_sweep(fit)
    md = fit.design
    t = md.terms[0]
    Z = np.zeros((len(md.y), t.nlevels))
    Z[np.arange(len(md.y)), t.codes] = 1.0
    for s, r in enumerate(sweep.ratios):
        beta, b = gls_blups(md.X, Z, md.y, r)
        assert np.allclose(sweep.blup[s], b, atol=1e-8 * (1 + np.abs(b).max()))
        assert np.allclose(sweep.own[s] * sweep.lam[s], sweep.blup[s], atol=1e-8 * (1 + np.abs(b).max()))
    # the step the slider starts at is the fit itself, and the criterion is lowest there
    assert sweep.ratios[sweep.estimate] == pytest.approx(abs(fit.theta[0]))
    assert np.allclose(sweep.blup[sweep.estimate], fit.ranef[t.group].iloc[:, 0].to_numpy(), atol=1e-10)
    assert sweep.criterion[sweep.estimate] <= sweep.criterion.min() + 1e-9
    assert np.all(sweep.blup[0] == 0) and sweep.ratios[0] == 0  # ratio 0: complete pooling


def test_a_steps_numbers_are_sent_to_seven_significant_digits_of_its_largest():
    from lab.chart import spec_json
    from mmcore.figures.sweeps import compact, sigma_b_figure, sigma_b_grid
    from mmcore.lessons.sweeps import sigma_b_sweep

    assert compact([1234.56789012, -0.0123456789, None, 3.0]) == [1234.568, -0.012, None, 3.0]
    assert compact(np.array([0.000123456789, 1e-12])) == [0.0001234568, 0.0]
    assert compact(["a", "b"]) == ["a", "b"] and compact([None, None]) == [None, None] and compact(7.5) == 7.5
    fig = sigma_b_figure(60, 30, 10.0, 50.0)  # the largest simulate truth: 0.92 MB with every digit
    assert len(spec_json(fig)) < 500_000
    sweep = sigma_b_sweep(60, 30, 10.0, 50.0, sigma_b_grid(10.0, 30))
    for k, step in enumerate(fig.layout.sliders[0].steps):
        sent = np.array(step.args[0]["y"][0])
        assert np.abs(sent - sweep.y[k]).max() <= 5e-7 * np.abs(sweep.y[k]).max() and not np.array_equal(sent, sweep.y[k])


def test_shrinkage_figure_steps_carry_the_sweep():
    fit = mmcore.fit("Reaction ~ Days + (1 | Subject)", mmcore.load_dataset("sleepstudy"))
    sweep, fig = shrinkage_sweep(fit), fig_shrinkage_sweep(fit, highlight="308")
    slider = fig.layout.sliders[0]
    assert len(slider.steps) == len(sweep.ratios) and slider.active == sweep.estimate
    order = np.argsort(sweep.own[sweep.estimate])
    for s, step in enumerate(slider.steps):
        assert step.method == "update"
        mixed = np.array(step.args[0]["y"][1])
        assert np.allclose(mixed, sweep.level[s] + sweep.blup[s][order])
    assert "the fit's estimate" in slider.steps[sweep.estimate].args[1]["title.text"]
    assert fig.layout.title.text == slider.steps[sweep.estimate].args[1]["title.text"]


def test_icc_sweep_estimates_equal_fits_of_each_steps_data():
    sweep = icc_sweep(6, 5, seed=3)
    assert sweep.converged.all()
    for s in range(0, len(sweep.iccs), 3):
        data = pd.DataFrame({"y": sweep.y[s], "group": sweep.group.astype(str)})
        fit = mmcore.fit("y ~ 1 + (1 | group)", data)
        vb = float(fit.re_cov[0][2][0, 0])
        assert sweep.estimate[s] == pytest.approx(vb / (vb + fit.sigma**2), abs=1e-5)
    # the same draws: the truth's total variance is 1 at every step, the group pattern is kept
    assert np.allclose(sweep.y.var(axis=1), sweep.y.var(axis=1).mean(), rtol=0.6)
    assert sweep.estimate[-1] > sweep.estimate[0]


def test_icc_figure_starts_at_the_truth_and_titles_give_the_estimates():
    fit = mmcore.fit("Yield ~ 1 + (1 | Batch)", mmcore.load_dataset("dyestuff"))
    fig = fig_icc_sweep(fit, active=0.8)
    slider = fig.layout.sliders[0]
    sweep = icc_sweep(6, 5)
    assert slider.steps[slider.active].label == "0.80"
    for s, step in enumerate(slider.steps):
        assert f"{sweep.estimate[s]:.3f}" in step.args[1]["title.text"]
        # the steps' numbers are sent to 7 significant digits of the largest (sweeps.compact)
        assert np.allclose(step.args[0]["y"][0], sweep.y[s], rtol=0, atol=1e-6 * np.abs(sweep.y[s]).max())


def test_the_shrinkage_and_icc_pages_draw_their_sweeps():
    at = AppTest.from_file(str(ROOT / "pages/shrinkage.py"), default_timeout=60)
    at.session_state["sh_tab"] = "All groups, one ratio"
    at.run()
    assert not at.exception
    specs = chart_specs(at)
    assert any(len(s["layout"].get("sliders", [{}])[0].get("steps", [])) > 20 for s in specs)
    at = AppTest.from_file(str(ROOT / "pages/icc.py"), default_timeout=60)
    at.session_state["ic_dataset"] = "simulate"
    at.session_state["ic_tab"] = "What an ICC looks like"
    at.run()
    assert not at.exception

    def active_label():
        spec = next(s for s in chart_specs(at) if "sliders" in s["layout"])
        slider = spec["layout"]["sliders"][0]
        return slider["steps"][slider["active"]]["label"]

    first = [s for s in chart_specs(at) if "sliders" in s["layout"]]
    assert active_label() == "0.50"
    at.slider(key="ic_icc").set_value(0.9).run()  # the sidebar's ICC: a new data set, the same drag-along chart
    assert not at.exception and active_label() == "0.50"
    assert [s for s in chart_specs(at) if "sliders" in s["layout"]] == first
    at.slider(key="ic_n_groups").set_value(6).run()  # the group sizes make another one
    assert not at.exception
    assert [s for s in chart_specs(at) if "sliders" in s["layout"]] != first


def test_rho_sweep_estimates_equal_fits_of_each_steps_data():
    from mmcore.lessons.sweeps import rho_sweep

    sweep = rho_sweep(12, 6, seed=4)
    assert sweep.converged.all()
    for s in range(0, len(sweep.rhos), 9):
        data = pd.DataFrame({"y": sweep.y[s], "x": sweep.x, "group": sweep.group.astype(str)})
        fit = mmcore.fit("y ~ x + (x | group)", data)
        assert sweep.estimate[s] == pytest.approx(float(fit.varcorr.sdcor.iloc[2]), abs=1e-4)
    # only the correlation of the truth changes: the intercepts are the same draws at every step
    assert np.allclose(sweep.intercepts, sweep.intercepts[0])
    z = (sweep.slopes - 10.0) / 6.0  # beta1 = 10, sigma_b1 = 6 (the defaults)
    assert np.corrcoef(sweep.intercepts[0], z[-1])[0, 1] > np.corrcoef(sweep.intercepts[0], z[0])[0, 1]


def test_random_slopes_page_has_its_own_rho_slider():
    at = AppTest.from_file(str(ROOT / "pages/random_slopes.py"), default_timeout=60)
    at.session_state["rs_dataset"] = "simulate"
    at.session_state["rs_tab"] = "Correlation"
    at.run()
    assert not at.exception

    def active_label():
        spec = next(s for s in chart_specs(at) if s["layout"].get("sliders"))
        slider = spec["layout"]["sliders"][0]
        return slider["steps"][slider["active"]]["label"]

    assert active_label() == "+0.00"
    at.slider(key="rs_rho").set_value(0.8).run()  # the sidebar's rho: a new data set; the chart keeps its own slider
    assert not at.exception and active_label() == "+0.00"
    at = AppTest.from_file(str(ROOT / "pages/random_slopes.py"), default_timeout=60)  # sleepstudy
    at.session_state["rs_tab"] = "Correlation"
    at.run()
    assert not at.exception and active_label() == "+0.05"  # lme4's correlation, 0.066, to the nearest step


DELETION = json.loads((Path(__file__).parent / "reference" / "deletion.json").read_text())["cases"]
INTERCEPTS = [c for c in DELETION if "first" not in c]


@pytest.mark.parametrize("case", [c for c in DELETION if "first" in c], ids=lambda c: f"{c['data']}-{c['level']}")
def test_slope_deletion_fits_equal_lme4_at_every_number_kept(case):
    """Every step of the random-slopes tab's slider (deletion_fits from 2 rows kept) is lme4's fit of
    those data: the SDs and the correlation, sigma, the fixed effects and the edited subject's BLUPs."""
    from mmcore.lessons.sweeps import deletion_fits

    fit = mmcore.fit(case["formula"], mmcore.load_dataset(case["data"]))
    fits = deletion_fits(fit, case["level"], case["first"])
    assert len(fits) == len(case["steps"])
    for f, step in zip(fits, case["steps"]):
        assert f.varcorr.sdcor.to_numpy() == pytest.approx(step["sdcor"], rel=5e-4, abs=2e-3)
        assert f.fixef.to_numpy() == pytest.approx(step["fixef"], rel=1e-5)
        assert f.ranef[case["group"]].loc[case["level"]].to_numpy() == pytest.approx(step["ranef"], rel=5e-4, abs=2e-3)


@pytest.mark.parametrize("case", INTERCEPTS, ids=lambda c: f"{c['data']}-{c['level']}")
def test_deletion_sweep_equals_lme4_at_every_number_kept(case):
    """Every step of the deletion slider is lme4's fit of those data (the better of bobyqa and
    Nelder-Mead): sigma_b, sigma, the fixed effects and the edited group's BLUP."""
    fit = mmcore.fit(case["formula"], mmcore.load_dataset(case["data"]))
    sweep = deletion_sweep(fit, case["level"])
    assert sweep.kept == tuple(step["kept"] for step in case["steps"])
    for k, step in enumerate(case["steps"]):
        table = sweep.tables[k]
        assert table.loc[case["level"], "n"] == step["kept"]
        assert sweep.sigma_b[k] == pytest.approx(step["sigma_b"], rel=2e-4, abs=1e-3)
        assert sweep.sigma[k] == pytest.approx(step["sigma"], rel=2e-4)
        assert table.loc[case["level"], "BLUP"] == pytest.approx(step["blup"], rel=2e-4, abs=1e-3)
        level = float(table["population"].iloc[0])
        assert level == pytest.approx(np.atleast_1d(step["fixef"])[0], rel=1e-5)  # jsonlite unboxes one number
    shown = sweep.steps()  # what the page tabulates under the chart: one row per step, the edited group's numbers
    assert list(shown.index) == list(sweep.kept)
    assert shown["BLUP"].to_numpy() == pytest.approx([s["blup"] for s in case["steps"]], rel=2e-4, abs=1e-3)
    assert shown["sigma_b"].to_numpy() == pytest.approx(sweep.sigma_b)
    shown.iloc[:, :] = 0.0  # a copy: the next run's table is not the one a page changed
    assert sweep.steps()["sigma"].to_numpy() == pytest.approx(sweep.sigma)


SIGMA_B = json.loads((Path(__file__).parent / "reference" / "sigma_b_sweep.json").read_text())["cases"]


@pytest.mark.parametrize("name", sorted(SIGMA_B))
def test_sigma_b_sweep_equals_lme4_at_every_step(name):
    """Random intercepts' sigma_b slider: every step's data (the CSV R fitted: the sweep still draws
    them) fitted as lme4 fits them (the better of bobyqa and Nelder-Mead, scripts/references/
    sigma_b_sweep.R): sigma_b, sigma, the intercept, every group's partial-pooling estimate, and a
    singular fit exactly where lme4's is."""
    script = ROOT / "scripts" / "references" / "sigma_b_sweep_data.py"
    loader = importlib.util.spec_from_file_location("sigma_b_sweep_data", script)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    sweep = module.sweep(name)  # the cases as the data script draws them
    data = pd.read_csv(Path(__file__).parent / "reference" / "sigma_b_sweep" / f"{name}.csv")
    steps = sorted(SIGMA_B[name].values(), key=lambda s: s["step"])
    assert len(steps) == len(sweep.sigmas_b) == data["step"].nunique()
    assert np.allclose(sweep.y.ravel(), data["y"].to_numpy(), rtol=1e-13, atol=1e-11)
    assert sweep.converged.all()
    for k, step in enumerate(steps):
        assert sweep.sigmas_b[k] == pytest.approx(step["sigma_b_truth"])
        # tolerances in the data's units (an SD at 0 is matched absolutely); measured: 1e-7 of sigma or less
        scale = step["sigma"]
        assert sweep.sigma_b_hat[k] == pytest.approx(step["sigma_b"], rel=1e-5, abs=1e-6 * scale), k
        assert sweep.sigma_hat[k] == pytest.approx(step["sigma"], rel=1e-6), k
        assert sweep.population[k] == pytest.approx(step["intercept"], rel=1e-7, abs=1e-7 * scale), k
        assert sweep.partial[k] == pytest.approx(np.atleast_1d(step["partial"]), rel=1e-6, abs=1e-6 * scale), k
        assert sweep.singular[k] == step["singular"], k


def test_sigma_b_grid_runs_in_round_steps_past_where_pooling_stops_mattering():
    """About 24 steps of a round size from 0 to six times sigma / sqrt(n) (lambda 0.97 there); one label each."""
    from mmcore.figures.sweeps import sigma_b_grid

    for sigma, n in ((25.0, 8), (1.0, 2), (100.0, 30), (3e-7, 8), (1.99, 16)):
        grid = sigma_b_grid(sigma, n)
        size = grid[1]
        assert grid[0] == 0 and 12 <= len(grid) <= 26 and np.allclose(np.diff(grid), size)
        assert grid[-1] >= 6 * sigma / np.sqrt(n) > grid[-2]
        mantissa = size / 10 ** np.floor(np.log10(size) + 1e-9)
        assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5)), size
    assert sigma_b_grid(25.0, 8).tolist()[:4] == [0.0, 2.5, 5.0, 7.5] and sigma_b_grid(1.0, 8)[3] == 0.3
    with pytest.raises(mmcore.MixedModelError):
        sigma_b_grid(0.0, 8)


def test_sigma_b_figure_starts_where_lambda_is_four_fifths_and_its_steps_carry_the_sweep():
    """The slider starts where a group keeps lambda = 0.8 of its own deviation (2 sigma / sqrt(n): the
    sidebar's sigma_b leaves it alone), in simulate mode and with a data set's shape. Each step's title gives that
    step's estimates and says singular exactly where the fit is (lme4's rule; every group then at the
    population); its traces carry that step's data, means and estimates; the y axis holds every step's
    points (frames cannot move it)."""
    from mmcore.figures import fig_sigma_b_sweep, fig_truth_sweep
    from mmcore.figures.sweeps import sigma_b_grid
    from mmcore.lessons.sweeps import sigma_b_sweep

    truth = (("beta0", 250.0), ("n_groups", 10), ("n_per_group", 8), ("sigma", 25.0))
    spec = fig_truth_sweep("sigma_b", truth, None).to_dict()
    go.Figure(spec)  # plotly's full validator: raises on any invalid property
    sweep = sigma_b_sweep(10, 8, 25.0, 250.0, sigma_b_grid(25.0, 8))
    slider = spec["layout"]["sliders"][0]
    assert slider["steps"][slider["active"]]["label"] == "17.5"  # 2 * 25 / sqrt(8) = 17.7
    assert [s["label"] for s in slider["steps"]][:4] == ["0.0", "2.5", "5.0", "7.5"]
    lo, hi = spec["layout"]["yaxis"]["range"]
    assert lo < sweep.y.min() and sweep.y.max() < hi
    assert np.flatnonzero(sweep.singular).tolist() == [0, 1]  # these draws: singular at 0 and 2.5
    order = np.argsort(sweep.deviation)
    for k, step in enumerate(slider["steps"]):
        values, layout, traces = step["args"]
        title = layout["title.text"]
        assert f"σ̂<sub>b</sub> = {sweep.sigma_b_hat[k]:.3g}," in title and f"σ̂ = {sweep.sigma_hat[k]:.3g}" in title
        assert (f"λ = {sweep.lam[k]:.2f} of" in title) != ("singular fit" in title) == (k in (0, 1))
        assert np.allclose(values["y"][0], sweep.y[k]) and np.allclose(values["y"][2], sweep.partial[k][order])
        assert np.allclose(values["y"][1], sweep.own[k][order]) and traces == [0, 1, 2, 3, 4]
        assert np.allclose(values["y"][4], sweep.population[k])
        if k in (0, 1):
            assert np.allclose(values["y"][2], sweep.population[k])  # complete pooling
    for dataset, formula, places in (("dyestuff", "Yield ~ 1 + (1 | Batch)", 0), ("estrone", "Estrone ~ 1 + (1 | Subject)", 1)):
        fit = mmcore.fit(formula, mmcore.load_dataset(dataset))  # 6 of 5 and 5 of 16: the data set's shape
        slider = fig_sigma_b_sweep(fit).to_dict()["layout"]["sliders"][0]
        n = fit.nobs / len(fit.ranef[next(iter(fit.ranef))])
        labels = [s["label"] for s in slider["steps"]]
        values = [float(v) for v in labels]
        assert abs(values[slider["active"]] - 2 * fit.sigma / np.sqrt(n)) <= (values[1] - values[0]) / 2, dataset
        assert values[-1] >= 6 * fit.sigma / np.sqrt(n) > values[-2], dataset
        assert all(len(v.partition(".")[2]) == places for v in labels), labels  # 10, 20 (not 10.0); 0.5


def test_random_intercepts_page_drags_sigma_b_and_keeps_its_step_in_the_link():
    """The tab's chart in both modes; the sidebar's sigma_b leaves it (and the step it was left at) alone,
    without building it again; a link's step opens the tab at that step."""
    import lab

    tab = "From complete to no pooling"

    def active_label(at):
        spec = next(s for s in chart_specs(at) if s["layout"].get("sliders"))
        slider = spec["layout"]["sliders"][0]
        return slider["steps"][slider["active"]]["label"]

    at = AppTest.from_file(str(ROOT / "pages/random_intercepts.py"), default_timeout=60)
    at.session_state["ri_dataset"] = "simulate"
    at.session_state["ri_tab"] = tab
    at.run()
    assert not at.exception and active_label(at) == "17.5"
    at.session_state["ri_sigma_b_sweep_step"] = 3  # where the student let go (lab.show_followed's state)
    at.run()
    built = lab.get_truth_sweep_figure.cache_info().misses
    assert not at.exception and active_label(at) == "7.5"
    at.slider(key="ri_sigma_b").set_value(70.0).run()
    assert not at.exception and active_label(at) == "7.5"
    assert lab.get_truth_sweep_figure.cache_info().misses == built
    for dataset in ("sleepstudy", "penicillin", "estrone", "dyestuff"):
        at = AppTest.from_file(str(ROOT / "pages/random_intercepts.py"), default_timeout=60)
        at.session_state["ri_dataset"] = dataset
        at.session_state["ri_tab"] = tab
        at.run()
        assert not at.exception and active_label(at), dataset
    at = AppTest.from_file(str(ROOT / "pages/random_intercepts.py"), default_timeout=60)
    at.query_params["ri_sigma_b_sweep_step"] = "3"  # a shared link: no tab named, the step's tab opens
    at.run()
    assert not at.exception and active_label(at) == "7.5"  # only the open tab is drawn: this one
