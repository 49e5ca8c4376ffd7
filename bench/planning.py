"""Planning benchmark: 1000 simulated studies of 20 groups x 10 observations (treatment between groups),
each analysed fully, mmcore beside R (lme4, lmerTest, pbkrtest) timed on this machine in the same run.

    python bench/planning.py [--repeat N] [--r-studies N] [--no-r]

What one study costs, on both sides: draw the data, fit by REML, the treatment's t test with
Satterthwaite's and Kenward-Roger's df, refit by ML for the likelihood-ratio test of sigma_b = 0
against lm(), and lme4's profile interval of sigma_b. mmcore fits all 1000 studies of a design together
(lmm.batch.fit_many); R fits one study at a time, so R is timed on --r-studies studies and scaled to 1000.
The target is 2 s for the 1000 studies. Figures, not asserts: the tests hold the numbers.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import mmcore.lessons.planning as planning  # noqa: E402
from bench.rpeer import median_time, r_script_timings  # noqa: E402
from mmcore.inference.many import sd_profile_intervals, t_tests_many  # noqa: E402
from mmcore.lmm.batch import fit_many, simulate_responses  # noqa: E402
from mmcore.lmm.deviance import ProfiledDeviance  # noqa: E402
from mmcore.model.design import build_model_data  # noqa: E402

G, N, NSIM, TARGET = 20, 10, 1000, 2.0
TRUTH = dict(effect=0.5, sigma_b=1.0, sigma=2.0)

R_SCRIPT = r"""
suppressMessages({library(lmerTest); library(pbkrtest)})
G <- %d; n <- %d; S <- %d; effect <- %g; sigma_b <- %g; sigma <- %g
group <- factor(rep(seq_len(G), each = n))
treat <- factor((as.integer(group) - 1) %%%% 2, levels = 0:1, labels = c("A", "B"))
draw <- function() effect * (treat == "B") + rnorm(G, 0, sigma_b)[group] + rnorm(G * n, 0, sigma)
set.seed(1)
Y <- replicate(S, draw())
refit_only <- system.time(for (s in seq_len(S)) {
  d <- data.frame(y = draw(), treat, group); m <- lme4::lmer(y ~ treat + (1 | group), d)
})[["elapsed"]]
full <- system.time(for (s in seq_len(S)) {
  d <- data.frame(y = Y[, s], treat, group)
  m <- suppressMessages(lmerTest::lmer(y ~ treat + (1 | group), d))
  sat <- coef(summary(m))["treatB", ]
  kr <- coef(summary(m, ddf = "Kenward-Roger"))["treatB", ]
  lrt <- 2 * (as.numeric(logLik(refitML(m))) - as.numeric(logLik(lm(y ~ treat, d))))
  ci <- suppressMessages(suppressWarnings(confint(as(m, "lmerMod"), parm = "sd_(Intercept)|group",
                                                  oldNames = FALSE, quiet = TRUE)))
})[["elapsed"]]
cat("refit_only", refit_only / S, "\n")
cat("full", full / S, "\n")
"""


def parts(nsim: int) -> dict:
    """The stages of one design's simulation, timed separately (one run each, after a warm-up)."""
    md = build_model_data(planning.FORMULA, planning.design_frame(G, N, "between"))
    reml, ml = ProfiledDeviance(md, True), ProfiledDeviance(md, False)
    rng = np.random.default_rng(2)
    out = {}
    t = time.perf_counter()
    Y = simulate_responses(reml, np.array([TRUTH["sigma_b"] / TRUTH["sigma"]]), np.array([0.0, TRUTH["effect"]]),
                           TRUTH["sigma"], nsim, rng)
    out["draw"] = time.perf_counter() - t
    t = time.perf_counter()
    r = fit_many(reml, Y)
    out["REML fits"] = time.perf_counter() - t
    t = time.perf_counter()
    m = fit_many(ml, Y)
    out["ML fits"] = time.perf_counter() - t
    t = time.perf_counter()
    t_tests_many(md, Y, r.theta, r.sigma, r.beta, np.array([0.0, 1.0]))
    out["Satterthwaite + Kenward-Roger t"] = time.perf_counter() - t
    t = time.perf_counter()
    sd_profile_intervals(ml.with_responses(Y), m.criterion, m.theta[:, 0])
    out["profile intervals of sigma_b"] = time.perf_counter() - t
    return out


def r_times(studies: int) -> dict:
    return r_script_timings(R_SCRIPT % (G, N, studies, TRUTH["effect"], TRUTH["sigma_b"], TRUTH["sigma"]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--r-studies", type=int, default=50)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    whole = median_time(lambda: planning.simulate_studies(G, N, "between", nsim=NSIM, rng=rng, **TRUTH), args.repeat)
    stages = parts(NSIM)
    theirs = {} if args.no_r else r_times(args.r_studies)
    print(f"{NSIM} simulated studies of {G} groups x {N} observations, treatment between groups\n")
    print(f"{'mmcore, all studies of the design at once':66s} {whole:6.2f} s   (target {TARGET:.0f} s)")
    for name, seconds in stages.items():
        print(f"  {name:64s} {seconds:6.2f} s")
    if theirs:
        print(f"\nR (lme4 1.1-31, lmerTest, pbkrtest), one study at a time: {args.r_studies} studies timed, "
              f"scaled to {NSIM}")
        print(f"{'  simulate + refit (lme4::lmer) only':66s} {theirs['refit_only'] * NSIM:6.1f} s"
              f"   ({theirs['refit_only'] * 1e3:.0f} ms a study)")
        print(f"{'  the same analysis as mmcore (REML, both dfs, ML + lm, profile)':66s} {theirs['full'] * NSIM:6.1f} s"
              f"   ({theirs['full'] * 1e3:.0f} ms a study)")
        print(f"\nmmcore's full analysis is {theirs['full'] * NSIM / whole:.0f}x faster than R's, and "
              f"{theirs['refit_only'] * NSIM / whole:.0f}x faster than R's bare refits.")
    else:
        print("\n(no R: Rscript was not found or --no-r)")


if __name__ == "__main__":
    main()
