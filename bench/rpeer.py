"""R as a peer in the benchmarks: time an R expression on this machine, beside ours, in one run;
and the one timing helper of ours every benchmark uses (median_time).

R is a tool here, never a dependency: without `Rscript` (Debian's r-base-core, r-cran-lme4) every
timing is None and the benchmarks print "no R". The data go to R as CSV files written from the very
frames we fit, so both sides fit the same numbers.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

RSCRIPT = shutil.which("Rscript")


def median_time(fn, repeat: int) -> float:
    """Median wall time (s) of fn() over `repeat` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def r_script_timings(script: str) -> dict[str, float]:
    """Run an R script that prints `name seconds` lines; {} without Rscript."""
    if RSCRIPT is None:
        return {}
    out = subprocess.run([RSCRIPT, "-e", script], capture_output=True, text=True, check=False)
    return {name: float(value) for name, value in (line.split() for line in out.stdout.splitlines() if line.strip())}


def r_median_seconds(frames: dict[str, pd.DataFrame], setup: str, expressions: dict[str, str],
                     repeat: int = 20, factors: dict[str, list[str]] | None = None,
                     once: bool = False) -> dict[str, float | None]:
    """Wall time (s) of one run of each R expression: the median of three timings of `repeat` runs
    in a loop, divided by `repeat` (R's clock ticks in milliseconds), after one warm-up run.
    frames are written as CSVs and read into R variables of the same names; `factors` names the
    columns to make factors; `setup` runs once (library calls). once=True: a single timed run, no
    warm-up (fits that take seconds to minutes)."""
    if RSCRIPT is None:
        return {k: None for k in expressions}
    with tempfile.TemporaryDirectory() as tmp:
        lines = ["suppressMessages({", setup, "})"]
        for name, frame in frames.items():
            path = Path(tmp) / f"{name}.csv"
            frame.to_csv(path, index=False)
            lines.append(f'{name} <- read.csv("{path}")')
            for col in (factors or {}).get(name, []):
                lines.append(f"{name}${col} <- factor({name}${col})")
        lines.append("out <- list()")
        for key, expr in expressions.items():
            if once:
                lines.append(f'out[["{key}"]] <- system.time(suppressWarnings(suppressMessages({expr})))[["elapsed"]]')
                continue
            lines += [
                f"f <- function() {{ {expr} }}",
                "invisible(suppressWarnings(suppressMessages(f())))",
                f"t <- sapply(1:3, function(k) system.time(for (i in seq_len({repeat})) "
                "suppressWarnings(suppressMessages(f())))[['elapsed']])",
                f'out[["{key}"]] <- median(t) / {repeat}',
            ]
        lines.append('cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA))')
        script = Path(tmp) / "bench.R"
        script.write_text("\n".join(lines))
        try:
            done = subprocess.run([RSCRIPT, str(script)], capture_output=True, text=True, timeout=3600)
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.SubprocessError, json.JSONDecodeError, IndexError):
            return {k: None for k in expressions}
    return {k: (float(result[k]) if k in result else None) for k in expressions}


def fmt_ms(seconds: float | None) -> str:
    return "no R" if seconds is None else f"{seconds * 1e3:8.1f} ms"


def r_fits_once(frames: dict[str, pd.DataFrame], fits: dict[str, str],
                factors: dict[str, list[str]] | None = None) -> dict[str, tuple[float, float] | None]:
    """lme4 fits that take seconds to minutes: one timed run of each lmer() call, and the criterion
    it reached (REML criterion or ML deviance), so the benchmark prints lme4's optimum beside ours."""
    if RSCRIPT is None:
        return {k: None for k in fits}
    with tempfile.TemporaryDirectory() as tmp:
        lines = ["suppressMessages(library(lme4))"]
        for name, frame in frames.items():
            path = Path(tmp) / f"{name}.csv"
            frame.to_csv(path, index=False)
            lines.append(f'{name} <- read.csv("{path}")')
            lines += [f"{name}${c} <- factor({name}${c})" for c in (factors or {}).get(name, [])]
        lines.append("out <- list()")
        for key, expr in fits.items():
            lines += [f"t <- system.time(m <- suppressWarnings(suppressMessages({expr})))[['elapsed']]",
                      f'out[["{key}"]] <- c(t, if (isREML(m)) REMLcrit(m) else deviance(m))']
        lines.append('cat(jsonlite::toJSON(out, digits = NA))')
        script = Path(tmp) / "fits.R"
        script.write_text("\n".join(lines))
        try:
            done = subprocess.run([RSCRIPT, str(script)], capture_output=True, text=True, timeout=3600)
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.SubprocessError, json.JSONDecodeError, IndexError):
            return {k: None for k in fits}
    return {k: (tuple(float(v) for v in result[k]) if k in result else None) for k in fits}
