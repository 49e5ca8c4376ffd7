"""Page latency: the server-side time of a rerun after a page's main widget moves.

    python bench/pages.py [--moves 20]

Each page runs under Streamlit's AppTest (the script as the server runs it, in this process).
Every move sets a value not seen before, so each rerun really refits and redraws (the cold
case a student meets when dragging a slider); median and p95 over the moves. Target: p95 <= 150 ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from streamlit.testing.v1 import AppTest  # noqa: E402

PAIRS = ["penicillin: does the process (treat) matter?", "sleepstudy: do drivers differ in their slopes?",
         "sleepstudy: does sleep deprivation matter (Days)?"]
EXPLORER = ["random intercept: (1 | Subject)", "correlated intercept and slope: (Days | Subject)",
            "uncorrelated intercept and slope: (Days || Subject)", "slope only: (0 + Days | Subject)",
            "nested: (1 | batch/cask)", "nested, written out: (1 | batch) + (1 | batch:cask)",
            "crossed: (1 | plate) + (1 | sample)"]

# page, what moves, initial session state, how to move it (at, i) -> widget set
SCENARIOS = [
    ("random_intercepts", "sigma_b slider (simulate: refit + redraw)", {"ri_dataset": "simulate"},
     lambda at, i: at.slider(key="ri_sigma_b").set_value(10.0 + 2 * i)),
    ("random_intercepts", "pooling pills (sleepstudy)", {},
     lambda at, i: at.pills(key="ri_show").set_value([["partial pooling"], ["partial pooling", "no pooling"],
                                                     ["partial pooling", "no pooling", "complete pooling"]][i % 3])),
    ("random_slopes", "rho slider (simulate: 3 refits + redraw)", {"rs_dataset": "simulate"},
     lambda at, i: at.slider(key="rs_rho").set_value(round(-0.95 + 0.1 * i, 2))),
    ("random_slopes", "model radio (sleepstudy)", {},
     lambda at, i: at.radio(key="rs_model").set_value(["uncorrelated", "intercept only", "correlated"][i % 3])),
    ("shrinkage", "observations kept, let go on the chart's slider (sleepstudy: the sweep's fit)", {},
     lambda at, i: at.session_state.__setitem__("sh_keep", 1 + i % 10)),
    ("shrinkage", "days kept, let go on the chart's slider (random slopes tab: the sweep's fit)",
     {"sh_tab": "Random slopes"}, lambda at, i: at.session_state.__setitem__("sh_days", 2 + i % 9)),
    ("shrinkage", "sigma_b / sigma slider (simulate)", {"sh_dataset": "simulate"},
     lambda at, i: at.slider(key="sh_ratio").set_value(round(0.1 + 0.1 * i, 2))),
    ("ml_vs_reml", "sigma_b slider (simulate: curves + fits)", {"mr_dataset": "simulate"},
     lambda at, i: at.slider(key="mr_sigma_b").set_value(10.0 + 2 * i)),
    ("model_comparison", "comparison select (3 pairs)", {},
     lambda at, i: at.selectbox(key="mc_pair").set_value(PAIRS[i % 3])),
    ("under_the_hood", "formula select (7 formulas)", {},
     lambda at, i: at.selectbox(key="uh_formula").set_value(EXPLORER[i % 7])),
    ("icc", "ICC slider (simulate)", {"ic_dataset": "simulate"},
     lambda at, i: at.slider(key="ic_icc").set_value(round(0.05 + 0.04 * i, 2))),
    ("nested_crossed", "student SD slider (simulate: 2 nested fits)", {"nc_dataset": "simulate"},
     lambda at, i: at.slider(key="nc_statlab_sigma_student").set_value(1.0 + 0.5 * i)),
    ("nested_crossed", "item SD slider (simulate: 2 crossed fits)", {"nc_dataset": "simulate",
                                                                     "nc_design": "subjects x items"},
     lambda at, i: at.slider(key="nc_crossed_sigma_item").set_value(5.0 * (i + 1))),
    ("planning", "effect slider (pilot dyestuff: theory curves)", {},
     lambda at, i: at.slider(key="pl_d").set_value(round(0.1 + 0.05 * i, 2))),
]


def measure(page: str, state: dict, move, moves: int) -> list[float]:
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    times = []
    for i in range(moves):
        move(at, i)
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=20)
    ap.add_argument("--pages", nargs="*", help="only these pages")
    args = ap.parse_args()
    print(f"{'page':20s} {'widget moved':44s} {'median':>9s} {'p95':>9s}  (target p95 <= 150 ms)")
    for page, what, state, move in SCENARIOS:
        if args.pages and page not in args.pages:
            continue
        t = np.array(measure(page, state, move, args.moves)) * 1e3
        print(f"{page:20s} {what:44s} {statistics.median(t):6.1f} ms {np.percentile(t, 95):6.1f} ms")


if __name__ == "__main__":
    main()
