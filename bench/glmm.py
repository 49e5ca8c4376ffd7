"""GLMM benchmark: mmcore's fits beside lme4's glmer, timed on this machine in one run.

    python bench/glmm.py [--repeat N] [--nsim 1000] [--no-r]

Per model: mmcore's median and best time per fit (all stages, SEs included) and its log-likelihood;
glmer's time (system.time over repeats, default optimizer and control) and its log-likelihood; the
reference optimum (tests/reference/glmm_reference.json, the best of nine R optimizer runs). Then a
parametric bootstrap of cbpp's period effect, 1000 replicates (2000 GLMM refits): mmcore in full;
R as lme4's refit() of simulate()d responses, timed over 20 replicates and scaled. Figures, not
asserts: speed is measured here, not in the tests.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import mmcore  # noqa: E402

REFERENCE = {f["id"]: f for f in json.loads((ROOT / "tests/reference/glmm_reference.json").read_text())["fits"]}
CTSIB = "stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject)"
CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
TICKS = "TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)"
CASES = [("ctsib Laplace", "ctsib", CTSIB, "binomial", 1, "ctsib_laplace"),
         ("ctsib nAGQ = 25", "ctsib", CTSIB, "binomial", 25, "ctsib_agq25"),
         ("cbpp Laplace", "cbpp", CBPP, "binomial", 1, "cbpp_laplace"),
         ("cbpp nAGQ = 25", "cbpp", CBPP, "binomial", 25, "cbpp_agq25"),
         ("grouseticks, 3 crossed/nested terms", "grouseticks", TICKS, "poisson", 1, "grouseticks_laplace")]

R_PRELUDE = """suppressMessages(library(lme4))
read <- function(name) {
  d <- read.csv(file.path("datasets", paste0(name, ".csv")))
  if (name == "ctsib") { d$stable <- as.integer(d$CTSIB == 1); d$Subject <- factor(d$Subject) }
  if (name == "cbpp") { d$herd <- factor(d$herd); d$period <- factor(d$period) }
  if (name == "grouseticks") for (v in c("INDEX", "BROOD", "LOCATION", "YEAR")) d[[v]] <- factor(d[[v]])
  d
}
"""


def r_fit_times(repeat: int) -> dict:
    """glmer's seconds per fit and log-likelihood (the full one at nAGQ > 1, as mmcore reports it)."""
    lines = [R_PRELUDE, "sat <- function(m) { y <- m@resp$y; w <- m@resp$weights;"
             " if (family(m)$family == 'poisson') sum(dpois(y, y, log = TRUE)) else"
             " sum(dbinom(round(w * y), round(w), y, log = TRUE)) }"]
    for label, data, formula, family, nagq, _ in CASES:
        lines.append(f'd <- read("{data}"); f <- {formula}; m <- suppressWarnings(glmer(f, d, {family}, nAGQ = {nagq}))\n'
                     f't <- system.time(for (i in 1:{repeat}) suppressWarnings(glmer(f, d, {family}, nAGQ = {nagq})))'
                     f'[["elapsed"]] / {repeat}\n'
                     f'll <- as.numeric(logLik(m)) + if ({nagq} > 1) sat(m) else 0\n'
                     f'cat("{label}", t, ll, sep = "\\t"); cat("\\n")')
    lines.append("""d <- read("cbpp")
m0 <- glmer(cbind(incidence, size - incidence) ~ 1 + (1 | herd), d, binomial)
m1 <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), d, binomial)
Y <- simulate(m0, nsim = 20, seed = 1)
t <- system.time(for (i in 1:20) { y <- Y[[i]]; suppressWarnings({refit(m0, y); refit(m1, y)}) })[["elapsed"]]
cat("bootstrap", t / 20, NA, sep = "\\t"); cat("\\n")""")
    out = subprocess.run(["Rscript", "-e", "\n".join(lines)], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    rows = {}
    for line in out.stdout.splitlines():
        label, t, ll = line.split("\t")
        rows[label] = (float(t), float(ll) if ll != "NA" else float("nan"))
    return rows


def ours(repeat: int) -> dict:
    rows = {}
    for label, data, formula, family, nagq, ref in CASES:
        d = mmcore.load_dataset(data)
        fit = mmcore.fit(formula, d, family=family, nagq=nagq)  # warm up (imports, caches)
        times = []
        for _ in range(repeat if data != "grouseticks" else max(1, repeat // 5)):
            t = time.perf_counter()
            fit = mmcore.fit(formula, d, family=family, nagq=nagq)
            times.append(time.perf_counter() - t)
        rows[label] = (statistics.median(times), min(times), fit.loglik, REFERENCE[ref]["loglik_full"], fit.converged)
    return rows


def bootstrap(nsim: int) -> float:
    d = mmcore.load_dataset("cbpp")
    m0 = mmcore.fit("cbind(incidence, size - incidence) ~ 1 + (1 | herd)", d, family="binomial")
    m1 = mmcore.fit(CBPP, d, family="binomial")
    t = time.perf_counter()
    b = mmcore.bootstrap_lrt(m0, m1, nsim=nsim, seed=1)
    elapsed = time.perf_counter() - t
    print(f"\nparametric bootstrap, cbpp period effect: {nsim} replicates ({2 * nsim} refits), p = {b.p_value:.3f}, "
          f"{b.failed} refits not verified")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--nsim", type=int, default=1000)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args()
    mine = ours(args.repeat)
    boot = bootstrap(args.nsim)
    theirs = {} if args.no_r or not shutil.which("Rscript") else r_fit_times(3)
    print(f"\n{'model':38s} {'mmcore median':>13s} {'best':>8s} {'glmer':>8s} {'ratio':>6s}   logLik: "
          f"{'mmcore':>12s} {'glmer':>12s} {'reference':>12s}")
    for label, (med, best, ll, ref, ok) in mine.items():
        rt, rll = theirs.get(label, (float("nan"), float("nan")))
        print(f"{label:38s} {med * 1e3:10.1f} ms {best * 1e3:5.1f} ms {rt * 1e3:5.0f} ms {rt / med:6.1f}   "
              f"{ll:12.5f} {rll:12.5f} {ref:12.5f}{'' if ok else '  (not verified)'}")
    rt = theirs.get("bootstrap", (float("nan"),))[0] * args.nsim
    print(f"{'bootstrap, ' + str(args.nsim) + ' replicates':38s} {boot:10.2f} s  {'':8s} {rt:6.0f} s (R: refit(), "
          "20 replicates timed and scaled)")


if __name__ == "__main__":
    main()
