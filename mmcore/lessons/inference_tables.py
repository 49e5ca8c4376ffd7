"""The tables of the lesson on tests and intervals: each fixed effect's t test with every choice of
df, intervals of fixed effects and of variance components by several methods."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..inference.ddf import coef_table
from ..inference.intervals import Profile, percentile_interval
from ..inference.wald import variance_wald
from ..lmm.results import LmmFit


def t_tests(fit: LmmFit) -> pd.DataFrame:
    """Each fixed effect's t with its p-value by: the normal (z, infinite df), the residual df n - p,
    Satterthwaite's df and Kenward-Roger's (with its adjusted SE)."""
    satt = coef_table(fit, "satterthwaite")
    t = satt["t value"].to_numpy()
    n, p = fit.nobs, len(fit.beta)
    out = pd.DataFrame({"estimate": satt["Estimate"], "SE": satt["Std. Error"], "t": t,
                        "p (z, df = inf)": 2 * stats.norm.sf(np.abs(t)),
                        f"p (df = n - p = {n - p})": 2 * stats.t.sf(np.abs(t), n - p),
                        "df Satterthwaite": satt["df"], "p Satterthwaite": satt["Pr(>|t|)"]})
    if fit.reml:
        kr = coef_table(fit, "kenward-roger")
        out["df Kenward-Roger"] = kr["df"]
        out["p Kenward-Roger"] = kr["Pr(>|t|)"]
    return out


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """t_tests() as text for the screen: 4 significant digits, df to 2 decimals, p-values as R prints them."""
    from ..lmm.results import format_p

    out = pd.DataFrame(index=table.index)
    for col in table.columns:
        values = table[col].to_numpy(dtype=float)
        if col.startswith("p"):
            out[col] = [format_p([v])[0] for v in values]
        elif col.startswith("df"):
            out[col] = [f"{v:.2f}" for v in values]
        else:
            out[col] = [f"{v:.4g}" for v in values]
    return out


def fixed_intervals(fit: LmmFit, profile: Profile, boot: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """Long table (parameter, method, estimate, lower, upper) of each fixed effect's interval: Wald
    (z), t with Satterthwaite's and Kenward-Roger's df, profile likelihood, bootstrap percentile."""
    z = stats.norm.ppf(0.5 + level / 2)
    satt = coef_table(fit, "satterthwaite")
    kr = coef_table(fit, "kenward-roger") if fit.reml else None
    prof = profile.interval()
    rows = []
    for name in satt.index:
        est, se = satt.loc[name, "Estimate"], satt.loc[name, "Std. Error"]
        rows.append((name, "Wald", est, est - z * se, est + z * se))
        q = stats.t.ppf(0.5 + level / 2, satt.loc[name, "df"])
        rows.append((name, "Satterthwaite t", est, est - q * se, est + q * se))
        if kr is not None:
            q, se_kr = stats.t.ppf(0.5 + level / 2, kr.loc[name, "df"]), kr.loc[name, "Std. Error"]
            rows.append((name, "Kenward-Roger t", est, est - q * se_kr, est + q * se_kr))
        rows.append((name, "profile", est, prof.loc[name, "lower"], prof.loc[name, "upper"]))
        if boot is not None:
            rows.append((name, "bootstrap", est, *percentile_interval(boot[name].to_numpy(), level)))
    return pd.DataFrame(rows, columns=["parameter", "method", "estimate", "lower", "upper"])


def variance_intervals(fit: LmmFit, profile: Profile, boot: pd.DataFrame | None = None, level: float = 0.95,
                       scale: str = "variance") -> pd.DataFrame:
    """Long table of each variance component's interval on the variance (or SD) scale: Wald from the
    observed information (symmetric, it can cross zero), profile likelihood, bootstrap percentile."""
    wald = variance_wald(fit, level)
    prof = profile.interval()
    rows = []
    power = 2 if scale == "variance" else 1
    for name in wald.index:
        est = wald.loc[name, "variance" if power == 2 else "sd"]
        lo, hi = (wald.loc[name, "variance_lower"], wald.loc[name, "variance_upper"]) if power == 2 else \
            (wald.loc[name, "sd_lower"], wald.loc[name, "sd_upper"])
        label = name.replace("sd_", "var_") if power == 2 and name != "sigma" else ("sigma^2" if power == 2 else name)
        rows.append((label, "Wald", est, lo, hi))
        rows.append((label, "profile", est, prof.loc[name, "lower"] ** power, prof.loc[name, "upper"] ** power))
        if boot is not None:
            lo, hi = percentile_interval(boot[name].to_numpy(), level)
            rows.append((label, "bootstrap", est, lo**power, hi**power))
    return pd.DataFrame(rows, columns=["parameter", "method", "estimate", "lower", "upper"])
