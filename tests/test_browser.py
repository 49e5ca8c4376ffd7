"""The real thing: the app server, opened in headless Chromium (Debian's, no browser download).
Screenshots go to tests/artifacts/ (look at them). One server and one browser serve every browser test
(tests/conftest.py); each test counts the requests its pages sent to other machines: none may leave."""
import re

import pytest

from lab.server import running
from tests.browser import ARTIFACTS, main_text, need_chromium, offline_context, settle, view_link
from tests.conftest import ROOT

need_chromium()
PAGES = {"home": ("/", 1), "random_intercepts": ("/random-intercepts", 1), "random_slopes": ("/random-slopes", 2),
         "icc": ("/icc", 1), "shrinkage": ("/shrinkage", 1), "ml_vs_reml": ("/ml-vs-reml", 2),
         # the lessons in tabs (lab.sections): a link opens a tab, and its charts are drawn
         "random_intercepts_model": ("/random-intercepts?ri_tab=The%20model", 2),
         "random_intercepts_diagnostics": ("/random-intercepts?ri_tab=Diagnostics&ri_dataset=penicillin", 3),
         "icc_sweep": ("/icc?ic_tab=What%20an%20ICC%20looks%20like&ic_dataset=simulate", 1),
         "random_intercepts_sweep": ("/random-intercepts?ri_tab=From%20complete%20to%20no%20pooling", 1),
         "random_slopes_three": ("/random-slopes?rs_tab=Three%20models", 1),
         "random_slopes_diagnostics": ("/random-slopes?rs_tab=Diagnostics", 4),
         "shrinkage_sweep": ("/shrinkage?sh_tab=All%20groups%2C%20one%20ratio", 1),
         "shrinkage_slopes": ("/shrinkage?sh_tab=Random%20slopes", 1),
         "model_comparison": ("/model-comparison", 0), "under_the_hood": ("/under-the-hood", 2),
         "tests_and_intervals": ("/tests-and-intervals", 3), "nested_crossed": ("/nested-crossed", 3),
         "planning": ("/planning", 2), "your_data": ("/your-data", 0),
         "correlated_errors": ("/correlated-errors", 3),
         "correlated_errors_bodyweight": ("/correlated-errors?ce_dataset=bodyweight", 2)}


@pytest.fixture
def outside():
    """Requests this test's pages sent to other machines (the favicon once came from a font CDN)."""
    sent = []
    yield sent
    assert not sent, sent


@pytest.fixture
def context(browser, outside):
    ctx = offline_context(browser, outside, viewport={"width": 1400, "height": 4200})
    yield ctx
    ctx.close()


def open_page(context, url: str, height: int = 4200):
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": height})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    settle(page, 1500)
    return page, errors


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_plotly_charts_without_exceptions(server, context, name):
    path, min_charts = PAGES[name]
    page, errors = open_page(context, server + path)
    page.wait_for_function(f"() => document.querySelectorAll('.main-svg').length >= {min_charts}",
                           timeout=60_000)  # on a busy machine plotly may still be drawing
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.locator(".js-plotly-plot").count() >= min_charts
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator(".main-svg").count() >= min_charts  # plotly really drew
    # opened directly by its link, the page runs inside the app's navigation (not as a lone file)
    assert "The core lessons" in page.locator("[data-testid=stSidebarNav]").inner_text()
    assert page.get_by_text("Page not found").count() == 0
    assert not errors, errors
    # lab/chart.js's recorded crawl finds the same array attributes as plotly.js's own, for every trace drawn
    traces, differ = page.evaluate(SAME_ARRAY_ATTRIBUTES)
    assert traces >= min_charts and differ == [], differ
    page.close()


SAME_ARRAY_ATTRIBUTES = """() => {
  if (!window.Plotly) return [0, []];  // a page without charts
  const quick = Plotly.PlotSchema.findArrayAttributes, own = quick.mmlabOriginal;
  let traces = 0; const differ = [];
  for (const gd of document.querySelectorAll('.js-plotly-plot')) for (const trace of gd._fullData || []) {
    traces++;
    const a = JSON.stringify(own(trace)), b = JSON.stringify(quick(trace));
    if (a !== b) differ.push([trace.type, a, b]);
  }
  return [traces, differ];
}"""


def test_every_page_preloads_the_charts_plotly_and_uses_it(server, context):
    """lab.server serves Streamlit's index.html with a preload link for the charts' plotly.js: at the
    app's root and at a page's own address (a shared link), and the file it names is served. In the
    browser, the chart's script element takes the preloaded file: one request for it, made by the link."""
    import urllib.error
    import urllib.request

    from lab.server import PLOTLY_TAG

    for path in ("/", "/random-intercepts", "/shrinkage?present=1"):
        answer = urllib.request.urlopen(server + path, timeout=10)
        assert PLOTLY_TAG in answer.read().decode()
        # revalidated by the rewritten page's own tag; a tag of Streamlit's file (cached before) gets the page
        tag = answer.headers["ETag"]
        with pytest.raises(urllib.error.HTTPError, match="304"):
            urllib.request.urlopen(urllib.request.Request(server + path, headers={"If-None-Match": tag}), timeout=10)
        again = urllib.request.Request(server + path, headers={"If-None-Match": '"streamlit-1.67"'})
        assert PLOTLY_TAG in urllib.request.urlopen(again, timeout=10).read().decode()
    with urllib.request.urlopen(server + "/app/static/plotly-lab.min.js", timeout=10) as answer:
        assert answer.status == 200 and len(answer.read()) > 1_000_000
    page, errors = open_page(context, server + "/icc")
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached", timeout=60_000)
    fetched = page.evaluate("() => performance.getEntriesByType('resource')"
                            ".filter(e => e.name.endsWith('plotly-lab.min.js')).map(e => e.initiatorType)")
    assert fetched == ["link"], fetched
    # the build holds the trace types lab/chart.py hands it, no fewer (no more: each costs every page time)
    from lab.chart import TRACES
    assert sorted(page.evaluate("() => Object.keys(Plotly.PlotSchema.get().traces)")) == sorted(TRACES)
    assert not errors, errors
    page.close()


def test_a_folded_tab_is_drawn_when_opened(server, context):
    """Random intercepts draws a part of the lesson only when it is chosen (lab.sections: a bound segmented
    control above the part drawn). The guided path's Next, at the end of a long part, opens the next part,
    in the address bar, with the row of parts and the new step in view (not left scrolled down the page)."""
    page, errors = open_page(context, server + "/random-intercepts")
    before = page.locator(".js-plotly-plot").count()
    page.get_by_role("radiogroup", name="Part of the lesson").get_by_role("radio", name="Diagnostics").click()
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {before + 2}",
                           timeout=60_000)
    assert page.locator("[data-testid=stException]").count() == 0 and not errors
    page.set_viewport_size({"width": 1280, "height": 800})  # Diagnostics is then longer than the screen
    page.get_by_role("button", name="Next: Check yourself").click()  # scrolled to, below the Q-Q plots
    page.wait_for_function("() => /ri_tab=Check/.test(location.search)", timeout=30_000)
    settle(page, 800)
    step = page.get_by_text("Step 7 of 7.", exact=False)
    assert 0 <= step.bounding_box()["y"] < page.viewport_size["height"], step.bounding_box()
    assert page.get_by_role("radiogroup", name="Part of the lesson").get_by_role("radio", checked=True).inner_text() == \
        "Check yourself"
    assert not errors
    page.close()


def test_a_chart_is_drawn_near_the_view_and_redrawn_only_when_its_figure_changes(server, context):
    """lab/chart.js: a chart far below the view waits until it is scrolled near. A rerun that leaves a
    chart's figure as it was does not redraw it (Plotly's afterplot events are counted, and its animated
    events: a figure whose points moved is played as a frame): the figure's bytes must be the same from
    run to run (Streamlit's frontend then keeps the element)."""
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": 500})  # the panels start ~1300 px down: 2.6 screens
    page.goto(server + "/random-slopes?rs_tab=Diagnostics&rs_panels=true")
    settle(page, 1500)
    last = page.locator(".mmlab-chart").last
    assert page.locator(".mmlab-chart").count() == 5  # four Q-Q and residual plots, then a panel per group
    assert last.bounding_box()["y"] > 2 * 500, last.bounding_box()  # beyond a screen's height below the view
    assert last.locator(".main-svg").count() == 0, "a chart far below the view was drawn at once"
    last.scroll_into_view_if_needed()
    last.locator(".main-svg").first.wait_for(state="attached", timeout=30_000)
    page.close()

    page, errors = open_page(context, server + "/random-slopes?rs_dataset=simulate&rs_tab=Three%20models")
    every_chart_drawn = "() => [...document.querySelectorAll('.mmlab-chart')].every((div) => div.querySelector('.main-svg'))"
    page.wait_for_function(every_chart_drawn, timeout=60_000)
    page.evaluate("""() => document.querySelectorAll('.mmlab-chart').forEach((div) => {
        div.afterplots = 0; const count = () => { div.afterplots += 1; };
        div.on('plotly_afterplot', count); div.on('plotly_animated', count); })""")
    page.get_by_role("radiogroup", name="Model").get_by_text("uncorrelated").click()
    page.locator("[data-testid=stMarkdownContainer]").filter(has_text="Fitted: y ~ x + (x || group)").wait_for(timeout=60_000)  # ran again
    settle(page, 1500)
    drawn = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.mmlab-chart')].map((div) => [
        [...div.closest('[class*=st-key-]').classList].find((c) => c.startsWith('st-key-')).slice(7), div.afterplots]))""")
    assert drawn["rs_vc"] == 0, drawn  # the three models' variance components: the same figure, not redrawn
    assert not errors, errors
    page.close()


def test_moving_a_widget_in_the_browser_reruns_the_page(server, context):
    page, errors = open_page(context, server + "/random-slopes")
    page.get_by_role("radiogroup", name="Model").get_by_text("intercept only").click()
    page.get_by_text("This model has no random slope").wait_for(timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "random_slopes_intercept_only.png"), full_page=True)
    page.close()


# Every message the server sends the page, counted in the page (installed before the page's scripts run).
COUNT_MESSAGES = """
window.__messages = 0;
const OwnSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const ws = new OwnSocket(...args);
  ws.addEventListener('message', () => { window.__messages += 1; });
  return ws;
};
window.WebSocket.prototype = OwnSocket.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
window.__sheets = 0;  // style sheets put into the page: each makes the browser restyle all of it
new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach((n) => {
  if (n.nodeName === 'STYLE' || (n.nodeName === 'LINK' && n.rel === 'stylesheet')
      || (n.querySelector && n.querySelector('style, link[rel=stylesheet]'))) window.__sheets += 1;
}))).observe(document, {subtree: true, childList: true});
"""


def test_a_lesson_s_truth_slider_and_its_part_s_widgets_rerun_the_part_alone(server, context):
    """lab.sections' fragment: a press of the truth's ICC redraws the part, the slider and the link, in far
    fewer messages than a press of another truth slider (the page's rerun); the slider stays in its place;
    the numbers, the link and the address bar are those a fresh page shows for the view; a widget in the
    part and a run started there rerun the fragment too, and the link follows them."""
    page = context.new_page()
    page.add_init_script(COUNT_MESSAGES)
    page.set_viewport_size({"width": 1400, "height": 1400})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/icc?ic_dataset=simulate&ic_icc=0.3")
    settle(page, 1500)
    sidebar = page.locator("[data-testid=stSidebar]")

    def press(label: str) -> int:
        before = page.evaluate("() => window.__messages")
        sidebar.locator("[data-testid=stSlider]").filter(has_text=label).locator("input[type=range]").focus()
        page.keyboard.press("ArrowRight")
        settle(page, 800)
        return page.evaluate("() => window.__messages") - before

    def numbers() -> str:
        return page.get_by_text(re.compile(r"^ICC = .* \(REML estimates\)")).inner_text()

    sheets = page.evaluate("() => window.__sheets")
    part_press, page_press = press("ICC (the truth)"), press("number of groups")
    assert part_press < page_press / 2, (part_press, page_press)
    # the link (lab/code.py) drawn again without a style sheet of its own, and still in its look
    assert page.evaluate("() => window.__sheets") == sheets
    look = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('[data-testid=stSidebar] .mmlab-code pre'));
                                      return [s.borderRadius, s.fontFamily]; }""")
    assert look[0] == "8px" and "Source Code Pro" in look[1], look
    place = page.evaluate("""() => { const box = document.querySelector('[data-testid=stSidebar] .mmlab-code');
      const [c, pre, b] = ['p.mmlab-caption', 'pre', 'button'].map((s) => box.querySelector(s).getBoundingClientRect());
      return {caption: box.querySelector('p.mmlab-caption').innerText, above: c.bottom <= pre.top + 1,
              inside: b.top >= pre.top && b.bottom <= pre.bottom && b.right <= pre.right + 1}; }""")
    assert place == {"caption": "Link to this view (it reproduces what is on screen):", "above": True, "inside": True}, place
    assert "ic_icc=0.35" in page.url and "ic_n_groups=11" in page.url, page.url
    assert "The truth: ICC = 0.35" in numbers()
    for _ in range(2):
        press("ICC (the truth)")
    shown, link = numbers(), view_link(page)
    assert "The truth: ICC = 0.45" in shown and "ic_icc=0.45" in link and "ic_n_groups=11" in link, (shown, link)
    labels = sidebar.locator("[data-testid=stSlider] [data-testid=stWidgetLabel]").all_inner_texts()
    assert labels[:2] == ["ICC (the truth)", "number of groups"], labels  # in its place, above the others
    fresh, errors2 = open_page(context, link, height=1400)
    assert fresh.get_by_text(re.compile(r"^ICC = .* \(REML estimates\)")).inner_text() == shown
    assert view_link(fresh) == link
    fresh.close()

    page.get_by_role("radiogroup", name="Part of the lesson").get_by_role("radio", name="Bootstrap interval").click()
    settle(page, 800)
    before = page.evaluate("() => window.__messages")
    page.locator("[data-testid=stMain] [data-testid=stSlider]").filter(has_text="bootstrap replicates") \
        .locator("input[type=range]").focus()
    page.keyboard.press("ArrowLeft")
    settle(page, 800)
    assert page.evaluate("() => window.__messages") - before < page_press / 2
    assert "ic_nsim=500" in view_link(page) and "ic_nsim=500" in page.url
    page.get_by_role("button", name="Compute the 95% interval").click()
    page.get_by_text("95% parametric-bootstrap interval for the ICC").wait_for(timeout=60_000)
    settle(page, 800)
    assert "run=ic_boot" in view_link(page), view_link(page)
    press("ICC (the truth)")  # new data: the interval shown was of the old ones, and goes
    assert page.get_by_text("95% parametric-bootstrap interval for the ICC").count() == 0
    assert "run=ic_boot" not in view_link(page)
    page.screenshot(path=str(ARTIFACTS / "icc_fragment.png"))
    assert page.locator("[data-testid=stException]").count() == 0
    assert not errors and not errors2, errors + errors2
    page.close()


def test_upload_bad_then_good_then_too_big(server, context, tmp_path):
    corpus = ROOT / "tests" / "corpus"
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": 3000})
    page.goto(server + "/your-data")
    page.get_by_text("Upload a CSV file, paste CSV text").wait_for(timeout=60_000)

    def upload(path):  # a file already there: replace it through the uploader's input
        page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(path))

    with page.expect_file_chooser() as chooser:  # the first, as a person does: the file chooser
        page.locator("[data-testid=stFileUploaderDropzone] button").click()
    chooser.value.set_files(str(corpus / "ragged.csv"))
    page.get_by_text("ragged rows").wait_for(timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "your_data_ragged.png"), full_page=True)
    upload(corpus / "good.csv")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000, state="attached")
    page.get_by_text("Linear mixed model fit by REML").wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "your_data_good.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.write(b"y,x,g\n" + b"1.0000000,2.0000000,aaaa\n" * 2_200_000)  # about 55 MB
    upload(big)
    page.get_by_text("must be 50").first.wait_for(timeout=30_000)  # Streamlit refuses it before it is sent
    assert page.locator("[data-testid=stException]").count() == 0
    page.close()


def test_presenter_mode_in_the_browser(server, context):
    page, errors = open_page(context, server + "/random-intercepts?present=1", height=1000)
    page.screenshot(path=str(ARTIFACTS / "presenter_random_intercepts.png"))
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                         "'[data-testid=stMain] [data-testid=stMarkdown] p')).fontSize)")
    assert size >= 22  # 1.45rem on a 16 px root (the main area; the sidebar keeps its size)
    title_size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    assert title_size >= 50
    assert not errors and page.locator("[data-testid=stException]").count() == 0
    page.close()


CHART_BOXES = ("() => Array.from(document.querySelectorAll('[data-testid=stMain] .mmlab-chart'), el => {"
               " const r = el.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top)]; })")


def test_presenter_mode_stacks_wide_charts_and_keeps_square_ones_side_by_side(server, context):
    """Below 1600 px presenter mode stacks the columns of charts (two lines charts side by side are too
    narrow to read), but not a row of Q-Q plots (lab.side_by_side): stacked, each was a flat strip."""
    page, errors = open_page(context, server + "/random-intercepts?present=1&ri_tab=Diagnostics", height=1000)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stMain] .mmlab-chart').length >= 3")
    boxes = page.evaluate(CHART_BOXES)
    assert len(boxes) == 3 and len({top for _, top in boxes}) == 1 and len({left for left, _ in boxes}) == 3
    page.goto(server + "/random-slopes?present=1")  # lines and plane: stacked
    settle(page, 1500)
    boxes = page.evaluate(CHART_BOXES)
    assert len(boxes) == 2 and boxes[0][0] == boxes[1][0] and boxes[1][1] > boxes[0][1]
    assert not errors and page.locator("[data-testid=stException]").count() == 0
    page.close()


def test_a_shared_link_is_the_first_request_of_a_fresh_server(browser, outside):
    with running() as (url, _):  # its own server: nothing has run app.py yet
        context = offline_context(browser, outside, viewport={"width": 1400, "height": 1200})
        page = context.new_page()
        page.goto(url + "/shrinkage?sh_keep=3&present=1")
        page.wait_for_selector("[data-testid=stSidebarNav]", timeout=60_000)
        page.get_by_text("Shrinkage: partial pooling").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        assert "The core lessons" in page.locator("[data-testid=stSidebarNav]").inner_text()
        assert page.get_by_text("Page not found").count() == 0
        assert page.get_by_text("with 3 of its 10 observations").count() >= 1  # the link's setting took effect
        context.close()


def test_tests_and_intervals_simulation_in_the_browser(server, context):
    page, errors = open_page(context, server + "/tests-and-intervals?ti_dataset=estrone&ti_nsim=200")
    page.get_by_role("button", name="Simulate").click()
    page.get_by_text("Rejections of a true null").wait_for(timeout=120_000)
    page.get_by_role("button", name="Add parametric-bootstrap intervals").click()
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=120_000)
    page.wait_for_timeout(2000)
    page.screenshot(path=str(ARTIFACTS / "tests_and_intervals_estrone.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.get_by_text("below zero").count() >= 1  # five women: the Wald interval of the variance
    assert not errors, errors
    page.close()


def test_random_slopes_centring_in_the_browser(server, context):
    page, errors = open_page(context, server + "/random-slopes?rs_origin=8")
    page.get_by_text("Moving the origin of Days").wait_for(timeout=60_000)
    page.get_by_text("Measure Days from c").scroll_into_view_if_needed()  # its tab opened by the link
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "random_slopes_centring.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    assert not errors, errors
    page.close()


def test_binary_outcomes_lesson_in_the_browser(server, context):
    """Lesson 9 draws all its charts (the last, the grouse ticks' counts, after two Poisson fits),
    then switches to quadrature and the probit link in the browser."""
    page, errors = open_page(context, server + "/binary-outcomes", height=6400)
    page.get_by_text("How often each count occurs").wait_for(timeout=180_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "binary_outcomes.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    page.get_by_role("radiogroup", name="Fit by").get_by_text("adaptive quadrature, 25 points").click()
    page.get_by_text("Adaptive Gauss-Hermite Quadrature, nAGQ = 25").wait_for(timeout=120_000)
    page.get_by_role("radiogroup", name="link").get_by_text("probit").click()
    page.get_by_text("probit link, sigma_b").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "binary_outcomes_probit.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    assert not errors, errors
    page.close()


def test_correlated_errors_simulation_in_the_browser(server, context):
    page, errors = open_page(context, server + "/correlated-errors?ce_dataset=simulate&ce_phi=0.5&ce_nsim=200")
    page.get_by_role("button", name="Run the simulation").click()
    page.get_by_text("Honest standard errors? 200 simulated data sets").first.wait_for(timeout=120_000)
    page.wait_for_function("() => document.querySelectorAll('.main-svg').length >= 4", timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "correlated_errors_simulation.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("svg text").filter(has_text="95% intervals cover").count() == 5  # plotly drew all five
    assert not errors, errors
    page.close()


def test_a_model_too_large_for_the_server_is_refused_on_the_page(server, context):
    """The InstEval example on 'your data', a formula past the budget typed in: the page says what is
    too big and what to do, and nothing else breaks (screenshot: your_data_refused.png)."""
    page, errors = open_page(context, server + "/your-data?yd_source=an+example&yd_example=insteval")
    box = page.get_by_label("lme4 formula (built from the menus; edit it freely)")
    box.fill("y ~ service + (1 | s) + (1 | d) + (1 | s:dept)")
    box.press("Enter")
    page.get_by_text("too large for this server").wait_for(timeout=120_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "your_data_refused.png"), full_page=False)
    text = page.locator("[data-testid=stAlert]").all_inner_texts()
    assert any("4,100 x 4,100" in t and "fewer levels" in t for t in text)
    assert page.locator("[data-testid=stException]").count() == 0 and not errors


def test_planning_simulation_with_progress_in_the_browser(server, context):
    page, errors = open_page(context, server + "/planning?pl_nsim=200&pl_groups=4&pl_groups=10&pl_groups=20&pl_groups=40"
                             "&pl_n=2&pl_n=10")
    page.get_by_role("button", name="Simulate the designs").click()
    page.locator("[data-testid=stProgress]").first.wait_for(state="visible", timeout=30_000)  # the bar, while it runs
    page.get_by_text("80% power for an effect of").wait_for(timeout=300_000)
    page.wait_for_function("() => document.querySelectorAll('.main-svg').length >= 3", timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "planning_simulated.png"), full_page=True)
    page.locator("[data-testid=stButtonGroup] button", has_text="the between-group SD").click()
    page.get_by_text("sigma_b: coverage of 95% intervals").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "planning_sigma_b.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    assert not errors, errors
    page.close()


@pytest.mark.parametrize("name,path", [
    ("presenter_nested_crossed", "/nested-crossed?present=1&nc_dataset=simulate&nc_design=subjects%20x%20items"),
    ("presenter_planning", "/planning?present=1&pl_layout=within")])
def test_new_lessons_in_presenter_mode(server, context, name, path):
    page, errors = open_page(context, server + path, height=1100)
    page.wait_for_function("() => document.querySelectorAll('.main-svg').length >= 2", timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))  # what the projector shows first
    page.set_viewport_size({"width": 1400, "height": 6000})  # the app scrolls inside its own container
    page.wait_for_timeout(2500)
    page.screenshot(path=str(ARTIFACTS / f"{name}_full.png"))
    title_size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    assert title_size >= 50
    assert page.locator("[data-testid=stException]").count() == 0
    assert not errors, errors
    page.close()


SHRINKAGE_SWEEP, ICC_SWEEP = "/shrinkage?sh_tab=All%20groups%2C%20one%20ratio", "/icc?ic_tab=What%20an%20ICC%20looks%20like"
RI_SWEEP = "/random-intercepts?ri_tab=From%20complete%20to%20no%20pooling"


@pytest.mark.parametrize("path, name", [(SHRINKAGE_SWEEP, "shrinkage"), (ICC_SWEEP + "&ic_dataset=simulate", "icc"),
                                        ("/random-slopes?rs_dataset=simulate&rs_tab=Correlation",
                                         "random_slopes"),
                                        (RI_SWEEP + "&ri_dataset=simulate", "random_intercepts"),
                                        (RI_SWEEP + "&present=1", "random_intercepts_presenter"),
                                        (SHRINKAGE_SWEEP + "&present=1", "shrinkage_presenter"),
                                        (ICC_SWEEP + "&present=1", "icc_presenter")])
def test_dragging_a_client_side_slider_redraws_without_asking_the_server(server, context, path, name):
    """The plotly slider of a sweep (mmcore/figures/sweeps.py) dragged with the mouse: the chart's
    title and points change while the button is held, and the page sends nothing over its websocket
    (no Streamlit rerun) until the button is let go; then the address bar has the step, and a reload
    shows the chart as it was left. Screenshots of the drag in progress: sweep_<name>_drag.png."""
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + path)
    settle(page, 1500)
    chart = page.locator(".js-plotly-plot").filter(has=page.locator(".slider-rail-rect")).first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    title = lambda: chart.locator(".gtitle").text_content()  # noqa: E731
    points = lambda: chart.locator(".scatterlayer .trace").nth(1).inner_html()  # noqa: E731
    before_title, before_points, before_sent = title(), points(), len(sent)
    rail, grip = chart.locator(".slider-rail-rect").bounding_box(), chart.locator(".slider-grip-rect").bounding_box()
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    seen = set()
    for x in (rail["x"] + rail["width"] * f for f in (0.3, 0.15, 0.05)):
        page.mouse.move(x, y, steps=3)
        seen.add(title())
    page.screenshot(path=str(ARTIFACTS / f"sweep_{name}_drag.png"))  # the button still held
    assert title() != before_title and points() != before_points
    assert len(seen) == 3  # every stop along the rail is another step
    # The title and the traces belong to the step the slider shows (lab/chart.js plays the traces as a
    # frame and sets the title apart). plotly draws the current value as the slider's first label (no
    # class of its own in this version): "ICC of the truth = 0.35"; the title's first number is the step's
    # (a whole number where the slider's steps are: "σb of the truth = 20").
    shown = chart.locator(".slider-label").first.text_content()
    step = shown.split("= ")[-1] if "= " in shown else None
    assert step and re.search(r"[-+]?\d+(\.\d+)?", title()).group() == step, (step, title())
    page.wait_for_timeout(100)  # a frame is played at the next animation frame
    assert chart.evaluate("""(gd) => {
        const active = gd._fullLayout.sliders[0].active;
        const [data, , traces] = gd.mmlabFigure.layout.sliders[0].steps[active].args;
        return traces.every((k, j) => JSON.stringify(gd.data[k].y) === JSON.stringify(data.y[j])); }""")
    page.wait_for_timeout(300)
    assert len(sent) == before_sent, "the drag sent a message to the server"
    assert page.locator("[data-testid=stStatusWidget]").count() == 0
    dragged = title()
    page.mouse.up()  # let go: the page follows (lab.show_followed), the chart stays as it is
    page.wait_for_function("() => /_step=\\d+/.test(location.search)", timeout=30_000)
    settle(page, 800)
    assert title() == dragged
    page.reload()  # the address bar keeps where it was let go
    settle(page, 1500)
    assert chart.locator(".gtitle").text_content() == dragged
    assert not errors, errors
    page.close()


@pytest.mark.parametrize("address, slider, key, moved_to, lines, points, range_moves, relabelled", [
    # the truth's sigma_b from 38 to 41: ten panels of points and lines move, the y range widens at 40
    ("/random-intercepts?ri_dataset=simulate&ri_sigma_b=38", "between-group SD", "ri_pooling", "ri_sigma_b=41", 30, 80,
     True, False),
    # the truth's rho from 0.1 to 0.25: the plane's points, their labels (shown where they fit, placed
    # around the point) and the ellipse move, its correlation in the subtitle; the square box's ranges stay
    ("/random-slopes?rs_dataset=simulate&rs_rho=0.1", "correlation", "rs_plane", "rs_rho=0.25", 1, 18, False, True),
])
def test_a_chart_whose_points_moved_is_drawn_as_a_fresh_page_draws_it(server, context, address, slider, key,
                                                                    moved_to, lines, points, range_moves, relabelled):
    """lab/chart.js plays a figure that differs from the drawn one only in its points, their labels, its
    title and fixed axis ranges as an animation frame, not a new plot. What is then on screen must be
    what a fresh page draws for the same view: every line's path, every point's and label's place and
    text, the title, the axes' ranges and tick labels."""
    def picture(page):
        return page.locator(f".st-key-{key} .js-plotly-plot").evaluate("""(gd) => ({
            lines: [...gd.querySelectorAll('.scatterlayer path.js-line')].map((p) => p.getAttribute('d')),
            points: [...gd.querySelectorAll('.scatterlayer path.point')].map((p) => p.getAttribute('transform')),
            labels: [...gd.querySelectorAll('.scatterlayer .textpoint text')].map((t) =>
                `${t.textContent} ${t.getAttribute('x')} ${t.getAttribute('y')}`),
            ticks: [...gd.querySelectorAll('.xaxislayer-above text, .yaxislayer-above text')].map((t) => t.textContent),
            title: [...gd.querySelectorAll('.gtitle, .gtitle-subtitle')].map((t) => t.textContent),
            range: [gd._fullLayout.xaxis.range, gd._fullLayout.yaxis.range]})""")

    def numbers(picture):
        return [float(v) for part in (picture["lines"], picture["points"], picture["labels"]) for s in part
                for v in re.findall(r"-?\d+(?:\.\d+)?", s or "")]

    page, errors = open_page(context, server + address, height=1400)
    chart = page.locator(f".st-key-{key} .js-plotly-plot")
    before = picture(page)
    chart.evaluate("(gd) => { gd.frames = 0; gd.on('plotly_animated', () => { gd.frames += 1; }); }")
    thumb = page.locator("[data-testid=stSlider]").filter(has_text=slider).locator("input[type=range]")
    for _ in range(3):
        thumb.focus()
        page.keyboard.press("ArrowRight")
        settle(page, 800)
    moved = picture(page)
    assert chart.evaluate("(gd) => gd.frames") == 3  # every press played as a frame
    assert moved_to in page.url, page.url
    assert (moved["range"] != before["range"]) == range_moves  # a range moved on the way, set in a frame
    assert (moved["labels"] != before["labels"]) == (moved["title"] != before["title"]) == relabelled
    fresh, errors2 = open_page(context, page.url, height=1400)
    drawn = picture(fresh)
    assert moved["ticks"] == drawn["ticks"] and moved["range"] == drawn["range"] and moved["title"] == drawn["title"]
    assert len(moved["lines"]) == len(drawn["lines"]) == lines and len(moved["points"]) == len(drawn["points"]) == points
    assert [t.split()[0] for t in moved["labels"]] == [t.split()[0] for t in drawn["labels"]]
    a, b = numbers(moved), numbers(drawn)
    assert len(a) == len(b) and max(abs(x - y) for x, y in zip(a, b)) < 0.5  # pixels
    assert not errors and not errors2, errors + errors2
    page.close()
    fresh.close()


@pytest.mark.parametrize("address, key, fraction, param, text", [
    # the intercepts tab: steps 1..10 evenly along the rail, 8 at 7/9; lambda_i's numbers under the chart
    ("/shrinkage?sh_who=309&sh_keep=5", "sh_axis", 7 / 9, "sh_keep", "with {} of its 10 observations"),
    # the random-slopes tab: steps 2..10, 8 at 6/8
    ("/shrinkage?sh_tab=Random%20slopes&sh_subject=309&sh_days=5", "sh_plane", 6 / 8, "sh_days", None),
])
def test_a_chart_slider_the_page_follows_answers_the_drag_and_the_page_the_release(server, context, address, key,
                                                                                   fraction, param, text):
    """Shrinkage's observations kept (lab.chart.show's on_step): dragged, the chart answers and nothing
    goes to the server; let go, one rerun gives that fit's numbers under the chart and the link, and the
    chart, which already shows that step, is not drawn again. The address bar follows (a reload keeps the
    view), and what is on screen is what a fresh page at the link draws. Screenshot of the drag in
    progress: sweep_<key>_drag.png."""
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": 1400})
    sent, errors = [], []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + address)
    settle(page, 1500)
    chart = page.locator(f".st-key-{key} .js-plotly-plot")
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    assert "309, 5 of 10 kept" in chart.locator(".gtitle").text_content()
    picture = """(gd) => [...gd.querySelectorAll('.scatterlayer path.point, .scatterlayer .textpoint text')]
        .map((p) => p.getAttribute('transform') || `${p.getAttribute('x')} ${p.getAttribute('y')}`).join(';')"""
    chart.evaluate("(gd) => { gd.plots = 0; gd.on('plotly_afterplot', () => { gd.plots += 1; }); }")
    rail = chart.locator(".slider-rail-rect").bounding_box()
    grip = chart.locator(".slider-grip-rect").bounding_box()
    y, before = grip["y"] + grip["height"] / 2, len(sent)
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    for f in (fraction - 0.15, fraction - 0.05, fraction):
        page.mouse.move(rail["x"] + rail["width"] * f, y, steps=3)
    page.wait_for_timeout(200)
    title = chart.locator(".gtitle").text_content()
    page.screenshot(path=str(ARTIFACTS / f"sweep_{key}_drag.png"))  # the button still held
    assert "309, 8 of 10 kept" in title, title
    assert len(sent) == before, "the drag sent a message to the server"
    if text:
        assert text.format(5) in main_text(page)  # the numbers below wait for the release
    dragged = chart.evaluate(picture)
    chart.evaluate("(gd) => { gd.plots = 0; }")  # drawings from here on: the release's
    page.mouse.up()
    if text:
        page.get_by_text(text.format(8)).first.wait_for(timeout=30_000)
    page.wait_for_function(f"() => [...document.querySelectorAll('[data-testid=stSidebar] code')]"
                           f".some((c) => c.textContent.includes('{param}=8'))", timeout=30_000)
    settle(page, 800)
    assert len(sent) > before  # the release: one rerun
    assert chart.evaluate(picture) == dragged and chart.evaluate("(gd) => gd.plots") == 0  # not drawn again
    link = view_link(page)
    assert f"{param}=8" in link and "=309" in link, link
    assert f"{param}=8" in page.url, page.url  # the address bar too: a reload keeps the view
    page.reload()
    settle(page, 1500)
    assert chart.locator(".gtitle").text_content() == title
    fresh = context.new_page()
    fresh.set_viewport_size({"width": 1400, "height": 1400})
    fresh.goto(link)
    settle(fresh, 1500)
    assert fresh.locator(f".st-key-{key} .js-plotly-plot .gtitle").text_content() == title
    assert fresh.locator(f".st-key-{key} .js-plotly-plot").evaluate(picture) == dragged
    assert not errors, errors
    page.close()
    fresh.close()


def test_a_chart_the_student_zoomed_is_put_back_when_its_points_move(server, context):
    """A press after the student zoomed a chart or hid a trace from its legend: lab/chart.js draws the new
    figure in full (Plotly.react puts the figure's view back), not as a frame into the zoomed view."""
    page, errors = open_page(context, server + "/random-intercepts?ri_dataset=simulate", height=1400)
    chart = page.locator(".st-key-ri_pooling .js-plotly-plot")
    thumb = page.locator("[data-testid=stSlider]").filter(has_text="between-group SD").locator("input[type=range]")
    for act in ("Plotly.relayout(gd, {'yaxis.range': [-1000, 2000]})",  # a zoom, as a drag on the plot makes it
                "Plotly.restyle(gd, {visible: 'legendonly'}, [0])"):  # the data hidden by a click on the legend
        chart.evaluate(f"(gd) => {{ gd.frames = 0; gd.on('plotly_animated', () => {{ gd.frames += 1; }}); {act}; }}")
        page.wait_for_timeout(300)
        thumb.focus()
        page.keyboard.press("ArrowRight")
        settle(page, 800)
        frames, shown = chart.evaluate("(gd) => [gd.frames, [gd._fullLayout.yaxis.range, gd.data[0].visible ?? true, "
                                       "gd.mmlabFigure.layout.yaxis.range]]")
        assert frames == 0, act
        assert shown[0] == shown[2] and shown[1] is True, (act, shown)
    assert not errors, errors
    page.close()


def test_figures_that_come_back_to_back_are_drawn_in_order(context):
    """lab/chart.js draws one figure at a time per chart. plotly.js plays a frame at the next animation
    frame: without the order, a second figure within that frame dropped the axis range the first one
    set (the first check failed every time). The second checks that a figure drawn in full after a
    frame stays drawn."""
    page = context.new_page()
    page.set_content('<div id="parent" style="width: 600px"></div>')
    page.add_script_tag(path=str(ROOT / "static" / "plotly-lab.min.js"))
    source = (ROOT / "lab" / "chart.js").read_text().replace("export default function", "window.mmlabChart = function")
    page.add_script_tag(content=source)
    page.evaluate("""() => {
        window.__mmlabPlotly = Promise.resolve(window.Plotly);
        const parentElement = document.getElementById('parent');
        const figure = (y, top, extra = {}) => ({data: [{type: 'scatter', x: [0, 1, 2], y, ...extra}],
            layout: {xaxis: {range: [0, 2]}, yaxis: {range: [0, top]}, height: 300}});
        // each figure in a task of its own, as Streamlit's reruns deliver them, within one animation frame
        window.one = (fig) => window.mmlabChart({data: new TextEncoder().encode(JSON.stringify(fig)), parentElement});
        window.show = (first, second) => requestAnimationFrame(() => { one(first); setTimeout(() => one(second), 0); });
        window.figure = figure;
        window.now = () => { const gd = parentElement.querySelector('.js-plotly-plot');
            return [gd._fullLayout.yaxis.range, gd.data[0].y, gd.data[0].mode || null]; };
    }""")
    page.evaluate("() => one(figure([0, 1, 2], 2))")
    page.wait_for_function("() => document.querySelector('#parent .main-svg')")
    page.wait_for_timeout(300)
    # points and range moved, then points moved again at once: both frames, the range kept
    page.evaluate("() => show(figure([0, 5, 10], 10), figure([0, 6, 9], 10))")
    page.wait_for_timeout(500)
    assert page.evaluate("() => now()") == [[0, 10], [0, 6, 9], None]
    # a frame, then at once a figure of another kind (a new trace attribute): the last one stays drawn
    page.evaluate("() => show(figure([0, 3, 3], 10), figure([7, 7, 7], 10, {mode: 'markers'}))")
    page.wait_for_timeout(500)
    assert page.evaluate("() => now()") == [[0, 10], [7, 7, 7], "markers"]
    page.close()
