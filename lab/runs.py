"""Simulations and bootstraps a student starts explicitly: a progress bar while they run, and the
result remembered in the session for later reruns."""
from __future__ import annotations

import threading
from collections import OrderedDict

import streamlit as st

import mmcore

# Results of explicit runs that every session may see (a planner's grid, run once for a class):
# by (key, params), newest kept.
_SHARED: OrderedDict = OrderedDict()
_SHARED_LOCK = threading.Lock()
MAX_SHARED = 32


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
    a progress bar) when the button is pressed and remembered for later reruns; None before.
    shared: a result is kept for every session (params must be hashable), so a class that opens the
    lecturer's link sees the lecturer's run at once instead of each student running it again."""
    result = remembered(key, params)
    if result is None and shared:
        with _SHARED_LOCK:
            result = _SHARED.get((key, params))
    if st.button(button, key=button_key, type="primary" if primary else "secondary"):
        try:
            result = run_with_progress(label, task, **kwargs)
        except mmcore.MixedModelError as err:  # settings the model cannot use: say so, keep the page
            st.error(f"This cannot be run with these settings: {err}")
            return None
        remember(key, params, result)
        if shared:
            with _SHARED_LOCK:
                _SHARED[(key, params)] = result
                while len(_SHARED) > MAX_SHARED:
                    _SHARED.popitem(last=False)
    return result


def remembered(key: str, params: tuple):
    """A result stored by an explicit run, if it was run with these parameters."""
    stored = st.session_state.get(f"result:{key}")
    return stored[1] if stored and stored[0] == params else None


def remember(key: str, params: tuple, result) -> None:
    st.session_state[f"result:{key}"] = (params, result)  # own prefix: never a widget's key
