"""The nested-and-crossed and planning lessons under AppTest: every design and data set, the pitfall
on screen, simulate mode with estimates beside the truth, the planner's run, views and shared result."""
import json

import pytest

from tests.shown import codes, tables
from tests.test_pages import charts, clean, markdown_with, run, truth


def titles(at) -> list[str]:
    return [c["layout"]["title"]["text"] for c in charts(at)]


@pytest.mark.parametrize("state", [dict(), dict(nc_dataset="penicillin_lme4"), dict(nc_dataset="insteval"),
                                   dict(nc_dataset="simulate"),
                                   dict(nc_dataset="simulate", nc_design="subjects x items")])
def test_nested_crossed_every_design(state):
    at = run("pages/nested_crossed.py", **state)
    clean(at)
    assert any(t.startswith("As labelled") or " x " in t for t in titles(at))
    assert "Where the variance lies: each component's share" in titles(at)
    assert "| component | units | SD |" in markdown_with(at, "| component | units | SD |")
    assert len(codes(at)) >= 3  # the fit, and both fits side by side
    if state.get("nc_dataset") == "simulate":
        assert truth(at)
    quiz = [r for r in at.radio if r.key and r.key.startswith("quiz_nc_")]
    assert len(quiz) == 4


def test_pastes_pitfall_is_on_screen():
    at = run("pages/nested_crossed.py")
    clean(at)
    assert "30 batch x cask combinations" in at.warning[0].value
    wrong = next(c for c in codes(at) if "(1 | batch) + (1 | cask)" in c)
    assert "batch, 10; cask, 3" in wrong
    table = next(t for t in tables(at) if "units of the inner factor" in t.index)
    assert table.loc["units of the inner factor", "right"] == "30" and table.loc["units of the inner factor", "wrong"] == "3"
    assert "As the design is: 30 casks, each in one batch" in titles(at)


def test_crossed_design_shows_the_se_of_the_forgotten_factor():
    at = run("pages/nested_crossed.py", nc_dataset="simulate", nc_design="subjects x items")
    clean(at)
    text = markdown_with(at, "Without (1 | item)")
    right, wrong = (float(v) for v in text.split("falls from ")[1].split(". The")[0].split(" to "))
    assert wrong < right
    at.slider(key="nc_crossed_sigma_item").set_value(0.0).run()
    clean(at)
    assert truth(at)["SD item"][0] == 0.0


def test_statlab_sliders_move_the_estimates():
    at = run("pages/nested_crossed.py", nc_dataset="simulate")
    before = truth(at)["SD student:school"]
    at.slider(key="nc_statlab_sigma_student").set_value(16.0).run()
    clean(at)
    after = truth(at)["SD student:school"]
    assert after[0] == 16.0 and after[1] > before[1] + 4


def test_nested_crossed_quiz_completes_the_lesson():
    at = run("pages/nested_crossed.py")
    from mmcore.lessons import quiz  # noqa: F401  (the answers are the options the page built)

    answers = {"nc_units": "30", "nc_formula": "strength ~ 1 + (1 | batch/cask)", "nc_se": "larger"}
    radios = {r.key.removeprefix("quiz_").split(".")[0]: r for r in at.radio if r.key and r.key.startswith("quiz_")}
    corr = markdown_with(at, "| cask:batch |").split("| cask:batch |")[1].split("|")[3].strip()
    answers["nc_corr"] = corr
    for name, answer in answers.items():
        radios[name].set_value(answer)
    at.run()
    clean(at)
    assert any("Lesson completed" in c.value for c in at.caption)


def test_planning_before_and_after_the_simulation():
    at = run("pages/planning.py", pl_nsim=100, pl_groups=[4, 10], pl_n=[2, 6])
    clean(at)
    assert titles(at) == ["SE of the effect, variances known", "Power, variances known (z test)"]
    at.button(key="pl_run").click().run()
    clean(at)
    assert titles(at)[1] == "Effect: coverage of 95% intervals<br><sup>Satterthwaite t</sup>"
    coverage = next(c for c in charts(at) if "coverage" in c["layout"]["title"]["text"])
    assert len([t for t in coverage["data"] if t["mode"] == "lines+markers"]) == 2
    assert "80% power for an effect of" in markdown_with(at, "80% power")
    at.radio(key="pl_ddf").set_value("Kenward-Roger").run()
    assert titles(at)[1] == "Effect: coverage of 95% intervals<br><sup>Kenward-Roger t</sup>"
    at.segmented_control(key="pl_view").set_value("singular fits").run()
    clean(at)
    assert titles(at) == ["Singular fits<br><sup>sigma_b estimated as 0</sup>"]
    # another session with the same link sees the result without running it again
    other = run("pages/planning.py", pl_nsim=100, pl_groups=[4, 10], pl_n=[2, 6])
    assert "Singular" not in json.dumps(titles(other)) and titles(other)[0].startswith("Effect: SE")


def test_planning_pilot_data_and_simulate_mode():
    at = run("pages/planning.py", pl_dataset="penicillin", pl_layout="within")
    clean(at)
    text = markdown_with(at, "The truth used for planning")
    assert "pilot data *penicillin*" in text and "$\\sigma_b$ = **" in text
    at = run("pages/planning.py", pl_dataset="simulate", pl_sigma_b=0.0)
    clean(at)
    assert truth(at)["sigma_b"][0] == 0.0
    assert "$\\sigma_b$ = **0**" in markdown_with(at, "The truth used for planning")


@pytest.mark.parametrize("state", [dict(), dict(nc_dataset="simulate", nc_design="subjects x items")])
def test_nested_crossed_folded_explanations_say_what_they_explain(state):
    """Presenter mode folds the long explanations: each fold is titled by what it explains, never two
    alike (two folds both called "Explanation" left a student to guess which explained what)."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT
    at = AppTest.from_file(str(ROOT / "pages" / "nested_crossed.py"), default_timeout=60)
    at.query_params["present"] = "1"
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    clean(at)
    labels = [e.label for e in at.expander]
    assert "Explanation" not in labels and len(labels) == len(set(labels)), labels
    assert "How to read the SDs, the shares and the correlations" in labels
