"""The frame of every page: what it calls first and last, presenter mode (large fonts and figures for
a projector, long explanations folded), and the guided path."""
from __future__ import annotations

import streamlit as st

from lab.links import bind, page_end  # noqa: F401  (page_end: a page's last call)

PRESENTER_CSS = """<style>
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2rem; padding-right: 2rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.45rem; line-height: 1.5; }
h1 { font-size: 3.4rem !important; } h2, h3 { font-size: 2.3rem !important; }
[data-testid="stWidgetLabel"] p { font-size: 1.25rem !important; }
code { font-size: 1.15rem !important; }
</style>"""


def page_start() -> None:
    """Call first on every page: remembers the URL's parameters (a widget drops the ones it cannot
    use, silently) and sets up presenter mode, a sidebar toggle or ?present=1."""
    incoming = {k: st.query_params.get_all(k) for k in st.query_params}
    if "present" not in st.session_state and incoming.get("present", [""])[-1].lower() in ("1", "yes", "on"):
        st.session_state["present"] = True  # ?present=1, as a lecturer would type it (the toggle reads 'true')
        incoming["present"] = ["true"]
    st.session_state["_incoming"] = incoming
    st.session_state["_bound"] = []
    st.sidebar.toggle("Presenter mode", help="Large fonts and figures for a projector; long explanations folded",
                      **bind("present"))
    if st.session_state.get("present"):
        st.html(PRESENTER_CSS)


def scale() -> float:
    """Figure scale: 1, or larger in presenter mode."""
    return 1.6 if st.session_state.get("present") else 1.0


def explain(text: str, title: str = "Explanation") -> None:
    """A long explanation: shown, or folded in presenter mode."""
    if st.session_state.get("present"):
        with st.expander(title):
            st.markdown(text)
    else:
        st.markdown(text)


def steps(items: list[str]) -> None:
    """The guided path: numbered steps, what to do and what to notice."""
    with st.expander("Guided path: what to do, what to notice", expanded=not st.session_state.get("present")):
        st.markdown("\n".join(f"{i}. {item}" for i, item in enumerate(items, 1)))
