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


# The browser tests share one app server and one Chromium for the whole run (tests/browser.py has the
# helpers). The browser cannot resolve any name but this machine's: a request to another machine fails
# at once, and every one is counted (tests/browser.py: outside_requests).
@pytest.fixture(scope="session")
def server():
    from lab.server import running

    with running() as (url, _):
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from lab.server import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        yield b
        b.close()
