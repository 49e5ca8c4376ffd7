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
    family: str = "gaussian"  # the suggested model's family (binomial, poisson: a glmer model)
    file: str = ""  # the file under datasets/ (default: name.csv)


NUMERIC = "numeric"  # levels that are numbers, in numeric order (R's factor() of integer codes)
_SUBJECTS = ["308", "309", "310", "330", "331", "332", "333", "334", "335", "337", "349", "350",
             "351", "352", "369", "370", "371", "372"]

DATASETS = {
    d.name: d
    for d in [
        DatasetInfo(
            "sleepstudy", "Sleep deprivation (lme4 sleepstudy)",
            "Average reaction time (ms) of 18 truck drivers on days 0-9 of a sleep study (3 hours in bed a "
            "night). Days 0 and 1 were adaptation and training, day 2 the baseline; sleep deprivation began "
            "after day 2 (lme4's documentation). Belenky et al. (2003), J. Sleep Research.",
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
        DatasetInfo(
            "ctsib", "Balance: standing stable or not (faraway ctsib)",
            "40 subjects each tried to stand still twice under each of 6 conditions: surface (foam or normal) x "
            "vision (eyes closed, open, or a dome over the head). `stable` is 1 when balance was rated stable "
            "(CTSIB = 1), else 0. Steele (1998), via Faraway, Extending the Linear Model with R.",
            "stable", ("Subject",), "stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject)",
            {"Subject": [str(i) for i in range(1, 41)], "Sex": ["female", "male"], "Surface": ["foam", "norm"],
             "Vision": ["closed", "dome", "open"]}, family="binomial",
        ),
        DatasetInfo(
            "cbpp", "Contagious bovine pleuropneumonia (lme4 cbpp)",
            "New cases of CBPP (incidence) among the cattle of 15 herds (size), in 4 periods of a follow-up "
            "in Ethiopia: binomial counts, k of n. Lesnoff et al. (2004).",
            "incidence", ("herd",), "cbind(incidence, size - incidence) ~ period + (1 | herd)",
            {"herd": [str(i) for i in range(1, 16)], "period": ["1", "2", "3", "4"]}, family="binomial",
        ),
        DatasetInfo(
            "grouseticks", "Ticks on red grouse chicks (lme4 grouseticks)",
            "Number of ticks on the heads of 403 red grouse chicks (INDEX) from 118 broods at 63 locations, "
            "in three years; cHEIGHT is the location's altitude, centred. Elston et al. (2001).",
            "TICKS", ("INDEX", "BROOD", "LOCATION"),
            "TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
            {"YEAR": ["95", "96", "97"]}, family="poisson",
        ),
        DatasetInfo(
            "trees", "Tree growth under three fertilizers (StatLab workshop, simulated)",
            "SIMULATED heights (feet) of 36 trees, 12 per fertilizer A-C, after 1-4 years: each tree grows at "
            "its own rate and each year's deviation is carried forward (a random walk). See datasets/README.md.",
            "height", ("tree",), "height ~ 0 + year:fert + (0 + year | tree)",
            {"tree": [f"T{i:02d}" for i in range(1, 37)], "fert": list("ABC")}, simulated=True,
        ),
        DatasetInfo(
            "ovary", "Ovarian follicles of mares (nlme Ovary)",
            "Number of ovarian follicles larger than 10 mm in 11 mares, counted daily over their oestrus cycles "
            "(Time in cycles; s, c = sin and cos of 2 pi Time). Pierpaoli (1987), via Pinheiro & Bates (2000).",
            "follicles", ("Mare",), "follicles ~ s + c + (s || Mare)", {"Mare": [str(i) for i in range(1, 12)]},
        ),
        DatasetInfo(
            "bodyweight", "Body weights of rats on three diets (nlme BodyWeight)",
            "Weights (g) of 16 rats on 3 diets, weighed on days 1-64, mostly weekly (one extra weighing on day "
            "44). Crowder & Hand (1990), via Pinheiro & Bates (2000).",
            "weight", ("Rat",), "weight ~ Time * Diet + (Time | Rat)",
            {"Rat": [str(i) for i in range(1, 17)], "Diet": ["1", "2", "3"]},
        ),
    ]
}
# Columns R scripts derive from the shipped file (the file itself is kept unchanged).
DERIVED = {"ctsib": lambda d: d.assign(stable=(d["CTSIB"] == 1).astype(int))}
# Grouping columns whose levels are numbers: factors in R, in numeric order (as R has them).
NUMERIC_LEVELS = {"grouseticks": ("INDEX", "BROOD", "LOCATION")}


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
    for col in NUMERIC_LEVELS.get(name, ()):
        df[col] = pd.Categorical(df[col].astype(str), categories=[str(v) for v in sorted(df[col].unique())])
    return DERIVED[name](df) if name in DERIVED else df


def load_dataset(name: str) -> pd.DataFrame:
    """A shipped dataset as a DataFrame, factors as pandas categoricals in R's level order."""
    if name not in DATASETS:
        raise DataError(f"There is no dataset called '{name}'. The datasets are: {', '.join(DATASETS)}.")
    return _read(name).copy()
