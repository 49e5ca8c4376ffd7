"""Scale benchmark: crossed and many-level models, time and peak memory, lme4 beside us, in one run.

    OPENBLAS_NUM_THREADS=1 python bench/scale.py [--no-r] [--skip-fixed]

Each fit runs in a fresh process (so its peak memory, ru_maxrss, is its own) under the default
resource budget (mmcore.Budget.from_env(): a model past it is refused, and the refusal is printed).
Cases: lmerTest's ham (a sensory data set, three crossed and nested factors); lme4's InstEval (REML and ML), beside lme4's best optimum (tests/reference/insteval.json); 100,000 rows with two crossed
random factors of 5,000 and 3,000 levels; 20,000 rows with a fixed-effect factor of 2,000 levels
and (1 | g); and a formula that would expand to 2^30 - 1 terms. lme4's time is measured here, on
the same data, with Rscript (one run each: these fits take seconds to minutes), and the criterion
lme4 reached there is set against ours (negative: ours is lower, i.e. better).
Figures, not asserts.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import mmcore  # noqa: E402
from bench.rpeer import r_fits_once  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
INSTEVAL = "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)"


def crossed_100k() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 100_000
    s, d = rng.integers(0, 5000, n), rng.integers(0, 3000, n)
    y = 1 + rng.normal(0, 1, 5000)[s] + rng.normal(0, 0.7, 3000)[d] + rng.normal(0, 1.5, n)
    return pd.DataFrame({"y": y, "s": s.astype(str), "d": d.astype(str)})


def fixed_2000() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 20_000
    f = rng.permutation(np.repeat(np.arange(2000), 10))
    g, x = rng.integers(0, 100, n), rng.normal(size=n)
    y = 1 + 0.5 * x + rng.normal(0, 1, 2000)[f] + rng.normal(0, 0.8, 100)[g] + rng.normal(0, 1, n)
    return pd.DataFrame({"y": y, "x": x, "f": [f"f{i:04d}" for i in f], "g": g.astype(str)})


def ham() -> pd.DataFrame:
    """lmerTest's ham (sensory: 81 consumers x 4 products x 2 information levels), as exported for the
    optimizer's references (tests/reference/optimum/real/ham.csv)."""
    d = pd.read_csv(ROOT / "tests" / "reference" / "optimum" / "real" / "ham.csv")
    return d.astype({c: str for c in ("Consumer", "Product", "Information")})


CASES = {
    "lmerTest ham, 3 factors of 81-324 levels": (
        ham, "Informed.liking ~ Product * Information + (1 | Consumer) + (1 | Product:Consumer) + "
        "(1 | Information:Consumer)", True),
    "InstEval REML": (lambda: mmcore.load_dataset("insteval"), INSTEVAL, True),
    "InstEval ML": (lambda: mmcore.load_dataset("insteval"), INSTEVAL, False),
    "100k rows, 5,000 x 3,000 crossed": (crossed_100k, "y ~ 1 + (1 | s) + (1 | d)", True),
    "20k rows, fixed factor of 2,000 levels": (fixed_2000, "y ~ x + f + (1 | g)", True),
}


def _one(name: str, out) -> None:
    make, formula, reml = CASES[name]
    data = make()
    t = time.perf_counter()
    try:
        m = mmcore.fit(formula, data, reml=reml)
        out.put(dict(seconds=time.perf_counter() - t, criterion=m.deviance, converged=bool(m.converged),
                     evaluations=m.evaluations, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    except mmcore.MixedModelError as err:
        out.put(dict(seconds=time.perf_counter() - t, refused=str(err),
                     peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def in_fresh_process(name: str) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_one, args=(name, out))
    proc.start()
    result = out.get()
    proc.join()
    return result


def lme4_fits(names: list[str]) -> dict:
    """{name: (seconds, criterion)} of lme4 on the same data, one run each."""
    frames, exprs, factors = {}, {}, {}
    for i, name in enumerate(names):
        make, formula, reml = CASES[name]
        frames[f"d{i}"] = make()
        factors[f"d{i}"] = [c for c in ("s", "d", "dept", "service", "f", "g", "Consumer", "Product", "Information")
                            if c in frames[f"d{i}"]]
        exprs[name] = f"lmer({formula}, data = d{i}, REML = {'TRUE' if reml else 'FALSE'})"
    return r_fits_once(frames, exprs, factors=factors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-r", action="store_true", help="skip lme4's timings (several minutes)")
    ap.add_argument("--skip-fixed", action="store_true", help="skip the 2,000-level fixed factor")
    args = ap.parse_args()
    names = [n for n in CASES if not (args.skip_fixed and "fixed" in n)]
    ref = json.loads((ROOT / "tests" / "reference" / "insteval.json").read_text())["fits"]
    budget = mmcore.Budget.from_env()
    print(f"budget: {budget.memory_mb:.0f} MB, {budget.seconds:.0f} s estimated, {budget.fixed_columns} fixed columns")
    r_fits = {n: None for n in names} if args.no_r else lme4_fits(names)
    print(f"{'model':42s} {'mmcore':>9s} {'peak MB':>8s} {'evals':>6s} {'lme4 (R)':>9s}  criterion (ours - lme4's)")
    for name in names:
        r = in_fresh_process(name)
        lme4 = "no R" if r_fits.get(name) is None else f"{r_fits[name][0]:7.1f} s"
        if "refused" in r:
            print(f"{name:42s} {r['seconds']:7.2f} s {r['peak_mb']:8.0f} {'':>6s} {lme4:>9s}  REFUSED: {r['refused']}")
            continue
        target = r_fits[name][1] if r_fits.get(name) else None
        if "InstEval" in name:  # lme4's best optimum (bobyqa, tight rhoend: tests/reference/insteval.json)
            target = ref["REML" if "REML" in name else "ML"]["criterion"]
        crit = f"{r['criterion']:.4f}" + (f" ({r['criterion'] - target:+.1e})" if target else "")
        print(f"{name:42s} {r['seconds']:7.2f} s {r['peak_mb']:8.0f} {r['evaluations']:6d} {lme4:>9s}  {crit}"
              f"{'' if r['converged'] else '  NOT CONVERGED'}")
    text = "y ~ " + "*".join(f"x{i}" for i in range(30)) + " + (1 | g)"
    t = time.perf_counter()
    try:
        mmcore.parse_formula(text)
        print("30-factor formula: parsed (unexpected)")
    except mmcore.FormulaError as err:
        print(f"a*b*...*z of 30 names (2^30 - 1 terms): refused in {(time.perf_counter() - t) * 1e3:.2f} ms: {err}")
    t = time.perf_counter()
    mmcore.parse_formula("Reaction ~ " + "*".join(["Days"] * 30) + " + (1 | Subject)")
    print(f"Reaction ~ Days*Days*...*Days (30): {(time.perf_counter() - t) * 1e3:.2f} ms (= Reaction ~ Days, as in R)")


if __name__ == "__main__":
    main()
