"""Views as links: widgets bound to the URL's query parameters, widgets that go back to a sensible
value when what they depend on changes (the data set), the percent-encoded "link to this view", and
the note on link settings a page could not use.

A page's visit starts when it is opened (a link pasted into a new tab, the navigation, the browser's
back button) and lasts while its widgets rerun it. The URL a visit starts with is read once, at its
first run: later reruns carry parameters the frontend has not yet dropped (a selection that was
valid for the old data set), which must neither be applied again nor be reported as ignored.
"""
from __future__ import annotations

import math
from urllib.parse import quote, urlencode, urlsplit

import streamlit as st

from lab.code import code_text

TRUE = ("1", "true", "yes", "on")
RUN = "run"  # the link's parameter naming simulations whose results were on screen (lab.runs)
PROGRESS = "progress"  # a learner's progress code (lab.progress)
_UNSET = object()


def current_path() -> str:
    """The page's path in the app (random-slopes; "" for home; a page run alone under AppTest: "")."""
    url = st.context.url
    return urlsplit(url).path.strip("/") if url else ""


def start_visit() -> dict[str, list[str]]:
    """Called first on every run (by lab.page_start): the parameters the visit was opened with."""
    state = st.session_state
    path = current_path()
    state["_new_visit"] = state.get("_visit") != path or "_link_in" not in state
    if state["_new_visit"]:
        state["_visit"] = path
        state["_link_in"] = {k: st.query_params.get_all(k) for k in st.query_params}
        state["_link_note"] = None
        state["_link_checked"] = False
        state["_autorun"] = set(state["_link_in"].get(RUN, []))
        state["_depends"] = {}
    state["_bound"] = []
    state["_deferred"] = []
    state["_runs_shown"] = []
    state["_link_place"] = None
    state["_link_shown"] = False
    return state["_link_in"]


def fragment_rerun() -> None:
    """Called first when a lesson's fragment reruns alone (lab.page._part): the visit is no longer new
    (a link's values are not read again), and what the part shows is counted afresh."""
    state = st.session_state
    state["_new_visit"] = False
    state["_runs_shown"] = []
    state["_link_shown"] = False


def bind(key: str, reset_when=_UNSET, reset_to=_UNSET) -> dict:
    """Widget arguments that keep its value in the URL: a link reproduces the view.

    reset_when: what the widget's options depend on (the data set, the chosen group). When it changes
    the widget goes back to reset_to (the value it starts with), instead of keeping a value that no
    longer fits (an empty selection, the old data set's formula)."""
    bound = st.session_state.setdefault("_bound", [])
    if key not in bound:
        bound.append(key)
    if reset_when is not _UNSET:
        depends = st.session_state.setdefault("_depends", {})
        if key in depends and depends[key] != reset_when:
            forget_link_value(key)
            if reset_to is _UNSET:
                st.session_state.pop(key, None)
            else:
                st.session_state[key] = reset_to
        depends[key] = reset_when
    return dict(key=key, bind="query-params")


def bound_value(key: str, default: int, valid, reset_when=_UNSET) -> int:
    """A whole number of the view that no widget holds (where the student let go of a chart's own
    slider: lab.chart.show's on_step): kept in the link to the view and in the address bar like a
    widget's value, taken from the link the visit was opened with, back to `default` when
    `reset_when` changes (bind) or when it is not in `valid`."""
    bind(key, reset_when=reset_when, reset_to=default)
    state = st.session_state
    given = state.get("_link_in", {}).get(key) if state.get("_new_visit") else None
    if given:
        try:
            number = float(given[-1])
        except ValueError:
            number = float("nan")
        # a whole number, else None (5.9, inf, abc are not steps)
        state[key] = int(number) if math.isfinite(number) and number.is_integer() else None
    if state.get(key) not in valid:  # the default; a link's value then differs from it: reported as not valid
        state[key] = default
    if st.query_params.get(key) != str(state[key]):  # the address bar follows, as a bound widget's: a reload keeps it
        st.query_params[key] = str(state[key])
    return state[key]


def open_tab_for(tab_key: str, tab_of: dict[str, str]) -> None:
    """Lessons draw only the part chosen (lab.sections; a tab here), so a tab's widgets exist only while it
    is open. A link that sets a widget of a tab (tab_of: widget key -> tab label), or asks for a run's
    result shown in it (its key in `run=`), without naming the tab opens that tab, at the visit's first
    run; a link that names the tab keeps it."""
    state = st.session_state
    incoming = state.get("_link_in", {})
    if state.get("_new_visit") and tab_key not in incoming:
        for key, label in tab_of.items():
            if key in incoming or key in incoming.get(RUN, []):  # a widget's value, or a run's result (lab.runs)
                state[tab_key] = label
                return


def defer(keys) -> None:
    """Widgets of this page that this run does not draw (in a closed tab): a link's value for one is
    not ignored but kept, and Streamlit gives it to the widget when its tab opens (seeded from the URL
    the visit opened with)."""
    st.session_state["_deferred"] = [*st.session_state.get("_deferred", []), *keys]


def _initial_link_values() -> dict | None:
    """Streamlit's copy of the URL the visit opened with, from which it seeds bound widgets that are
    new (streamlit==1.67.0, pinned; None under AppTest, which has no URL)."""
    try:
        from streamlit.runtime.state.session_state_proxy import get_session_state

        with get_session_state().query_params() as params:
            return params._initial_query_params
    except (AttributeError, RuntimeError):
        return None


def forget_link_value(key: str) -> None:
    """A bound widget that is new (a slider whose range changed is a new widget) is seeded from the
    URL the visit opened with: after a reset, or when the link's value is not one the widget can take,
    that value must not come back (the link's note still reports it: ignored_settings)."""
    initial = _initial_link_values()
    if initial is not None:
        initial.pop(key, None)


def forget_unless(key: str, valid) -> None:
    """At a visit's first run, a link's value for the bound widget `key` that is not in `valid` is
    forgotten before the widget is made: it starts at its default (a segmented control would read an
    empty value as nothing chosen, even when a choice is required); the link's note reports the value."""
    given = st.session_state.get("_link_in", {}).get(key) if st.session_state.get("_new_visit") else None
    if given and given[-1] not in valid:
        forget_link_value(key)


def show_in_address_bar(key: str, value: bool) -> None:
    """Put a bound toggle's value into the address bar now (Streamlit does it only at the next rerun),
    so that a reload right after opening a page keeps it. Only at a visit's first run, when Streamlit's
    copy of the address bar is fresh: sending a stale copy would undo what the browser already shows."""
    try:
        from streamlit.runtime.state.session_state_proxy import get_session_state

        with get_session_state().query_params() as params:
            if not params.has_param(key):
                params.set_corrected_value(key, value, "bool_value")  # streamlit==1.67.0 (pinned)
    except (AttributeError, RuntimeError):
        pass


def rewrite_link_value(key: str, value: str) -> None:
    """Read a link's value in the form its widget understands (present=1 as present=true)."""
    initial = _initial_link_values()
    if initial is not None and key in initial:
        initial[key] = [value]


def presenting() -> bool:
    return bool(st.session_state.get("present"))


def _as_text(value) -> list[str]:
    values = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in values:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return out


def _same(given: list[str], value) -> bool:
    if value is None:
        return False
    if isinstance(value, (list, tuple)) and not value:
        return all(g == "" for g in given)
    try:
        return [float(g) for g in given] == [float(v) for v in _as_text(value)]
    except ValueError:
        return [g.lower() for g in given] == [v.lower() for v in _as_text(value)]


def view_params() -> list[tuple[str, str]]:
    """The view as (parameter, value) pairs: presenter mode, every bound widget on screen, and the
    simulations whose results are shown (a list repeats its parameter; an empty list is `key=`)."""
    state = st.session_state
    params = [("present", "1")] if presenting() else []
    for key in state.get("_bound", []):
        if key == "present" or key not in state or state[key] is None:
            continue
        values = _as_text(state[key])
        params += [(key, v) for v in values] if values else [(key, "")]
    params += [(RUN, key) for key in state.get("_runs_shown", [])]
    return params


def view_link() -> str:
    """The link to this view: the page's own path, every value percent-encoded (a '+' stays a plus, a
    space cannot cut the link in a chat message, parentheses cannot end it in a mail program)."""
    parts = urlsplit(st.context.url or "")
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    path = "/" + current_path() if current_path() else "/"
    base = parts.path.rstrip("/")
    if current_path() and base.endswith("/" + current_path()):
        base = base[: -len(current_path()) - 1]
    query = urlencode(view_params(), quote_via=quote, safe="")
    return f"{origin}{base}{path}" + (f"?{query}" if query else "")


def ignored_settings() -> str | None:
    """Link parameters this visit was opened with that the page could not use (checked once, at the
    visit's first run: later parameters come from the page itself)."""
    state = st.session_state
    if state.get("_link_checked"):
        return state.get("_link_note")
    state["_link_checked"] = True
    incoming = state.get("_link_in", {})
    bound = set(state.get("_bound", [])) | {"present", RUN, PROGRESS}
    unknown = [k for k in incoming if k not in bound and k not in state.get("_deferred", [])]
    invalid = [k for k in incoming if k in bound - {"present", RUN, PROGRESS} and not _same(incoming[k], state.get(k))]
    if incoming.get("present") and incoming["present"][-1].lower() not in TRUE + ("0", "false", "no", "off"):
        invalid.append("present")
    parts = ([f"unknown: {', '.join(unknown)}"] if unknown else []) + \
            ([f"not valid here: {', '.join(invalid)}"] if invalid else [])
    state["_link_note"] = f"Some link settings were ignored ({'; '.join(parts)})." if parts else None
    return state["_link_note"]


def link_here(place) -> None:
    """Where this run's link to the view goes (a container in the sidebar), instead of the sidebar's end."""
    st.session_state["_link_place"] = place


def show_link() -> None:
    """The sidebar's note on ignored settings and the link to this view."""
    note = ignored_settings()
    with st.session_state.get("_link_place") or st.sidebar:
        if note:
            st.caption(note)
        code_text(view_link(), wrap=True, caption="Link to this view (it reproduces what is on screen):")
    st.session_state["_link_shown"] = True
