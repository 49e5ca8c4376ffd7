"""Shared test helpers: the lme4 reference (copied into tests/reference) and the datasets."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "tests" / "reference" / "lme4_reference.json").read_text())


def reference_data(csv_name: str) -> pd.DataFrame:
    """A reference fit's data as lme4 saw it: grouping columns as factors (strings)."""
    df = pd.read_csv(ROOT / "datasets" / csv_name)
    for col in ("Subject", "blend", "Batch", "treat", "plate", "sample"):
        if col in df:
            df[col] = df[col].astype(str)
    return df


@pytest.fixture(scope="session")
def pastes() -> pd.DataFrame:
    return pd.read_csv(ROOT / "datasets" / "pastes.csv")
