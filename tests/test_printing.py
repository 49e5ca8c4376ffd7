"""The printed correlation tables against R (tests/reference/abbreviate.json, made by
scripts/references/abbreviate.R): R's abbreviate() on 46 names at four lengths, and lme4's
"Correlation of Fixed Effects:" block for an lmer (its whole text) and a glmer (its labels)."""
import json
from pathlib import Path

import pandas as pd
import pytest

import mmcore
from mmcore.lmm.results import abbreviate

REF = json.loads((Path(__file__).parent / "reference" / "abbreviate.json").read_text())


@pytest.mark.parametrize("minlength", sorted(REF["abbreviate"], key=int))
def test_abbreviate_is_rs(minlength):
    assert abbreviate(REF["names"], int(minlength)) == REF["abbreviate"][minlength]


def _block(fit) -> list[str]:
    return fit.summary().split("Correlation of Fixed Effects:\n")[1].splitlines()[: len(fit.fixef)]


def test_lmer_correlation_block_is_lme4s_text():
    data = pd.read_csv(Path(__file__).parent / "reference" / "inference_data" / "sleep_unbalanced.csv")
    data[["period", "grp", "Subject"]] = data[["period", "grp", "Subject"]].astype(str)
    fit = mmcore.fit("Reaction ~ period * grp + (1 | Subject)", data)
    assert _block(fit) == [line.rstrip() for line in REF["models"]["unbalanced"]["text"]]


def test_glmer_correlation_block_has_lme4s_labels():
    """Truncated to six characters, Visiondome and Visionopen both printed as "Vision"."""
    fit = mmcore.fit("stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject)",
                     mmcore.load_dataset("ctsib"), family="binomial")
    lines, ref = _block(fit), REF["models"]["ctsib"]
    assert lines[0].split() == ref["header"]
    assert [line.split()[0] for line in lines[1:]] == ref["rows"]
