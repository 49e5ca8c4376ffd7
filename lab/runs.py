"""Simulations and bootstraps a student starts explicitly: a progress bar while they run, the result
remembered in the session for later reruns, and in the link to the view.

Every simulation is seeded, so its result is a function of its parameters: results are also kept once
per server process (bounded), and a link that says a result was on screen (`run=` in lab.links) has
it computed again, or taken from that store, when the link is opened."""
from __future__ import annotations

import threading
from collections import OrderedDict

import streamlit as st

import mmcore

_SHARED: OrderedDict = OrderedDict()  # (key, params) -> result, for every session of this process
_SHARED_MAX = 32
_LOCK = threading.Lock()


def run_with_progress(label: str, task, **kwargs):
    """Run a simulation or bootstrap with a progress bar (task takes a progress(done, total) callback)."""
    bar = st.progress(0.0, text=label)
    result = task(progress=lambda done, total: bar.progress(min(done / total, 1.0), text=f"{label}: {done:,} of {total:,}"),
                  **kwargs)
    bar.empty()
    return result


def run_on_click(key: str, params: tuple, button: str, button_key: str, task, label: str = "Simulating",
                 primary: bool = True, shared: bool = False, **kwargs):
    """An explicitly started simulation or bootstrap: its result for these parameters, computed (with
    a progress bar) when the button is pressed, or when a link asks for it, and remembered for later
    reruns; None before. shared: a result any session has run is shown at once, before a click (a
    planner's grid: a class that opens the lecturer's page sees the lecturer's run)."""
    result = remembered(key, params)
    if result is None and shared:
        result = _shared(key, params)
        if result is not None:
            remember(key, params, result)
    wanted = key in st.session_state.get("_autorun", ())
    if st.button(button, key=button_key, type="primary" if primary else "secondary") or (wanted and result is None):
        st.session_state.get("_autorun", set()).discard(key)
        result = _shared(key, params)
        if result is None:
            try:
                result = run_with_progress(label, task, **kwargs)
            except mmcore.MixedModelError as err:  # settings the model cannot use: say so, keep the page
                st.error(f"This cannot be run with these settings: {err}")
                return None
            _share(key, params, result)
        remember(key, params, result)
    return result


def remembered(key: str, params: tuple):
    """A result stored by an explicit run, if it was run with these parameters (and it is then on
    screen: the link to the view says so)."""
    stored = st.session_state.get(f"result:{key}")
    if stored and stored[0] == params:
        shown = st.session_state.setdefault("_runs_shown", [])
        if key not in shown:
            shown.append(key)
        return stored[1]
    return None


def remember(key: str, params: tuple, result) -> None:
    st.session_state[f"result:{key}"] = (params, result)  # own prefix: never a widget's key
    remembered(key, params)


def _shared(key: str, params: tuple):
    try:
        with _LOCK:
            return _SHARED.get((key, params))
    except TypeError:  # parameters that cannot be a key: computed, not shared
        return None


def _share(key: str, params: tuple, result) -> None:
    try:
        with _LOCK:
            _SHARED[(key, params)] = result
            _SHARED.move_to_end((key, params))
            while len(_SHARED) > _SHARED_MAX:
                _SHARED.popitem(last=False)
    except TypeError:
        pass
