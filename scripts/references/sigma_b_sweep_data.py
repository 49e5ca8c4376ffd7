"""The data sets of random intercepts' sigma_b sweep (mmcore.lessons.sweeps.sigma_b_sweep), every step,
written as CSVs for scripts/references/sigma_b_sweep.R (R fits each step; tests/test_sweeps.py compares
and checks that the sweep still draws these data). Run from the repository root:

    .venv/bin/python scripts/references/sigma_b_sweep_data.py

Writes tests/reference/sigma_b_sweep/{CASES}.csv: step, sigma_b, group, y.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mmcore.figures.sweeps import sigma_b_grid  # noqa: E402
from mmcore.lessons.sweeps import sigma_b_sweep  # noqa: E402

OUT = ROOT / "tests" / "reference" / "sigma_b_sweep"

# name: (groups, per group, sigma, beta0): the simulate page's default truth; a small data set shaped as
# dyestuff's; three groups of two (singular steps beyond the first)
CASES = {
    "default": (10, 8, 25.0, 250.0),
    "dyestuff_shape": (6, 5, 50.0, 1500.0),
    "three_of_two": (3, 2, 1.0, 0.0),
}


def sweep(name: str):
    groups, per, sigma, beta0 = CASES[name]
    return sigma_b_sweep(groups, per, sigma, beta0, sigma_b_grid(sigma, per))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name in CASES:
        s = sweep(name)
        rows = [dict(step=k + 1, sigma_b=s.sigmas_b[k], group=f"g{g + 1}", y=y)
                for k in range(len(s.sigmas_b)) for g, y in zip(s.group, s.y[k])]
        pd.DataFrame(rows).to_csv(OUT / f"{name}.csv", index=False, float_format="%.17g")
        print(name, len(s.sigmas_b), "steps")
