"""The corpus of bad files and bad formulas (tests/corpus): each gets its message, through mmcore
and through the "your data" page, and the page keeps working."""
from pathlib import Path

import pytest

from mmcore import DataError, FormulaError, MixedModelError, fit, read_csv
from tests.shown import chart_specs
from tests.test_pages import run

CORPUS = Path(__file__).resolve().parent / "corpus"

# file, formula (None: reading must fail), what the message must say
CASES = [
    ("empty.csv", None, "empty"),
    ("whitespace.csv", None, "empty"),
    ("not_a_csv.xlsx", None, "not a CSV"),
    ("header_only.csv", None, "no data rows"),
    ("ragged.csv", None, "ragged"),
    ("nonnumeric_response.csv", "y ~ x + (1 | group)", "not numeric"),
    ("infinite.csv", "y ~ x + (1 | group)", "infinite"),
    ("one_level.csv", "y ~ x + (1 | group)", "only one level"),
    ("singletons.csv", "y ~ x + (1 | group)", "single observation"),
    ("too_many_random_effects.csv", "y ~ x + (x | group)", "more random effects than"),
    ("constant_predictor.csv", "y ~ x + c + (1 | group)", "same value"),
]
# these read and fit, with a note that says what was done
NOTED = [
    ("missing_values.csv", "y ~ x + (1 | group)", "3 of 30 rows have a missing value"),
    ("collinear.csv", "y ~ x + x2 + (1 | group)", "rank deficient so dropping 1 column"),
    ("windows_1252.csv", "y ~ x + (1 | sujeto)", "Windows-1252"),
    ("semicolons_decimal_comma.csv", "y ~ x + (1 | group)", "decimal mark ','"),
    ("spaces_and_accents.csv", "`reaction time` ~ días + (1 | `sujeto id`)", ""),
]
BAD_FORMULAS = [
    ("__import__('os').system('ls')", "function call"), ("y ~ open('/etc/passwd') + (1 | group)", "function call"),
    ("y ~ x.__class__ + (1 | group)", "not a column"), ("y ~ x; import os", "cannot read"),
    ("y ~ eval('1') + (1 | group)", "function call"), ("y ~ x + (1 | group", "ends too early"),
    ("", "empty"), ("y ~ x", "no random-effects term"), ("y ~ x + (1 | grp)", "not a column"),
]


@pytest.mark.parametrize("name,formula,words", CASES, ids=[c[0] for c in CASES])
def test_bad_files_get_their_message(name, formula, words):
    raw = (CORPUS / name).read_bytes()
    with pytest.raises(MixedModelError) as err:
        fit(formula, read_csv(raw)) if formula else read_csv(raw)
    assert words in str(err.value)
    assert isinstance(err.value, DataError)


@pytest.mark.parametrize("name,formula,words", NOTED, ids=[c[0] for c in NOTED])
def test_awkward_files_fit_with_a_note(name, formula, words):
    data = read_csv(CORPUS / name)
    f = fit(formula, data)
    notes = " ".join(data.attrs["notes"] + f.messages)
    assert words in notes


@pytest.mark.parametrize("formula,words", BAD_FORMULAS)
def test_bad_formulas_are_refused_not_run(formula, words):
    with pytest.raises(FormulaError) as err:
        fit(formula, read_csv(CORPUS / "good.csv"))
    assert words in str(err.value)


def test_size_limit_and_a_million_rows():
    with pytest.raises(DataError, match="limit is 50 MB"):
        read_csv(b"y,x,g\n" + b"1.000000,2.000000,aaaa\n" * 2_300_000)
    import numpy as np
    rng = np.random.default_rng(0)
    g = rng.integers(0, 2000, 1_000_000)
    lines = "\n".join(f"{a:.3f},{b:.3f},G{c}" for a, b, c in zip(rng.normal(size=g.size) + g % 7, rng.normal(size=g.size), g))
    data = read_csv(("y,x,g\n" + lines).encode())
    assert len(data) == 1_000_000
    assert fit("y ~ x + (1 | g)", data).ngroups == {"g": 2000}


def _page_with(text: str, **state):
    return run("pages/your_data.py", yd_source="paste CSV text", yd_paste=text, **state)


@pytest.mark.parametrize("name,formula,words", [c for c in CASES if c[0].endswith(".csv") and c[0] != "empty.csv"],
                         ids=[c[0] for c in CASES if c[0].endswith(".csv") and c[0] != "empty.csv"])
def test_page_answers_each_bad_file_and_keeps_working(name, formula, words):
    text = (CORPUS / name).read_text(encoding="utf-8")
    state = {}
    if formula:
        from mmcore.model.builder import build_formula
        data_key = None  # the page builds its own default model; set the typed formula through its key
        at = _page_with(text)
        assert not at.exception
        built = next((t.value for t in at.text_input), None)
        if built is not None:  # else the page has already refused the file's default model, with its reason
            state[f"yd_formula_{built}"] = formula
        del data_key, build_formula
    at = _page_with(text, **state)
    assert not at.exception, [e.value for e in at.exception]
    messages = " ".join(m.value for m in list(at.error) + list(at.warning) + list(at.info))
    if text.strip():
        assert words in messages, messages
    # and the page still works: a good file right after
    at = _page_with((CORPUS / "good.csv").read_text())
    assert not at.exception and not at.error and chart_specs(at)


@pytest.mark.parametrize("formula,words", BAD_FORMULAS[:5] + BAD_FORMULAS[7:])
def test_page_refuses_bad_formulas(formula, words):
    at = _page_with((CORPUS / "good.csv").read_text())
    built = next(t.value for t in at.text_input)
    at = _page_with((CORPUS / "good.csv").read_text(), **{f"yd_formula_{built}": formula})
    assert not at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
