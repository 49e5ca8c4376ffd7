"""The simulated data sets of the nested-and-crossed and planning lessons, written as CSVs for
scripts/references/nested_crossed.R (R fits them; the tests compare). Run from the repository root:

    .venv/bin/python scripts/references/nested_crossed_data.py

Writes tests/reference/nested_crossed/{statlab,crossed,plan_between,plan_between2,plan_within,plan_few}.csv.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import mmcore  # noqa: E402
from mmcore.lessons.planning import example_study  # noqa: E402

OUT = ROOT / "tests" / "reference" / "nested_crossed"

FRAMES = {
    "statlab": lambda: mmcore.simulate_statlab(seed=1),
    "crossed": lambda: mmcore.simulate_crossed(seed=1),
    "plan_between": lambda: example_study(10, 6, "between", effect=1.0, sigma_b=1.0, sigma=2.0, seed=1),
    "plan_between2": lambda: example_study(10, 6, "between", effect=1.0, sigma_b=1.0, sigma=2.0, seed=2),
    "plan_within": lambda: example_study(10, 6, "within", effect=1.0, sigma_b=1.0, sigma=2.0, seed=2),
    "plan_few": lambda: example_study(4, 3, "between", effect=1.0, sigma_b=1.0, sigma=1.0, seed=3),
}

if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in FRAMES.items():
        make().to_csv(OUT / f"{name}.csv", index=False, float_format="%.17g")
        print("wrote", OUT / f"{name}.csv")
