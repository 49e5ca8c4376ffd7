"""The lecture hall and self-study: links that reproduce a view, presenter mode, the guided course."""

from pathlib import Path

import pytest

import mmcore
from lab.course import LESSONS
from tests.shown import codes
from tests.test_pages import CHECK_TAB, SECTIONED, charts, clean, markdown_with, parts, run, truth


def sidebar_note(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_a_link_reproduces_the_view():
    at = run_url("pages/random_intercepts.py", ri_dataset="simulate", ri_sigma_b="55", ri_seed="7", ri_n_groups="12",
                 ri_show=["partial pooling", "no pooling"], ri_tab="The fit")
    clean(at)
    assert (at.session_state["ri_dataset"], at.session_state["ri_sigma_b"], at.session_state["ri_seed"]) == ("simulate", 55.0, 7)
    table = truth(at)
    assert table["sigma_b"][0] == 55.0
    expected = mmcore.fit("y ~ x + (1 | group)", mmcore.simulate_intercepts(
        n_groups=12, n_per_group=8, beta0=250.0, beta1=10.0, sigma_b=55.0, sigma=25.0, seed=7))
    assert table["sigma_b"][1] == round(float(expected.varcorr.sdcor.iloc[0]), 3)
    link = codes(at.sidebar)[-1]
    for part in ("ri_dataset=simulate", "ri_sigma_b=55", "ri_seed=7", "ri_n_groups=12", "ri_tab=The%20fit"):
        assert part in link
    assert "ignored" not in sidebar_note(at)  # ri_show waits for its tab
    at = run_url("pages/random_intercepts.py", **{**link_params(link), "ri_tab": "Three ways to estimate",
                                                  "ri_show": ["partial pooling", "no pooling"]})
    names = {t.get("name") for t in charts(at)[0]["data"]}
    assert {"no pooling: each group alone", "partial pooling: mixed model"} <= names
    assert "complete pooling: one line for all" not in names
    assert link_params(codes(at.sidebar)[-1])["ri_show"] == ["partial pooling", "no pooling"]


def link_params(link: str) -> dict[str, list[str]]:
    """The link's parameters, decoded as a browser sends them to the server."""
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(link).query, keep_blank_values=True)


def test_the_link_shown_brings_back_the_same_view():
    at = run_url("pages/random_slopes.py", rs_model="uncorrelated", rs_unit="tens of its units")
    clean(at)
    link = codes(at.sidebar)[-1]
    again = run_url("pages/random_slopes.py", **link_params(link))
    clean(again)
    assert codes(again)[0] == codes(at)[0]  # the same fit, as lme4 prints it
    assert again.session_state["rs_unit"] == "tens of its units"


def test_a_typed_formula_survives_the_link_percent_encoded():
    formula = "Reaction ~ 1 + Days + (1 + Days || Subject)"
    at = run_url("pages/under_the_hood.py", uh_formula="a formula I type", uh_text=formula)
    clean(at)
    link = codes(at.sidebar)[-1]
    query = link.split("?", 1)[1]
    assert " " not in query and "+" not in query and "(" not in query and ")" not in query  # safe in chat and mail
    assert "uh_text=Reaction%20~%201%20%2B%20Days%20%2B%20%281%20%2B%20Days%20%7C%7C%20Subject%29" in query
    again = run_url("pages/under_the_hood.py", **link_params(link))
    clean(again)
    assert again.session_state["uh_text"] == formula
    assert codes(again)[0] == formula and "ignored" not in sidebar_note(again)


def test_switching_the_data_set_resets_what_depends_on_it_and_the_link_follows():
    at = run_url("pages/shrinkage.py", sh_who="335", sh_keep="3")
    clean(at)
    assert (at.session_state["sh_who"], at.session_state["sh_keep"]) == ("335", 3)
    at.selectbox(key="sh_dataset").set_value("penicillin").run()
    clean(at)
    who = at.session_state["sh_who"]
    assert who.startswith("Blend")  # a group of the new data set, not the old one's
    params = link_params(codes(at.sidebar)[-1])
    assert params["sh_who"] == [who] and params["sh_dataset"] == ["penicillin"]
    assert "ignored" not in sidebar_note(at)  # the old data set's group is not a link the page ignored
    at.selectbox(key="sh_dataset").set_value("sleepstudy").run()
    clean(at)
    assert at.session_state["sh_who"] != "335" and at.session_state["sh_keep"] == 2  # the start, not the link's


def test_switching_data_brings_that_data_sets_formulas():
    at = run_url("pages/under_the_hood.py", uh_formula="a formula I type")
    at.text_input(key="uh_text").set_value("Reaction ~ Days + (Days | Subject)").run()
    at.selectbox(key="uh_data").set_value("pastes").run()
    clean(at)
    assert at.session_state["uh_text"] == "strength ~ 1 + (1 | batch/cask)"
    mc = run_url("pages/model_comparison.py", mc_pair="two models of my own")
    mc.text_input(key="mc_f1").set_value("Reaction ~ Days + (Days | Subject)").run()
    mc.selectbox(key="mc_data").set_value("penicillin").run()
    clean(mc)  # not sleepstudy's formulas on penicillin's columns
    assert (mc.session_state["mc_f0"], mc.session_state["mc_f1"]) == ("yield ~ 1 + (1 | blend)", "yield ~ treat + (1 | blend)")


def test_a_link_to_a_run_in_a_closed_tab_opens_the_tab_and_runs_it():
    """A lesson in tabs (lab.sections): a bootstrap's result is in its tab; the link made there names the
    tab, and an older link that only asks for the run (run=ic_boot) opens that tab and runs it."""
    at = run_url("pages/icc.py", ic_tab="Bootstrap interval")
    at.button(key="ic_run").click().run()
    clean(at)
    params = link_params(codes(at.sidebar)[-1])
    assert params["ic_tab"] == ["Bootstrap interval"] and params["run"] == ["ic_boot"]
    shown = markdown_with(at, "interval for the ICC")
    older = run_url("pages/icc.py", run="ic_boot")
    clean(older)
    assert older.session_state["ic_tab"] == "Bootstrap interval"
    assert markdown_with(older, "interval for the ICC") == shown and "ignored" not in sidebar_note(older)


def test_a_simulation_on_screen_is_in_the_link_and_the_link_runs_it():
    at = run_url("pages/ml_vs_reml.py", mr_groups="6", mr_nsim="200")
    at.button(key="mr_run").click().run()
    clean(at)
    params = link_params(codes(at.sidebar)[-1])
    assert params["mr_groups"] == ["6"] and params["mr_nsim"] == ["200"] and params["run"] == ["mr_study"]
    shown = markdown_with(at, "Mean ML estimate")
    again = run_url("pages/ml_vs_reml.py", **params)  # no click: the link says the result was on screen
    clean(again)
    assert markdown_with(again, "Mean ML estimate") == shown  # seeded: the same numbers


def test_bad_parameters_are_ignored_with_a_note():
    at = run_url("pages/random_intercepts.py", bogus="1", ri_sigma_b="999", ri_dataset="iris", ri_groups="nobody")
    clean(at)
    note = sidebar_note(at)
    assert "unknown: bogus" in note and "not valid here" in note and "ri_dataset" in note
    assert at.session_state["ri_dataset"] == "sleepstudy"


def test_presenter_mode_enlarges_figures_and_folds_explanations():
    normal = run("pages/random_intercepts.py")
    present = run_url("pages/random_intercepts.py", present="1")
    folded = run("pages/random_intercepts.py", ri_tab="The fit"), run_url("pages/random_intercepts.py", present="1",
                                                                           ri_tab="The fit")
    clean(present)
    assert present.session_state["present"] is True
    assert link_params(codes(present.sidebar)[-1])["present"] == ["1"]
    layout = lambda at: charts(at)[0]["layout"]  # noqa: E731 (the pooling chart: X and Z are folded, not drawn)
    assert layout(present)["font"]["size"] > layout(normal)["font"]["size"] >= 14
    # the axes carry their own sizes: Streamlit's chart theme would otherwise draw 12 px ticks
    assert layout(present)["xaxis"]["tickfont"]["size"] >= 18 and layout(present)["yaxis"]["title"]["font"]["size"] >= 22
    assert len(folded[1].expander) > len(folded[0].expander)  # explanations folded away


@pytest.mark.parametrize("value", ["", "Nonsense"])
def test_a_link_to_no_part_opens_the_first_and_says_so(value):
    """A link cut short after ri_tab= or with a mistyped part: the lesson's first part, not an error,
    and the link's note says the value was not used."""
    at = run_url("pages/random_intercepts.py", ri_tab=value)
    clean(at)
    assert at.session_state["ri_tab"] == "Three ways to estimate" and len(charts(at)) == 1  # the pooling view
    assert "not valid here" in sidebar_note(at) and "ri_tab" in sidebar_note(at)


SWEEP_PARTS = {"pages/random_intercepts.py": {"ri_tab": "From complete to no pooling"},
               "pages/icc.py": {"ic_tab": "What an ICC looks like"}, "pages/random_slopes.py": {"rs_tab": "Correlation"}}


@pytest.mark.parametrize("page", sorted(SWEEP_PARTS))
def test_presenter_mode_folds_what_a_dragged_chart_shows(page):
    """On a projector the chart with its slider comes first: what to do and notice is folded (lab.explain);
    in normal mode it is text above the chart."""
    note = "About this chart: what to do, what to notice"
    normal, present = run(page, **SWEEP_PARTS[page]), run_url(page, present="1", **SWEEP_PARTS[page])
    clean(present)
    folded = next(e for e in present.expander if e.label == note).markdown[0].value
    assert "slider under the chart" in folded
    assert note not in [e.label for e in normal.expander]
    assert folded in [m.value for m in normal.markdown]  # the same text, in the open
    assert folded not in [m.value for e in normal.expander for m in e.markdown]


def test_a_wrong_answer_asks_for_another_try_before_the_answer_is_shown():
    at = run("pages/random_intercepts.py", ri_tab="Check yourself")
    question = lambda: next(r for r in at.radio if "highest level" in r.label)  # noqa: E731
    right = "337"  # sleepstudy's largest random intercept (lme4: 71.9)
    wrong = [o for o in question().options if o != right]
    question().set_value(wrong[0]).run()
    assert any("Think again" in w.value for w in at.warning)
    assert not any("337" in e.value for e in at.error)  # not given away
    question().set_value(wrong[1]).run()  # a second wrong answer: now the answer, with the reason
    assert any("Not quite: the answer is **337**" in e.value for e in at.error)
    question().set_value(right).run()
    assert any(s.value.startswith("Right.") and "337" in s.value for s in at.success)


def test_show_me_the_answer_after_one_try():
    at = run("pages/random_slopes.py", **CHECK_TAB["random_slopes"])
    question = lambda: next(r for r in at.radio if "in tens of its units" in r.label)  # noqa: E731
    question().set_value("10").run()
    reveal = next(b for b in at.button if b.label == "Show me the answer")
    reveal.click().run()
    assert any("the answer is **100**" in e.value for e in at.error)
    at.run()  # and it stays shown
    assert any("the answer is **100**" in e.value for e in at.error)


def test_all_right_completes_the_lesson_and_the_course_shows_the_path():
    from lab.checks import question_id
    from mmcore.lessons.quiz import fixed_or_random

    at = run("app.py")  # the whole app, so that navigation between pages is real
    at.switch_page("pages/tutorial.py").run()
    assert f"0 of {len(LESSONS)} lessons done" in [p.proto.text for p in at.get("progress")]
    at.switch_page("pages/fixed_or_random.py").run()
    questions = fixed_or_random()
    for q in questions:
        at.radio(key=f"quiz_{question_id(q)}").set_value(q.answer)
    at.run()
    clean(at)
    assert f"**{len(questions)} of {len(questions)}** right." in [m.value for m in at.markdown]
    at.switch_page("pages/tutorial.py").run()
    clean(at)
    assert f"1 of {len(LESSONS)} lessons done" in [p.proto.text for p in at.get("progress")]
    links = [p.proto.label for p in at.get("page_link")]
    assert "1 Fixed or random? (done)" in links and "2 Random intercepts (next)" in links
    assert "Continue with 2 Random intercepts" in links
    at.switch_page("pages/fixed_or_random.py").run()  # a revisit: the answers are still there
    assert all(at.radio(key=f"quiz_{question_id(q)}").value == q.answer for q in questions)


def test_progress_travels_as_a_code_in_a_link():
    from lab import progress
    from lab.checks import question_id
    from mmcore.lessons.quiz import fixed_or_random

    q = fixed_or_random()[3]
    code = progress.encode({"done": ["icc", "fixed_or_random"], "answers": {question_id(q): [0, 1]}})
    assert progress.decode(code)["done"] == ["icc", "fixed_or_random"]
    assert progress.decode("not a code") == {"done": [], "answers": {}}  # a cut link is no progress, not an error
    at = run_url("pages/fixed_or_random.py", progress=code)
    clean(at)
    assert at.radio(key=f"quiz_{question_id(q)}").value == q.options[1]
    assert "ignored" not in sidebar_note(at)
    course = run_url("pages/tutorial.py", progress=code)
    assert f"2 of {len(LESSONS)} lessons done" in [p.proto.text for p in course.get("progress")]


def test_every_lesson_ends_with_the_way_on():
    for i, (path, *_rest) in enumerate(LESSONS):
        at = run(path)
        clean(at)
        text = " ".join(m.value for m in at.markdown)
        if i + 1 < len(LESSONS):
            assert f"Next lesson: {LESSONS[i + 1][1]}" in text, path
        else:
            assert "Back to the course" in text, path


IN_PARTS = {Path(page).stem: key for page, key in SECTIONED.items()}


def test_every_lesson_has_a_guided_path_and_questions():
    for page in ["random_intercepts", "icc", "random_slopes", "shrinkage", "ml_vs_reml", "model_comparison"]:
        at = run(f"pages/{page}.py", **CHECK_TAB.get(page, {}))
        clean(at)
        if page in IN_PARTS:  # the path walks through the parts: the chosen part's step opens it
            labels = parts(at, IN_PARTS[page])
            assert markdown_with(at, f"Step {len(labels)} of {len(labels)}.")  # CHECK_TAB opens the last part
            assert not at.expander or not any(e.label.startswith("Guided path") for e in at.expander), page
        else:
            assert any(e.label.startswith("Guided path") for e in at.expander), page
        assert 2 <= sum(1 for r in at.radio if r.key and r.key.startswith("quiz_")) <= 4, page


@pytest.mark.parametrize("page", list(IN_PARTS))
def test_the_guided_path_walks_through_the_parts(page):
    """Each part opens with its step of the path; its Next button opens the next part, in the link too,
    and the last part has none."""
    key = IN_PARTS[page]
    at = run(f"pages/{page}.py")
    labels = parts(at, key)
    for i, label in enumerate(labels):
        clean(at)
        assert next(w for w in at.segmented_control if w.key == key).value == label, page
        assert markdown_with(at, f"Step {i + 1} of {len(labels)}.")
        nexts = [b for b in at.button if b.key == f"{key}_next"]
        if i + 1 == len(labels):
            assert not nexts, page
            break
        assert nexts[0].label == f"Next: {labels[i + 1]}"
        nexts[0].click().run()
        assert at.query_params[key] == labels[i + 1], page


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
    assert charts(at)[0]["layout"]["font"]["size"] == 22


def test_every_page_with_a_model_exports_its_code_and_data():
    for page in ["random_intercepts", "icc", "random_slopes", "shrinkage", "ml_vs_reml", "model_comparison",
                 "under_the_hood"]:
        at = run(f"pages/{page}.py", code_export=True, **CHECK_TAB.get(page, {}))
        clean(at)
        code = next((m.value for m in at.markdown if m.value.startswith("**R (lme4)**")), "")
        assert "lmer(" in code and "smf.mixedlm(" in code and "from mmcore import" in code, page
        assert at.get("download_button"), page


@pytest.mark.parametrize("given", ["inf", "1e999", "5.9", "abc", "99", "0"])
def test_a_link_value_no_widget_holds_is_checked_like_a_widgets(given):
    """sh_keep (where the student let go of the chart's slider, lab.bound_value): a link's value that is
    not a step (not a whole number, out of range, overflowing) starts the page at its default, 2 kept,
    and is reported as ignored; the page does not fail."""
    at = run_url("pages/shrinkage.py", sh_who="335", sh_keep=given)
    clean(at)
    assert at.session_state["sh_keep"] == 2
    assert any("with 2 of its 10 observations" in m.value for m in at.markdown)
    assert "not valid here: sh_keep" in sidebar_note(at)


def test_a_link_value_no_widget_holds_is_taken_when_it_is_a_step():
    at = run_url("pages/shrinkage.py", sh_who="335", sh_keep="7")
    clean(at)
    assert at.session_state["sh_keep"] == 7 and "ignored" not in sidebar_note(at)
    assert link_params(codes(at.sidebar)[-1])["sh_keep"] == ["7"]


def test_the_check_yourself_link_reproduces_its_questions():
    """The questions of shrinkage's Check yourself tab are about the data as the first tab left them (a
    group, the observations kept): that tab's link carries both, and opened afresh it asks the same."""
    at = run_url("pages/shrinkage.py", sh_who="335", sh_keep="6")
    clean(at)
    at.session_state["sh_tab"] = "Check yourself"
    at.run()
    clean(at)
    said = "335 with 6 of its 10 observations"
    assert any(said in c.value for c in at.caption)
    params = link_params(codes(at.sidebar)[-1])
    assert params["sh_who"] == ["335"] and params["sh_keep"] == ["6"] and params["sh_tab"] == ["Check yourself"]
    again = run_url("pages/shrinkage.py", **params)
    clean(again)
    assert any(said in c.value for c in again.caption) and "ignored" not in sidebar_note(again)


@pytest.mark.parametrize("page, params, key", [
    ("pages/icc.py", {"ic_tab": "What an ICC looks like", "ic_sweep_step": "3"}, "ic_sweep"),
    ("pages/random_slopes.py", {"rs_tab": "Correlation", "rs_rho_sweep_step": "5"}, "rs_rho_sweep"),
    ("pages/shrinkage.py", {"sh_tab": "All groups, one ratio", "sh_sweep_step": "4"}, "sh_sweep"),
])
def test_a_link_shows_a_chart_slider_where_it_was_let_go(page, params, key):
    """lab.show_followed: a link's step of a chart's own slider is the step the chart starts at, its
    points and title those of the step (as the student saw them after dragging), and the step is in
    this view's link again."""
    at = run_url(page, **params)
    clean(at)
    step = int(params[f"{key}_step"])
    spec = next(c for c in charts(at) if c["layout"].get("sliders"))
    slider = spec["layout"]["sliders"][0]
    values, title, traces = slider["steps"][step]["args"]
    assert slider["active"] == step and spec["layout"]["title"]["text"] == title["title.text"]
    for j, k in enumerate(traces):
        assert list(spec["data"][k]["y"]) == list(values["y"][j])
    assert link_params(codes(at.sidebar)[-1])[f"{key}_step"] == [str(step)] and "ignored" not in sidebar_note(at)
