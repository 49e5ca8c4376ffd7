"""Make datasets/estrone.csv: an estrone-style data set, simulated (the real one is not public).

Shape of Rosner's estrone data: 5 postmenopausal women, 16 replicate plasma estrone
measurements each (pg/mL). Truth: mean 32 pg/mL, between-woman SD 11, within-woman
(assay) SD 4.5, so ICC = 121 / (121 + 20.25) = 0.86. With only five women a random draw of their
means can land far from that spread, so the five true means are the quintile midpoints of
N(32, 11^2) in a shuffled order; the assay noise is random (seeded). Values are rounded to whole
pg/mL, as assays report.
Run: python scripts/make_estrone.py  (seeded: the file it writes is the one shipped).
"""
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

SEED, MEAN, SD_WOMAN, SD_ASSAY = 20261121, 32.0, 11.0, 4.5


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    woman_means = MEAN + SD_WOMAN * rng.permutation(norm.ppf([0.1, 0.3, 0.5, 0.7, 0.9]))
    rows = [(w + 1, r + 1, round(woman_means[w] + rng.normal(0.0, SD_ASSAY))) for w in range(5) for r in range(16)]
    assert min(r[2] for r in rows) > 0, "a concentration must be positive"
    return pd.DataFrame(rows, columns=["Subject", "Replicate", "Estrone"]).astype({"Estrone": int})


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "datasets" / "estrone.csv"
    make().to_csv(out, index=False, lineterminator="\n")
    print(f"wrote {out}")
