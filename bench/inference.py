"""Inference benchmark: denominator df, F tests and confidence intervals, mmcore beside R (lmerTest,
pbkrtest, lme4) timed on this machine in the same run.

    python bench/inference.py [--repeat N] [--no-r]

mmcore's figures are medians over repeats (each call computes everything from the fit; nothing is
cached between calls). R's are from Rscript with system.time over repeats, after a warm-up; if
Rscript is missing the figures measured earlier on this machine are printed, marked so. Figures, not
asserts: the tests hold the numbers, this script the speed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import mmcore  # noqa: E402
from bench.rpeer import median_time, r_script_timings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"satterthwaite": 2e-3, "kenward-roger": 20e-3, "profile": 0.25}
EARLIER_R = {"satterthwaite": 4.6e-3, "kenward-roger": 91e-3, "profile": 1.09}  # measured before, this machine

R_SCRIPT = r"""
suppressMessages(library(lmerTest))
d <- read.csv("%s/datasets/sleepstudy.csv"); d$Subject <- factor(d$Subject)
m <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), d)   # lmerTest's Hessian is made here
m4 <- as(m, "lmerMod")
p <- read.csv("%s/datasets/penicillin.csv"); p$treat <- factor(p$treat); p$blend <- factor(p$blend)
mp <- lmerTest::lmer(yield ~ treat + (1 | blend), p)
tm <- function(expr, n) {  # re-evaluate the call n times (a promise would be evaluated once)
  e <- substitute(expr); env <- parent.frame(); eval(e, env)
  unname(system.time(for (i in seq_len(n)) eval(e, env))["elapsed"]) / n
}
cat("satterthwaite", tm(summary(m), 200), "\n")
cat("satterthwaite_with_hessian", tm(summary(as_lmerModLmerTest(m4)), 50), "\n")
cat("kenward-roger", tm(summary(m, ddf = "Kenward-Roger"), 20), "\n")
cat("anova_satterthwaite", tm(anova(mp), 100), "\n")
cat("anova_kenward-roger", tm(anova(mp, ddf = "Kenward-Roger"), 20), "\n")
cat("profile", tm(suppressMessages(confint(m4, oldNames = FALSE)), 3), "\n")
cat("boot500", tm(suppressMessages(suppressWarnings(confint(m4, method = "boot", nsim = 500))), 1), "\n")
"""


def r_times() -> dict:
    return r_script_timings(R_SCRIPT % (ROOT, ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--no-r", action="store_true", help="skip timing R (print the earlier figures)")
    args = ap.parse_args()
    sleep = mmcore.load_dataset("sleepstudy")
    m = mmcore.fit("Reaction ~ Days + (Days | Subject)", sleep)
    pen = mmcore.fit("yield ~ treat + (1 | blend)", mmcore.load_dataset("penicillin"))
    ours = {
        "satterthwaite": median_time(lambda: mmcore.coef_table(m, "satterthwaite"), args.repeat),
        "kenward-roger": median_time(lambda: mmcore.coef_table(m, "kenward-roger"), args.repeat),
        "anova_satterthwaite": median_time(lambda: mmcore.f_tests(pen, "satterthwaite"), args.repeat),
        "anova_kenward-roger": median_time(lambda: mmcore.f_tests(pen, "kenward-roger"), args.repeat),
        "profile": median_time(lambda: mmcore.confint(m, "profile"), max(3, args.repeat // 10)),
        "boot500": median_time(lambda: mmcore.confint(m, "boot", nsim=500, seed=1), 3),
    }
    fresh = [mmcore.fit("Reaction ~ Days + (Days | Subject)", sleep) for _ in range(30)]
    cold = []
    for f in fresh:  # a fit's first table also rebuilds its design matrices (then kept on the fit)
        t = time.perf_counter()
        mmcore.coef_table(f, "satterthwaite")
        cold.append(time.perf_counter() - t)
    ours["satterthwaite_cold"] = statistics.median(cold)
    theirs = {} if args.no_r else r_times()
    earlier = not theirs
    if earlier:
        theirs = dict(EARLIER_R)
    rows = [
        ("satterthwaite", "coef_table, Satterthwaite, sleepstudy (Days|Subject)", "summary(m)"),
        ("satterthwaite_cold", "  the same, first call on a new fit (design rebuilt)", "as_lmerModLmerTest(m) + summary"),
        ("kenward-roger", "coef_table, Kenward-Roger, sleepstudy (Days|Subject)", 'summary(m, ddf="Kenward-Roger")'),
        ("anova_satterthwaite", "f_tests, Satterthwaite, penicillin treat", "anova(m)"),
        ("anova_kenward-roger", "f_tests, Kenward-Roger, penicillin treat", 'anova(m, ddf="Kenward-Roger")'),
        ("profile", "confint profile, all 6 parameters, (Days|Subject)", "confint(m) (profile)"),
        ("boot500", "confint boot, nsim=500, (Days|Subject)", 'confint(m, method="boot")'),
    ]
    print(f"{'what':54s} {'mmcore':>10s} {'target':>8s} {'R':>10s}  R call")
    for key, label, call in rows:
        target = f"{TARGETS[key] * 1e3:.0f} ms" if key in TARGETS else ""
        r = theirs.get("satterthwaite_with_hessian" if key == "satterthwaite_cold" else key)
        r_text = "" if r is None else (f"{r * 1e3:7.1f} ms" if r < 1 else f"{r:7.2f} s")
        print(f"{label:54s} {ours[key] * 1e3:7.2f} ms {target:>8s} {r_text:>10s}  {call}")
    print("\nlmerTest makes its Hessian and Jacobian when the model is fitted (lmerTest::lmer), so its summary(m) "
          "excludes them;\nmmcore computes them on every call (the second row's R figure includes them).")
    if earlier:
        print("\n(R's figures: measured earlier on this machine; Rscript was not run)")


if __name__ == "__main__":
    main()
