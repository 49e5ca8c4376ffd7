"""The lecture hall and self-study: links that reproduce a view, presenter mode, the guided course."""
import json

import mmcore
from tests.test_pages import charts, clean, run, truth


def sidebar_note(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_a_link_reproduces_the_view():
    at = run_url("pages/random_intercepts.py", ri_dataset="simulate", ri_sigma_b="55", ri_seed="7", ri_n_groups="12",
                 ri_show=["partial pooling", "no pooling"])
    clean(at)
    assert (at.session_state["ri_dataset"], at.session_state["ri_sigma_b"], at.session_state["ri_seed"]) == ("simulate", 55.0, 7)
    table = truth(at)
    assert table["sigma_b"][0] == 55.0
    expected = mmcore.fit("y ~ x + (1 | group)", mmcore.simulate_intercepts(
        n_groups=12, n_per_group=8, beta0=250.0, beta1=10.0, sigma_b=55.0, sigma=25.0, seed=7))
    assert table["sigma_b"][1] == round(float(expected.varcorr.sdcor.iloc[0]), 3)
    assert "no pooling: each group alone" in {t.get("name") for t in charts(at)[2]["data"]}
    link = at.sidebar.code[-1].value
    for part in ("ri_dataset=simulate", "ri_sigma_b=55", "ri_seed=7", "ri_n_groups=12"):
        assert part in link
    assert "ignored" not in sidebar_note(at)


def test_the_link_shown_brings_back_the_same_view():
    at = run_url("pages/random_slopes.py", rs_model="uncorrelated", rs_unit="tens of its units")
    clean(at)
    link = at.sidebar.code[-1].value
    params = {}
    for pair in link.split("?", 1)[1].split("&"):
        k, v = pair.split("=", 1)
        params.setdefault(k, []).append(v)
    again = run_url("pages/random_slopes.py", **params)
    clean(again)
    assert again.code[0].value == at.code[0].value  # the same fit, as lme4 prints it
    assert again.session_state["rs_unit"] == "tens of its units"


def test_bad_parameters_are_ignored_with_a_note():
    at = run_url("pages/random_intercepts.py", bogus="1", ri_sigma_b="999", ri_dataset="iris", ri_groups="nobody")
    clean(at)
    note = sidebar_note(at)
    assert "unknown: bogus" in note and "not valid here" in note and "ri_dataset" in note
    assert at.session_state["ri_dataset"] == "sleepstudy"


def test_presenter_mode_enlarges_figures_and_folds_explanations():
    normal = run("pages/random_intercepts.py")
    present = run_url("pages/random_intercepts.py", present="1")
    clean(present)
    assert present.session_state["present"] is True
    size = lambda at: charts(at)[2]["layout"]["font"]["size"]  # noqa: E731
    assert size(present) > size(normal) >= 14
    assert len(present.expander) > len(normal.expander)  # explanations folded away


def test_quiz_feedback_explains_the_right_answer():
    at = run("pages/random_intercepts.py")
    question = next(r for r in at.radio if "highest level" in r.label)
    right = "337"  # sleepstudy's largest random intercept (lme4: 71.9)
    wrong = next(o for o in question.options if o != right)
    question.set_value(wrong).run()
    assert any("Not quite: the answer is **337**" in e.value for e in at.error)
    next(r for r in at.radio if "highest level" in r.label).set_value(right).run()
    assert any(s.value.startswith("Right.") and "337" in s.value for s in at.success)


def test_all_right_completes_the_lesson_and_the_tutorial_shows_it():
    from mmcore.lessons.quiz import FIXED_OR_RANDOM

    at = run("app.py")  # the whole app, so that navigation between pages is real
    at.switch_page("pages/tutorial.py").run()
    assert sum("not yet" in m.value for m in at.markdown) == 7
    at.switch_page("pages/fixed_or_random.py").run()
    for i, (_, _, answer, _) in enumerate(FIXED_OR_RANDOM):
        at.radio(key=f"for_{i}").set_value(answer)
    at.run()
    clean(at)
    assert f"**{len(FIXED_OR_RANDOM)} of {len(FIXED_OR_RANDOM)}** right." in [m.value for m in at.markdown]
    at.switch_page("pages/tutorial.py").run()
    clean(at)
    assert sum("not yet" in m.value for m in at.markdown) == 6
    assert any(m.value == "**completed**" for m in at.markdown)


def test_every_lesson_has_a_guided_path_and_questions():
    for page in ["random_intercepts", "icc", "random_slopes", "shrinkage", "ml_vs_reml", "model_comparison"]:
        at = run(f"pages/{page}.py")
        clean(at)
        assert any(e.label.startswith("Guided path") for e in at.expander), page
        assert 2 <= sum(1 for r in at.radio if r.key and r.key.startswith("quiz_")) <= 4, page


def run_url(page: str, **params):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_figures_json_roundtrip_in_presenter_mode():
    at = run_url("pages/icc.py", present="true")
    clean(at)
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["font"]["size"] == 22


def test_every_page_with_a_model_exports_its_code_and_data():
    for page in ["random_intercepts", "icc", "random_slopes", "shrinkage", "ml_vs_reml", "model_comparison",
                 "under_the_hood"]:
        at = run(f"pages/{page}.py")
        clean(at)
        code = next((m.value for m in at.markdown if m.value.startswith("**R (lme4)**")), "")
        assert "lmer(" in code and "smf.mixedlm(" in code and "from mmcore import" in code, page
        assert at.get("download_button"), page
