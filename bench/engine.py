"""Engine benchmark: median time per fit, mmcore beside statsmodels MixedLM, in one run.

    python bench/engine.py [--repeat N] [--with-statsmodels-large]

Prints, per model: mmcore's median time per fit (and with every pandas view built), statsmodels'
median and lme4's (R on this machine, through Rscript, when installed), and how far statsmodels'
criterion is from mmcore's (positive: statsmodels stopped short of the optimum). Then the
20,000-row fit's distance from the optimum (a Nelder-Mead polish started at mmcore's answer), and
1000 parametric-bootstrap replicates beside R's time for the same refits.
Figures, not asserts: speed is measured here, not in the tests.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import mmcore  # noqa: E402
from bench.rpeer import fmt_ms, median_time, r_median_seconds  # noqa: E402
from mmcore.lmm.deviance import ProfiledDeviance  # noqa: E402
from mmcore.model.design import build_model_data  # noqa: E402


def touch(f: mmcore.LmmFit) -> None:
    f.fixef, f.se, f.vcov, f.varcorr, f.ranef, f.ranef_sd  # noqa: B018 (build the pandas views)


def statsmodels_fit(case: dict):
    import statsmodels.formula.api as smf

    d = case["data"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return smf.mixedlm(case["sm_formula"], d, **case["sm_kwargs"](d)).fit(reml=True)


def cases(large: bool) -> list[dict]:
    sleep = mmcore.load_dataset("sleepstudy")
    pen = mmcore.load_dataset("penicillin").rename(columns={"yield": "y"})
    crossed = mmcore.load_dataset("penicillin_lme4")
    big = mmcore.simulate_slopes(n_groups=2000, n_per_group=10, seed=1)
    return [
        dict(name="sleepstudy (1|Subject)", data=sleep, formula="Reaction ~ Days + (1|Subject)",
             sm_formula="Reaction ~ Days", sm_kwargs=lambda d: dict(groups=d["Subject"])),
        dict(name="sleepstudy (Days|Subject)", data=sleep, formula="Reaction ~ Days + (Days|Subject)",
             sm_formula="Reaction ~ Days", sm_kwargs=lambda d: dict(groups=d["Subject"], re_formula="~Days")),
        dict(name="penicillin treat + (1|blend)", data=pen, formula="y ~ treat + (1|blend)",
             sm_formula="y ~ treat", sm_kwargs=lambda d: dict(groups=d["blend"])),
        dict(name="Penicillin crossed plate x sample", data=crossed,
             formula="diameter ~ 1 + (1|plate) + (1|sample)", sm_formula="diameter ~ 1",
             sm_kwargs=lambda d: dict(groups=np.ones(len(d)), re_formula="0",
                                      vc_formula={"plate": "0 + C(plate)", "sample": "0 + C(sample)"})),
        dict(name="simulated 20,000 rows, 2,000 groups (x|group)", data=big, formula="y ~ x + (x|group)",
             sm_formula="y ~ x", sm_kwargs=lambda d: dict(groups=d["group"], re_formula="~x"),
             skip_sm=not large, repeat=9),
    ]


def lme4_times(all_cases: list[dict], repeat: int) -> dict:
    """lmer's median time per fit for each case (REML, lme4's default optimizer), in R here."""
    frames = {f"d{i}": c["data"] for i, c in enumerate(all_cases)}
    factors = {f"d{i}": [g for g in ("Subject", "blend", "treat", "plate", "sample", "group") if g in c["data"]]
               for i, c in enumerate(all_cases)}
    exprs = {c["name"]: f"lmer({c['formula']}, data = d{i})" for i, c in enumerate(all_cases)}
    return r_median_seconds(frames, "library(lme4)", exprs, repeat=repeat, factors=factors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--with-statsmodels-large", action="store_true",
                    help="also time statsmodels on the 20,000-row data (about half a minute a fit)")
    args = ap.parse_args()
    all_cases = cases(args.with_statsmodels_large)
    r_times = lme4_times(all_cases, 20)
    print(f"{'model':46s} {'mmcore':>9s} {'+views':>9s} {'statsmodels':>12s} {'lme4 (R)':>11s} {'sm - mm criterion':>18s}")
    for case in all_cases:
        repeat = case.get("repeat", args.repeat)
        fit = lambda: mmcore.fit(case["formula"], case["data"])  # noqa: E731
        t_mm = median_time(fit, repeat)
        t_views = median_time(lambda: touch(fit()), repeat)
        ours = fit()
        if case.get("skip_sm"):
            sm_text, gap = "skipped", ""
        else:
            t_sm = median_time(lambda: statsmodels_fit(case), max(3, repeat // 5))
            res = statsmodels_fit(case)
            sm_text = f"{t_sm * 1e3:9.1f} ms"
            gap = f"{-2 * res.llf - ours.reml_criterion:+.2e}"
        print(f"{case['name']:46s} {t_mm * 1e3:6.2f} ms {t_views * 1e3:6.2f} ms {sm_text:>12s} "
              f"{fmt_ms(r_times[case['name']]):>11s} {gap:>18s}")

    big = all_cases[-1]
    ours = mmcore.fit(big["formula"], big["data"])
    dev = ProfiledDeviance(build_model_data(big["formula"], big["data"]), reml=True)
    from scipy.optimize import minimize

    polish = minimize(lambda t: dev.evaluate(t[None])[0], ours.theta,
                      method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10, "maxfev": 3000})
    print(f"\n20,000-row fit: REML criterion {ours.reml_criterion:.6f}; a Nelder-Mead polish from mmcore's "
          f"optimum improves it by {ours.reml_criterion - polish.fun:.2e} (0 = at the optimum)")

    pen = mmcore.load_dataset("penicillin")
    m0 = mmcore.fit("yield ~ 1 + (1|blend)", pen, reml=False)
    m1 = mmcore.fit("yield ~ treat + (1|blend)", pen, reml=False)
    t_boot = median_time(lambda: mmcore.bootstrap_lrt(m0, m1, nsim=1000, seed=1), 5)
    b = mmcore.bootstrap_lrt(m0, m1, nsim=1000, seed=1)
    r_boot = r_median_seconds(
        {"pen": pen}, "library(lme4)",
        {"boot": "m0 <- lmer(yield ~ 1 + (1|blend), pen, REML = FALSE); m1 <- update(m0, . ~ . + treat); "
                 "for (i in 1:100) { y <- simulate(m0)[[1]]; refit(m0, y); refit(m1, y) }"},
        repeat=3, factors={"pen": ["treat", "blend"]})["boot"]
    r_text = "no R" if r_boot is None else f"{r_boot * 10:.1f} s (100 replicates timed, times 10)"
    print(f"bootstrap_lrt(nsim=1000), penicillin treat: {t_boot:.3f} s (2000 ML refits); lme4 simulate+refit: "
          f"{r_text}; p = {b.p_value:.3f} +- {b.mc_se:.3f}, chi-square p = {b.p_chisq:.3f}")


if __name__ == "__main__":
    main()
