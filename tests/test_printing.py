"""Printouts against R: R's abbreviate() on 46 names at four lengths and lme4's "Correlation of Fixed
Effects:" block for an lmer (its whole text) and a glmer (its labels) (tests/reference/abbreviate.json,
scripts/references/abbreviate.R); and whole summaries of ten lmer and glmer fits, line for line
(tests/reference/summaries.json, scripts/references/summaries.R)."""
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import mmcore
from mmcore.lmm.results import message_lines
from mmcore.lmm.rprint import abbreviate, signif_text
from mmcore.model.formula import printed_formula

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


SUMMARIES = json.loads((Path(__file__).parent / "reference" / "summaries.json").read_text())["fits"]
NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[-+]\d+)?$")


def _data(name: str) -> pd.DataFrame:
    local = Path(__file__).parent / "reference" / "inference_data" / f"{name}.csv"
    data = pd.read_csv(local) if local.exists() else pd.read_csv(Path(__file__).parent.parent / "datasets" / f"{name}.csv")
    if name == "cbpp":
        data = data.astype({"herd": str, "period": str})
    return data


def _r_lines(text: list[str]) -> list[str]:
    """R's printout without its data's name and lme4's optimizer notes (ours are the fit's messages)."""
    out = []
    for line in text:
        if line.startswith(("optimizer (", "boundary (singular)", "Model failed", "fit warnings")):
            break
        if not line.startswith("   Data:"):
            out.append(line.rstrip())
    return out


@pytest.mark.parametrize("name", list(SUMMARIES))
def test_summary_is_laid_out_as_lme4_prints_it(name):
    """Line for line as lme4 1.1-31 prints summary(): the same words, columns and decimals; numbers
    equal to optimizer tolerance for LMMs (these are R's default fits, not its best). For the GLMM only
    the layout: R's default glmer stops short there (tests/reference/glmm_reference.json)."""
    ref = SUMMARIES[name]
    kw = dict(family="binomial") if ref["glmm"] else dict(reml=ref["reml"])
    fit = mmcore.fit(ref["formula"], _data(ref["data"]), **kw)
    ours = [line.rstrip() for line in fit.summary().splitlines()]
    ours = ours[: len(ours) - len(message_lines(fit.messages))]
    theirs = _r_lines(ref["text"])
    theirs = [line.replace("‘", "'").replace("’", "'") for line in theirs]  # R's quotes in a UTF-8 locale
    assert len(ours) == len(theirs), "\n".join(ours)
    for a, b in zip(ours, theirs):
        assert len(a) == len(b), f"{a!r} != {b!r}"  # the columns line up where R's do
        for x, y in zip(a.split(), b.split()):
            if NUMBER.match(y) and NUMBER.match(x):
                assert ("." in x) == ("." in y) and len(x.split(".")[-1]) == len(y.split(".")[-1]), (a, b)
                if not ref["glmm"]:
                    assert float(x) == pytest.approx(float(y), rel=2e-3, abs=2e-3), (a, b)
            else:
                assert x == y, (a, b)


DOUBLE_VERTS = json.loads((Path(__file__).parent / "reference" / "double_verts.json").read_text())


@pytest.mark.parametrize("typed, printed", list(zip(DOUBLE_VERTS["typed"], DOUBLE_VERTS["printed"])))
def test_formula_line_expands_double_bars_as_lme4(typed, printed):
    """lme4's "Formula:" line: (a + b || g) written out as expandDoubleVerts does, deparsed as R does
    (scripts/references/double_verts.R)."""
    assert printed_formula(typed) == printed


@pytest.mark.parametrize("value,printed", [  # R: format(signif(value, 3))
    (2118.5, "2120"), (22104.3, "22100"), (12.345, "12.3"), (0.04523, "0.0452"), (0.000123, "0.000123"),
    (1.23e-5, "1.23e-05"), (1e6, "1e+06"), (1234567, "1230000"), (0.5, "0.5"), (-0.0087, "-0.0087"),
    (9.9996, "10"), (3.0, "3"), (1e-4, "1e-04"), (7.658, "7.66"), (0.0, "0")])
def test_signif_text_prints_as_r_prints_signif(value, printed):
    assert signif_text(value) == printed


def test_anova_models_lines_expand_double_bars_as_lme4():
    """lme4's anova() names each model by its call's formula, which lmer stored expanded:
    m0: Reaction ~ Days + ((1 | Subject) + (0 + Days | Subject)) (R 4.2, lme4 1.1-31)."""
    from mmcore.inference.compare import format_anova

    sleep = mmcore.load_dataset("sleepstudy")
    fits = [mmcore.fit(f, sleep, reml=False) for f in ("Reaction ~ Days + (Days || Subject)",
                                                       "Reaction ~ Days + (Days | Subject)")]
    lines = format_anova(mmcore.anova(*fits, names=["m0", "m1"])).splitlines()
    assert lines[1:3] == ["m0: Reaction ~ Days + ((1 | Subject) + (0 + Days | Subject))",
                          "m1: Reaction ~ Days + (Days | Subject)"]
