"""The frame of every page: what it calls first (page_start) and last (page_end), presenter mode
(text, equations and charts a back row can read, long explanations folded, the sidebar out of the
way), and the guided path."""
from __future__ import annotations

from typing import Callable, NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lab import code, course, links, prefetch, progress
from lab.cache import DataSpec
from lab.links import bind
from lab.sidebar import live_slider

# Presenter mode: the main area only (the sidebar keeps its size, so its navigation names fit when a
# lecturer opens it). Body text 1.45rem (23 px); equations larger than the text around them (KaTeX
# draws at 1.21em of its container); captions 1.2rem. Columns that hold charts or printouts are stacked
# below 1600 px of width: two charts (or two printouts of a fit) side by side on a 1280 px screen leave
# each too narrow to read; small square charts (Q-Q plots) stay side by side (side_by_side): stacked,
# each was a 1200 x 300 px strip.
PRESENTER_CSS = """<style>
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2rem; padding-right: 2rem; padding-top: 3.5rem; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li { font-size: 1.45rem; line-height: 1.5; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] td,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] th,
[data-testid="stMain"] [data-testid="stTable"] td, [data-testid="stMain"] [data-testid="stTable"] th { font-size: 1.25rem; }
[data-testid="stMain"] h1 { font-size: 3.2rem !important; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 2.2rem !important; }
[data-testid="stMain"] .katex-display > .katex { font-size: 1.75rem; white-space: normal; }
[data-testid="stMain"] .katex-display > .katex > .katex-html { white-space: normal; }
[data-testid="stMain"] [data-testid="stCaptionContainer"],
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.2rem; }
[data-testid="stMain"] [data-testid="stWidgetLabel"] p { font-size: 1.35rem !important; }
[data-testid="stMain"] [data-testid="stExpander"] summary p { font-size: 1.35rem; }
[data-testid="stMain"] [data-testid="stMultiSelectTagsContainer"] [data-tag] > span { font-size: 1.1rem; }
[data-testid="stMain"] [data-testid="stSelectbox"] input, [data-testid="stMain"] [data-testid="stNumberInput"] input,
[data-testid="stMain"] [data-testid="stTextInput"] input, [data-testid="stMain"] [data-testid="stSlider"] [data-testid="stSliderThumbValue"],
[data-testid="stMain"] [data-testid="stSlider"] [data-testid="stSliderTickBar"] div { font-size: 1.2rem; }
[data-testid="stMain"] [data-testid="stButtonGroup"] [data-testid="stMarkdownContainer"] p { font-size: 1.25rem; }
[data-testid="stMain"] [data-testid="stButtonGroup"] > div { flex-wrap: wrap; }
[data-testid="stMain"] [data-testid="stAlertContainer"] p { font-size: 1.3rem; overflow-wrap: anywhere; }
[data-testid="stMain"] code { font-size: 1.1rem !important; }
[data-testid="stMain"] [data-testid="stTab"] p { font-size: 1.35rem !important; }
[data-testid="stMain"] [data-testid="stPageLink"] p { font-size: 1.4rem; }
@media (max-width: 1600px) {
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has(.stPlotlyChart, .mmlab-chart, .mmlab-code) { flex-direction: column; }
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has(.stPlotlyChart, .mmlab-chart, .mmlab-code) > [data-testid="stColumn"] { width: 100%; flex: 1 1 auto; }
  [data-testid="stMain"] [class*="st-key-side-by-side"] [data-testid="stHorizontalBlock"] { flex-direction: row; }
  [data-testid="stMain"] [class*="st-key-side-by-side"] [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] { width: auto; flex: 1 1 0; }
}
</style>"""
# Both modes: the page starts under Streamlit's header (4rem, not its 6rem: a lesson's first chart
# within a 1280 x 800 screen); a displayed equation wider than the page wraps between its terms (random
# slopes' uncorrelated model ran off the page at 1280 px, its end out of sight); a long word (a formula,
# a column name) wraps inside its message box instead of running off it; tabs (under the hood) wrap
# onto a second row instead of scrolling out of sight; a radio's empty circles drawn dark enough to see
# on a projector (Streamlit's 20% grey washed out).
COMMON_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 4rem; }
[data-testid="stMain"] .katex-display > .katex, [data-testid="stMain"] .katex-display > .katex > .katex-html { white-space: normal; }
[data-testid="stAlertContainer"] p { overflow-wrap: anywhere; }
[data-testid="stTabs"] [role="tablist"] { flex-wrap: wrap; overflow-x: visible; }
[data-testid="stTabsScrollLeft"], [data-testid="stTabsScrollRight"] { display: none; }
[data-testid="stRadioOption"]:has(input:not(:checked)) > div > div:first-child { border-color: #808495; }
</style>"""


def page_start() -> None:
    """Call first on every page: the visit's link parameters, presenter mode (a sidebar toggle, or
    ?present=1 in a link), and the learner's progress kept in this browser."""
    incoming = links.start_visit()
    st.session_state.pop("_live_slider", None)  # a live slider's place is this run's (lab.sidebar_data)
    progress.load()
    # ?present=1, as a lecturer types it: the toggle's own URL form is 'true', and Streamlit would drop '1'
    asked = incoming.get("present", [""])[-1].lower()
    if asked in links.TRUE and asked != "true":
        links.rewrite_link_value("present", "true")
    was_on = bool(st.session_state.get("_presenting"))
    if was_on and st.session_state["_new_visit"] and "present" not in incoming:
        st.session_state["present"] = True  # the next page of a lecture stays in presenter mode
    on = st.sidebar.toggle("Presenter mode", help="Large fonts and charts for a projector, long explanations "
                           "folded, the sidebar collapsed", **bind("present"))
    st.session_state["_presenting"] = on
    if on and was_on and st.session_state["_new_visit"]:
        links.show_in_address_bar("present", True)
    st.html(COMMON_CSS + f"<style>{code.CSS}</style>")  # lab/code.py says why its CSS is here
    if on:
        st.html(PRESENTER_CSS)
        if not was_on:  # switched on, or a link opened in presenter mode: out of the audience's way
            st.set_page_config(initial_sidebar_state="collapsed")


def page_end() -> None:
    """Call last on every page: the next lesson, the link to this view, and the progress kept."""
    course.next_lesson()
    if not st.session_state.get("_link_shown"):  # a lesson's fragment (_part) drew it
        links.show_link()
    progress.save()
    prefetch.page_sent()  # one value computed ahead here, the rest by the background thread (lab/prefetch.py)


class _PartStopped(Exception):
    """stop() inside a lesson's part (_part): the part ends there, the page goes on."""


def stop() -> NoReturn:
    """End a page's run early (after saying why): its end still comes first, so the link, the way on
    and the progress are there on every page. Pages call this, never st.stop(). Inside a lesson's part
    (a fit of the data that fails, lab.sections' fragment) it ends the part alone: what it said stays in
    the part, and the page's Next button and end come after it as on any run."""
    if st.session_state.get("_in_part"):
        raise _PartStopped
    page_end()
    st.stop()


def scale() -> float:
    """Figure scale: 1, or larger in presenter mode."""
    return 1.6 if links.presenting() else 1.0


def about_chart(text: str) -> None:
    """What a chart with its own slider shows, what to do and notice: above it, folded in presenter mode
    (the chart and its slider then start within a projector's first screen)."""
    explain(text, title="About this chart: what to do, what to notice")


def explain(text: str, title: str = "Explanation") -> None:
    """A long explanation: shown, or folded in presenter mode."""
    if links.presenting():
        with st.expander(title):
            st.markdown(text)
    else:
        st.markdown(text)


def side_by_side(key: str):
    """A container whose rows of columns stay side by side in presenter mode too (PRESENTER_CSS stacks the
    columns of other charts below 1600 px of width): for small charts that are square by nature, Q-Q
    plots; stacked on a projector each was a strip as wide as the screen and a quarter as high."""
    return st.container(key=f"side-by-side-{key}")


def steps(items: list[str]) -> None:
    """The guided path of a page in one piece: numbered steps, what to do and what to notice. (A lesson
    in parts has its path walk through them: lab.sections' steps.)"""
    with st.expander("Guided path: what to do, what to notice", expanded=not links.presenting()):
        st.markdown("\n".join(f"{i}. {item}" for i, item in enumerate(items, 1)))


def sections(key: str, parts: dict[str, Callable], steps: dict[str, str],
             moved: dict[str, str] | None = None, spec: DataSpec | None = None,
             prepare: Callable[[DataSpec], object] | None = None) -> str:
    """A lesson in parts, one idea in each, chosen in a row of buttons above them (a segmented control),
    and only the chosen part drawn; returns its label. The part is in the URL (key): a link opens it.

    Why one part (issue 16): a slider press reruns the page, and the browser redraws every element the
    run sends, seen or not. A long page of ~50 elements (text, equations, printouts, a quiz) cost ~0.1 s
    of each press beyond its charts; one part's worth keeps a press near Streamlit's own floor, and a
    lecturer shows one idea at a time.

    Why not st.tabs, which drew only the open tab too: a tab panel costs every press.
    Streamlit's tab panel (react-aria's useHasTabbableChild) walks its whole subtree on each render and
    each change of the DOM in it, and the run sends a message for every tab. bench/browser.py, the same
    20 presses in three interleaved runs each way, press p50 tabs -> this row: random intercepts 0.19-0.24
    -> 0.17-0.21 s, ICC 0.15-0.17 -> 0.14-0.15 s, random slopes 0.24-0.25 -> 0.18-0.25 s, shrinkage
    0.20-0.23 -> 0.18-0.20 s.

    steps: the guided path, walking through the parts: a part's label -> what to do and what to notice
    there, the first line of the part ("Step 2 of 7."), and a button to the next part at its end. Why
    not the whole path in one list above the parts: at 1280 x 800 that list pushed a lesson's first chart
    below the first screen. (A press sends as many elements either way: the step and the button instead
    of the list's expander and its text; bench/browser.py saw no change beyond its noise.)

    moved: the key of every bound widget in a part -> the part's label: a link that sets the widget
    without naming its part opens that part (links.open_tab_for), and a link's value for a widget of a
    part not drawn waits for it (links.defer), not reported as ignored.

    spec and prepare: the lesson's data (lab.sidebar_data) and what its parts need from them,
    prepare(spec) -> n (a fit and its numbers; it may write notes, lab.notes); each part is then a
    function of n, and the chosen part is drawn in a fragment (_part) with the truth's live slider
    (sidebar_data's live) and the link to the view: a move of that slider, or of a widget in the part,
    reruns the fragment alone, not the page (issue 16)."""
    moved = moved or {}
    links.open_tab_for(key, moved)
    labels = list(parts)
    links.forget_unless(key, labels)  # a link cut short (?ri_tab=) or mistyped opens the first part
    if set(steps) != set(labels):
        raise ValueError(f"the guided path names other parts than the lesson's: {sorted(set(steps) ^ set(labels))}")
    shown = st.segmented_control("Part of the lesson", labels, default=labels[0], required=True,
                                 label_visibility="collapsed", **bind(key))
    if st.session_state.pop("_next_part", False):  # Next pressed at the end of a long part: its row in view
        st.html(f"<script>document.querySelector('.st-key-{key}')?.scrollIntoView({{block: 'nearest'}});</script>",
                unsafe_allow_javascript=True)
    at = labels.index(shown)
    st.markdown(f"**Step {at + 1} of {len(labels)}.** {steps[shown]}")
    links.defer(k for k, label in moved.items() if label != shown)
    if prepare is None:
        parts[shown]()
    else:
        links.link_here(st.sidebar.container())  # where the fragment draws the link, below the data's widgets
        _part(parts[shown], spec, prepare, st.session_state.pop("_live_slider", None))
    if at + 1 < len(labels):
        st.button(f"Next: {labels[at + 1]}", icon=":material/arrow_forward:", key=f"{key}_next",
                  on_click=st.session_state.update, args=({key: labels[at + 1], "_next_part": True},))
    return shown


@st.fragment
def _part(part: Callable, spec: DataSpec, prepare: Callable, slider) -> None:
    """A lesson's chosen part, with the truth's live slider and the link to the view: the page's run
    draws it, and a move of a widget in it reruns it alone (a fragment).

    Why (issue 16): a press of the truth's slider redraws this part, the slider, the link and the
    address bar, not the title, the question, the row of parts, the sidebar's other widgets and the
    app's navigation (ICC: 13 messages a press against 33). bench/browser.py, 20 presses, press p50
    against the page's rerun: 30-90 ms less on the four lessons (README, the twelfth session).

    The slider (lab.sidebar.live_slider) and the link (links.show_link) are in the sidebar, in places
    the page's run made there (Streamlit 1.67, pinned, lets a fragment write into a container made outside
    it, and reruns the fragment when a widget it put there moves). Only the part's widgets and the
    slider are in the fragment: a widget outside it (the data set, the other truth sliders, presenter
    mode, the row of parts, Next) reruns the page, which draws the fragment again."""
    again = _fragment_rerun()
    if again:
        links.fragment_rerun()
    if slider is not None:
        spec = live_slider(spec, slider)
    st.session_state["_in_part"] = True
    try:
        part(prepare(spec))
    except _PartStopped:
        pass
    finally:
        st.session_state["_in_part"] = False
    links.show_link()
    if again:  # what page_end does after a page's run
        progress.save()
        prefetch.page_sent()


def _fragment_rerun() -> bool:
    """This run reruns a fragment alone (streamlit==1.67.0, pinned: the run's context names it)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)
