"""The lecture hall and the learner alone, in a real browser: a link pasted into a fresh browser shows
the same view; presenter mode a back row can read, on every page at 1920x1080 and 1280x720 (fonts
read from the rendered charts, nothing clipped, screenshots in tests/artifacts/presenter/ to look
at); presenter mode kept in the address bar; progress kept after a reload and a return visit; and no
request to another machine from any page."""
from urllib.parse import parse_qs, urlsplit

import pytest

from lab.course import LESSONS, TUTORIAL, url_path
from mmcore.lessons.quiz import FIXED_OR_RANDOM
from tests.browser import (
    ARTIFACTS,
    MEASURE,
    NAV_CLIPPED,
    full_screenshot,
    main_text,
    need_chromium,
    offline_context,
    open_sidebar,
    settle,
    sidebar_open,
    view_link,
)

need_chromium()
EVERY_PAGE = ["", url_path(TUTORIAL[0])] + [url_path(path) for path, *_ in LESSONS]
SCREENS = [(1920, 1080), (1280, 720)]
HEADER = 60  # px: Streamlit's top bar


@pytest.fixture
def outside():
    sent = []
    yield sent
    assert not sent, sent  # nothing left the machine


def test_a_link_with_a_typed_formula_pasted_into_a_fresh_browser_shows_the_same_view(server, browser, outside):
    lecturer = offline_context(browser, outside, viewport={"width": 1400, "height": 1400})
    page = lecturer.new_page()
    page.goto(server + "/model-comparison")
    settle(page)
    open_sidebar(page)
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name="two models of my own").click()
    settle(page)
    bigger = page.locator("[data-testid=stSidebar] [data-testid=stTextInput] input").nth(1)
    bigger.fill("Reaction ~ 1 + Days + (1 + Days || Subject)")
    bigger.press("Enter")
    expanded = "((1 | Subject) + (0 + Days | Subject))"  # anova's "Models:" line, as lme4 prints the || formula
    page.get_by_text(expanded).first.wait_for(timeout=60_000)
    settle(page, 1500)
    link = view_link(page)
    parts = urlsplit(link)
    assert parts.path == "/model-comparison" and " " not in link and "+" not in parts.query  # survives chat and mail
    assert parse_qs(parts.query)["mc_f1"] == ["Reaction ~ 1 + Days + (1 + Days || Subject)"]
    shown = main_text(page)
    assert "Pr(>Chisq)" in shown and expanded in shown

    student = offline_context(browser, outside, viewport={"width": 1400, "height": 1400})  # no cookies, no history
    pasted = student.new_page()
    pasted.goto(link)
    settle(pasted, 1500)
    assert main_text(pasted) == shown
    assert not any("ignored" in c for c in pasted.locator("[data-testid=stSidebar] [data-testid=stCaptionContainer]")
                   .all_inner_texts())
    assert view_link(pasted) == link
    lecturer.close()
    student.close()


def test_a_data_set_switch_resets_what_depends_on_it_and_its_link_shows_the_same(server, browser, outside):
    context = offline_context(browser, outside, viewport={"width": 1400, "height": 1400})
    page = context.new_page()
    page.goto(server + "/shrinkage?sh_who=335&sh_keep=3")
    settle(page)
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name="penicillin", exact=True).click()
    page.get_by_text("Delete observations from one blend").first.wait_for(timeout=60_000)
    settle(page, 1500)
    link = view_link(page)
    query = parse_qs(urlsplit(link).query)
    assert query["sh_dataset"] == ["penicillin"] and query["sh_who"][0].startswith("Blend"), query
    notes = page.locator("[data-testid=stSidebar] [data-testid=stCaptionContainer]").all_inner_texts()
    assert not any("ignored" in n for n in notes), notes
    shown = main_text(page)
    again = context.new_page()
    again.goto(link)
    settle(again, 1500)
    assert main_text(again) == shown
    context.close()


@pytest.mark.parametrize("path", EVERY_PAGE, ids=[p or "home" for p in EVERY_PAGE])
def test_presenter_mode_a_back_row_can_read(server, browser, outside, path):
    """Fonts from the rendered charts at 1920x1080 (ticks >= 18 px, titles >= 22 px), then both screens:
    each chart with its controls fits one screen, nothing wider than its box, a screenshot of each."""
    context = offline_context(browser, outside, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/{path}?present=1")
    settle(page, 1000)
    assert not sidebar_open(page)  # out of the audience's way
    for width, height in SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(1000)  # the charts follow the new width
        seen = page.evaluate(MEASURE)
        where = f"{path or 'home'} at {width}x{height}"
        for chart in seen["charts"]:
            assert min(chart["ticks"]) >= 18 and min(chart["titles"]) >= 22, (where, chart["title"])
            assert chart["titleInside"], (where, chart["title"])
            assert chart["height"] <= height - HEADER, (where, chart["title"], chart["height"])
        assert seen["text"] >= 22 and all(size >= seen["text"] for size in seen["equation"]), where
        assert seen["pageWider"] <= 0 and not seen["pills"] and not seen["equations"], (where, seen)
        full_screenshot(page, ARTIFACTS / "presenter" / f"{path or 'home'}_{width}.png")
    open_sidebar(page)  # a lecturer opens it: the page names fit
    assert page.evaluate(NAV_CLIPPED) == []
    assert not errors and page.locator("[data-testid=stException]").count() == 0
    context.close()


def test_presenter_mode_stays_in_the_address_bar_across_reruns_pages_and_a_reload(server, browser, outside):
    context = offline_context(browser, outside, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(server + "/random-slopes?present=1")
    settle(page)
    page.get_by_role("radiogroup", name="Model").get_by_text("uncorrelated").click()
    page.get_by_text("(Days || Subject)").first.wait_for(timeout=60_000)
    settle(page)
    assert "present=1" in page.url  # a rerun kept it
    open_sidebar(page)
    page.locator("[data-testid=stSidebarNav] a", has_text="Shrinkage").click()
    page.wait_for_url("**/shrinkage**", timeout=60_000)
    settle(page, 1500)
    assert "present=true" in page.url  # the next page of the lecture, in presenter mode too
    page.reload()
    settle(page, 1500)
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                         "'[data-testid=stMain] [data-testid=stMarkdownContainer] p')).fontSize)")
    assert size >= 22  # F5 did not leave presenter mode
    context.close()


def test_progress_is_kept_after_a_reload_and_a_return_visit(server, browser, outside):
    context = offline_context(browser, outside, viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    page.goto(server + "/fixed-or-random")
    settle(page)
    first = page.locator("[data-testid=stMain] [data-testid=stRadio]").first
    first.get_by_text("random", exact=True).click()  # wrong: another try, no answer given away
    page.get_by_text("Think again").wait_for(timeout=60_000)
    assert page.get_by_text("the answer is").count() == 0
    first.get_by_text("fixed", exact=True).click()
    page.get_by_text("Right. Fixed").wait_for(timeout=60_000)
    radios = page.locator("[data-testid=stMain] [data-testid=stRadio]")
    for i, (*_, answer, _why) in enumerate(FIXED_OR_RANDOM[1:], start=1):
        radios.nth(i).get_by_text(answer, exact=True).click()
        page.wait_for_timeout(400)
    page.get_by_text("7 of 7").wait_for(timeout=60_000)
    settle(page)

    page.reload()  # a new session: what is kept comes from this browser
    settle(page, 1500)
    assert page.get_by_text("7 of 7").count() == 1
    assert page.locator("[data-testid=stMain] [data-testid=stRadio] input:checked").count() == 7
    page.close()

    tomorrow = context.new_page()  # a return visit, to the course page
    tomorrow.goto(server + "/" + url_path(TUTORIAL[0]))
    settle(tomorrow, 1500)
    text = main_text(tomorrow)
    assert f"1 of {len(LESSONS)} lessons done" in text and "1 Fixed or random? (done)" in text
    assert "Continue with 2 Random intercepts" in text
    full_screenshot(tomorrow, ARTIFACTS / "course_after_a_lesson.png")
    context.close()
