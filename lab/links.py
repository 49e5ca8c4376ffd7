"""Views as links: widgets bound to the URL's query parameters, so that a link reproduces what is on
screen, and the note on link settings a page could not use."""
from __future__ import annotations

import streamlit as st


def bind(key: str) -> dict:
    """Widget arguments that keep its value in the URL: a link reproduces the view."""
    st.session_state.setdefault("_bound", [])
    if key not in st.session_state["_bound"]:
        st.session_state["_bound"].append(key)
    return dict(key=key, bind="query-params")


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
    try:
        return [float(g) for g in given] == [float(v) for v in _as_text(value)]
    except ValueError:
        return [g.lower() for g in given] == [v.lower() for v in _as_text(value)]


def page_end() -> None:
    """Call last: a note on link parameters that were ignored, and the link to this view."""
    incoming = st.session_state.get("_incoming", {})
    bound = st.session_state.get("_bound", [])
    unknown = [k for k in incoming if k not in bound]
    invalid = [k for k in incoming if k in bound and not _same(incoming[k], st.session_state.get(k))]
    if unknown or invalid:
        parts = ([f"unknown: {', '.join(unknown)}"] if unknown else []) + \
                ([f"not valid here: {', '.join(invalid)}"] if invalid else [])
        st.sidebar.caption(f"Some link settings were ignored ({'; '.join(parts)}).")
    query = "&".join(f"{k}={v}" for k in bound if k in st.session_state for v in _as_text(st.session_state[k]))
    base = (st.context.url or "").split("?")[0]
    st.sidebar.caption("Link to this view:")
    st.sidebar.code(f"{base}?{query}" if query else base, language=None, wrap_lines=True)
