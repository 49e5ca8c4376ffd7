"""Your own data: the defaults the model builder guesses (mmcore.model.builder) and what the page says
about them. Every guess can be changed by the user; these are the first impressions."""
import numpy as np
import pandas as pd

import mmcore
from mmcore.model.builder import (
    apply_types,
    guess_groups,
    guess_response,
    index_columns,
    nesting,
    response_kind,
    summarise_columns,
    time_like,
)
from tests.test_pages import clean, run

# What R's write.csv(d, "f.csv") writes: the row names first, under an empty name (R 4.2, checked)
R_WRITE_CSV = '"","score","week","pupil"\n' + "\n".join(
    f'"{i + 1}",{50 + (i % 4) * 3 + (i // 4) % 5},{i % 4 + 1},"p{i // 4:02d}"' for i in range(40))


def pupils_passing(n_pupils: int = 12, weeks: int = 6, seed: int = 1) -> pd.DataFrame:
    """A 0/1 response, a numeric week (many levels) and a text pupil id (fewer levels)."""
    rng = np.random.default_rng(seed)
    rows = [(int(rng.random() < 0.3 + 0.08 * w), w, f"pupil {p}") for p in range(n_pupils) for w in range(1, weeks + 1)]
    return pd.DataFrame(rows, columns=["passed", "week", "pupil"])


def test_an_r_row_number_column_is_skipped_never_the_response():
    table = mmcore.read_csv(R_WRITE_CSV.encode())
    assert index_columns(table) == [table.columns[0]]
    assert summarise_columns(table)["use as"].tolist()[0] == "skip"
    data, _ = apply_types(table, dict(zip(table.columns, summarise_columns(table)["use as"])))
    assert list(data.columns) == ["score", "week", "pupil"]
    groups = guess_groups(data)
    assert groups == ["pupil"] and guess_response(data, groups) == "score" and time_like(data, groups) == ["week"]
    assert index_columns(mmcore.load_dataset("sleepstudy")) == []  # Days repeats: not row numbers


def test_a_text_id_is_preferred_over_a_numeric_week():
    data = pupils_passing(n_pupils=6, weeks=8)  # week has more levels than pupil
    assert guess_groups(data) == ["pupil"]


def test_what_a_response_holds():
    assert response_kind(pupils_passing()["passed"]) == "binary"
    assert response_kind(pd.Series(["yes", "no", "no"])) == "binary"
    assert response_kind(pd.Series([0, 3, 1, 7, 2, 0])) == "count"
    assert response_kind(pd.Series(["low", "mid", "high", "mid"])) == "text"
    for name in ("sleepstudy", "penicillin", "dyestuff", "pastes", "penicillin_lme4"):
        data = mmcore.load_dataset(name)
        assert response_kind(data[mmcore.list_datasets()[name].response]) == "continuous", name


def test_time_like_covariates_by_name_or_by_design():
    sleep = mmcore.read_csv(b"Reaction,Days,Subject\n" + "\n".join(
        f"{250 + 10 * d + s},{d},{308 + s}" for s in range(5) for d in range(10)).encode())
    assert guess_groups(sleep) == ["Subject"] and time_like(sleep, ["Subject"]) == ["Days"]
    assert guess_response(sleep, ["Subject"]) == "Reaction"
    pen = mmcore.read_csv((mmcore.load_dataset("penicillin_lme4").to_csv(index=False)).encode())
    assert time_like(pen, ["plate"]) == []  # the response is whole numbers too, but not on a shared grid


def test_nesting_is_detected_from_labels_reused_within_each_batch():
    pastes = mmcore.load_dataset("pastes")
    kind, why = nesting(pastes, "batch", "cask")
    assert kind == "nested" and "repeat within every batch" in why
    assert guess_groups(pastes) == ["batch", "cask"]
    assert nesting(mmcore.load_dataset("penicillin_lme4"), "plate", "sample")[0] == "crossed"  # one row per pair
    unique = pastes.assign(cask=pastes["batch"].astype(str) + pastes["cask"].astype(str))  # labels that say which batch: nested too
    assert nesting(unique, "batch", "cask")[0] == "nested"


def _paste(text: str, **state):
    return run("pages/your_data.py", yd_source="paste CSV text", yd_paste=text, **state)


def test_the_page_flags_a_binary_response_and_says_which_model_fits_it():
    at = _paste(pupils_passing().to_csv(index=False))
    clean(at)
    assert next(t.value for t in at.text_input) == "passed ~ week + (1 | pupil)"  # week suggested as time
    family = next(r for r in at.radio if str(r.key).startswith("yd_family_"))
    assert family.value == "binomial"  # a 0/1 response is fitted as a logistic mixed model (glmer) at once
    family.set_value("gaussian").run()  # the user insists on a linear model: say what fits better
    warning = " ".join(w.value for w in at.warning)
    assert "**passed** has two values" in warning and "logistic" in warning and "generalized" in warning


def test_a_text_response_is_named_and_refused_never_replaced():
    data = pupils_passing().assign(grade=lambda d: np.where(d["passed"] == 1, "pass", "fail"), mark=1.5)
    at = _paste(data[["grade", "week", "pupil", "mark"]].to_csv(index=False))
    assert not at.exception
    assert at.selectbox(key=next(k for k in at.session_state if str(k).startswith("yd_resp_"))).value == "mark"
    assert any("grade has two values" in c.value for c in at.caption)  # the other candidate is named
    at.selectbox(key=next(k for k in at.session_state if str(k).startswith("yd_resp_"))).set_value("grade").run()
    messages = " ".join(m.value for m in list(at.warning) + list(at.error))
    assert "**grade** has two values" in messages and "not numeric" in messages
    assert not at.text_input  # no model built on another column instead


def test_pastes_like_data_are_nested_by_default():
    at = _paste(mmcore.load_dataset("pastes").to_csv(index=False))
    clean(at)
    assert next(t.value for t in at.text_input) == "strength ~ 1 + (1 | batch/cask)"
    assert any("repeat within every batch" in c.value for c in at.caption)


def test_the_lesson_on_generalized_models_is_linked_from_the_advice():
    from lab import course

    assert course.GLMM_LESSON in [path for path, *_ in course.LESSONS]
    at = _paste(pupils_passing().to_csv(index=False))
    next(r for r in at.radio if str(r.key).startswith("yd_family_")).set_value("gaussian").run()
    assert any("The lesson on these models: 11 Binary and count outcomes" in m.value for m in at.markdown)


def test_numeric_group_codes_are_a_factor_in_rs_order():
    """A grouping column of numbers (subjects 308, 309, ... or 1..12) is listed as a factor, and read as
    R's factor() of numbers: levels in numeric order (2 before 10), labels without '.0' (the column
    holds a missing value, so pandas reads it as floats). The fit is the one with numeric codes."""
    rows = [(250 + 10 * d + s + (d * s) % 3, d, s + 1) for s in range(12) for d in range(5)]
    text = "y,week,subject\n" + "\n".join(f"{y},{d},{s}" for y, d, s in rows) + "\n251,5,\n"
    table = mmcore.read_csv(text.encode())
    summary = summarise_columns(table)
    assert dict(zip(summary["column"], summary["use as"])) == {"y": "numeric", "week": "numeric", "subject": "factor"}
    data, _ = apply_types(table, dict(zip(summary["column"], summary["use as"])))
    assert list(data["subject"].cat.categories) == [str(i) for i in range(1, 13)] and data["subject"].isna().sum() == 1
    as_factor, as_numbers = (mmcore.fit("y ~ week + (1 | subject)", d) for d in (data, table))
    assert list(as_factor.ranef["subject"].index) == list(as_numbers.ranef["subject"].index) == [str(i) for i in range(1, 13)]
    assert as_factor.loglik == as_numbers.loglik
    assert summarise_columns(table, groups=[])["use as"].tolist() == ["numeric", "numeric", "numeric"]
