"""Bad data gets a DataError a student can act on; nothing but MixedModelError escapes fit()."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmcore import DataError, FormulaError, MixedModelError, fit, load_dataset, parse_formula


def sleep():
    return load_dataset("sleepstudy")


@pytest.mark.parametrize("make,formula,words", [
    (lambda: sleep().assign(Subject="one"), "Reaction ~ Days + (1|Subject)", "only one level"),
    (lambda: sleep().assign(g=np.arange(180)), "Reaction ~ Days + (1|g)", "single observation"),
    (lambda: sleep().assign(c=3.0), "Reaction ~ Days + c + (1|Subject)", "same value"),
    (lambda: sleep().assign(Reaction="fast"), "Reaction ~ Days + (1|Subject)", "not numeric"),
    (lambda: sleep().assign(Reaction=np.nan), "Reaction ~ Days + (1|Subject)", "No row has a value"),
    (lambda: sleep().assign(Reaction=np.where(np.arange(180) == 3, np.inf, 300.0)), "Reaction ~ Days + (1|Subject)",
     "infinite"),
    (lambda: sleep()[(sleep().Days < 2) & (sleep().Subject.isin(["308", "309", "310", "330"]))],
     "Reaction ~ Days + (Days|Subject)", "more random effects than data"),
    (lambda: sleep().head(2), "Reaction ~ Days + (1|Subject)", "rows for 2 fixed effects"),
])
def test_bad_data_messages(make, formula, words):
    with pytest.raises(DataError) as err:
        fit(formula, make())
    assert words in str(err.value)


def test_not_a_dataframe():
    with pytest.raises(DataError):
        fit("y ~ x + (1|g)", [[1, 2, 3]])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="yxg~+-*:/|()01 `_.a=;'\"\\", max_size=40) | st.text(max_size=40))
def test_parser_only_parses_or_raises_formula_error(text):
    try:
        parse_formula(text)
    except FormulaError:
        pass


columns = st.sampled_from(["y", "x", "g", "h", "f"])


@st.composite
def small_frames(draw):
    n = draw(st.integers(0, 14))
    num = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.integers(-5, 5))
    df = pd.DataFrame({
        "y": draw(st.lists(num, min_size=n, max_size=n)),
        "x": draw(st.lists(num, min_size=n, max_size=n)),
        "g": draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n)),
        "h": draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
        "f": draw(st.lists(st.sampled_from(["u", "v"]), min_size=n, max_size=n)),
    })
    formula = draw(st.sampled_from([
        "y ~ x + (1|g)", "y ~ x + (x|g)", "y ~ f + (1|h)", "y ~ x*f + (1|g) + (1|h)", "y ~ 0 + f + (x||h)",
        "y ~ 1 + (1|g/h)", "y ~ x + (1|g:h)", "g ~ x + (1|h)", "y ~ x + (f|g)",
    ]))
    return df, formula


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_frames(), st.booleans())
def test_fit_returns_a_fit_or_raises_mixed_model_error(case, reml):
    df, formula = case
    try:
        f = fit(formula, df, reml=reml)
    except MixedModelError as err:
        assert str(err)
        return
    assert np.isfinite(f.deviance) and f.sigma >= 0
