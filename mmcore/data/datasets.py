"""The datasets the app ships (datasets/*.csv, see datasets/README.md), typed as R has them."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..errors import DataError

DATA_DIR = Path(__file__).resolve().parents[2] / "datasets"


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    description: str
    response: str
    groups: tuple[str, ...]
    formula: str  # the suggested model
    factors: dict  # column -> R's level order (a CSV does not keep it), or NUMERIC: by number
    simulated: bool = False
    file: str = ""  # the file under datasets/ (default: name.csv)


NUMERIC = "numeric"  # levels that are numbers, in numeric order (R's factor() of integer codes)
_SUBJECTS = ["308", "309", "310", "330", "331", "332", "333", "334", "335", "337", "349", "350",
             "351", "352", "369", "370", "371", "372"]

DATASETS = {
    d.name: d
    for d in [
        DatasetInfo(
            "sleepstudy", "Sleep deprivation (lme4 sleepstudy)",
            "Average reaction time (ms) of 18 truck drivers on each of 10 days of sleep restriction "
            "(3 hours in bed a night). Belenky et al. (2003), J. Sleep Research.",
            "Reaction", ("Subject",), "Reaction ~ Days + (Days | Subject)", {"Subject": _SUBJECTS},
        ),
        DatasetInfo(
            "penicillin", "Penicillin production (faraway penicillin)",
            "Yield of 4 penicillin production processes (treat A-D), each run once on each of 5 blends "
            "of corn steep liquor: a randomised block design. Box, Hunter & Hunter (1978).",
            "yield", ("blend",), "yield ~ treat + (1 | blend)",
            {"treat": list("ABCD"), "blend": [f"Blend{i}" for i in range(1, 6)]},
        ),
        DatasetInfo(
            "dyestuff", "Dyestuff yield (lme4 Dyestuff)",
            "Yield of dyestuff (grams of standard colour) from 5 preparations from each of 6 batches of "
            "an intermediate product. Davies & Goldsmith (1972).",
            "Yield", ("Batch",), "Yield ~ 1 + (1 | Batch)", {"Batch": list("ABCDEF")},
        ),
        DatasetInfo(
            "estrone", "Estrone-style replicates (simulated)",
            "SIMULATED data shaped like Rosner's estrone study: 5 women, 16 replicate plasma estrone "
            "measurements each (pg/mL). The real data are not public; see datasets/README.md.",
            "Estrone", ("Subject",), "Estrone ~ 1 + (1 | Subject)", {"Subject": ["1", "2", "3", "4", "5"]},
            simulated=True,
        ),
        DatasetInfo(
            "penicillin_lme4", "Penicillin assay, crossed (lme4 Penicillin)",
            "Diameter (mm) of the zone of inhibition for 6 penicillin samples, each assayed on each of 24 "
            "plates: plate and sample are crossed random factors. Davies & Goldsmith (1972).",
            "diameter", ("plate", "sample"), "diameter ~ 1 + (1 | plate) + (1 | sample)",
            {"plate": [chr(c) for c in range(ord("a"), ord("x") + 1)], "sample": list("ABCDEF")},
        ),
        DatasetInfo(
            "pastes", "Paste strength, nested (lme4 Pastes)",
            "Strength of a chemical paste: 10 delivery batches, 3 casks from each batch, 2 tests of each cask. "
            "Casks are nested in batches: cask 'a' of batch A is not cask 'a' of batch B. Davies & Goldsmith (1972).",
            "strength", ("batch", "cask"), "strength ~ 1 + (1 | batch/cask)",
            {"batch": list("ABCDEFGHIJ"), "cask": list("abc")},
        ),
        DatasetInfo(
            "insteval", "University lecture evaluations, crossed (lme4 InstEval)",
            "73,421 ratings (1 = poor ... 5 = very good) of lectures at ETH Zurich: 2,972 students (s) rated "
            "1,128 lecturers (d); students and lecturers are crossed random factors. service: the lecture is a "
            "service course of another department; dept: the lecturer's department. lme4 (GPL); see datasets/README.md.",
            "y", ("s", "d"), "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)",
            {"s": NUMERIC, "d": NUMERIC, "studage": ["2", "4", "6", "8"], "lectage": list("123456"),
             "service": ["0", "1"], "dept": ["15", "5", "10", "12", "6", "7", "4", "8", "9", "14", "1", "3", "11", "2"]},
            file="insteval.csv.gz",
        ),
    ]
}


def list_datasets() -> dict[str, DatasetInfo]:
    """The shipped datasets by name, with a description, response, grouping factors and a formula."""
    return dict(DATASETS)


@lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    info = DATASETS[name]
    df = pd.read_csv(DATA_DIR / (info.file or f"{name}.csv"), dtype={c: str for c in info.factors})
    for col, levels in info.factors.items():
        if levels == NUMERIC:
            levels = sorted(df[col].unique(), key=int)
        df[col] = pd.Categorical(df[col], categories=levels)
    return df


def load_dataset(name: str) -> pd.DataFrame:
    """A shipped dataset as a DataFrame, factors as pandas categoricals in R's level order."""
    if name not in DATASETS:
        raise DataError(f"There is no dataset called '{name}'. The datasets are: {', '.join(DATASETS)}.")
    return _read(name).copy()
