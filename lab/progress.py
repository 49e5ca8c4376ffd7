"""A learner's progress without accounts: the lessons completed and the answers given, kept in this
browser and as a code the learner can carry to another one.

Streamlit has no browser storage of its own, and a session ends with the tab (a reload starts a new
one). So the page writes the progress into a cookie (a few lines of script, no component, nothing
fetched from outside), and a new session reads it back from the request that opened it
(st.context.cookies): a reload and a return visit find it. The same progress as a short code
(?progress=CODE in a link) moves it to another browser. The cookie holds only this code.
"""
from __future__ import annotations

import base64
import json
import zlib

import streamlit as st

from lab import links

COOKIE = "mmlab_progress"
PARAM = links.PROGRESS
MAX_ANSWERS = 120  # the newest answers are kept: a cookie holds about 4 kB
KEEP_DAYS = 365


def _empty() -> dict:
    return {"done": [], "answers": {}}


def encode(state: dict) -> str:
    """The progress as a short URL- and cookie-safe code."""
    text = json.dumps({"d": state["done"], "a": state["answers"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def decode(code: str | None) -> dict:
    """A code back as progress; anything unreadable (a cut link, an old format) is no progress."""
    if not code:
        return _empty()
    try:
        raw = json.loads(zlib.decompress(base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))))
        done = [str(d) for d in raw.get("d", [])]
        answers = {str(k): [int(i) for i in v] for k, v in raw.get("a", {}).items() if isinstance(v, list)}
        return {"done": done, "answers": answers}
    except (ValueError, TypeError, AttributeError, zlib.error):
        return _empty()


def merge(a: dict, b: dict) -> dict:
    """Progress from two places (this browser and a code): everything done in either, and b's answers
    where both answered."""
    return {"done": list(dict.fromkeys(a["done"] + b["done"])), "answers": {**a["answers"], **b["answers"]}}


def state() -> dict:
    return st.session_state.setdefault("_progress", _empty())


def load() -> None:
    """Once a session: the progress this browser kept, and a code the link carries."""
    if st.session_state.get("_progress_loaded"):
        return
    st.session_state["_progress_loaded"] = True
    kept = decode(st.context.cookies.get(COOKIE)) if st.context.cookies else _empty()
    carried = decode(st.query_params.get(PARAM))
    st.session_state["_progress"] = merge(merge(state(), kept), carried)
    st.session_state["_progress_saved"] = encode(kept)


def save() -> None:
    """Write the progress into this browser's cookie when it changed (a script element, run once)."""
    code = encode(state())
    if code == st.session_state.get("_progress_saved"):
        return
    st.session_state["_progress_saved"] = code
    st.html(f"<script>document.cookie = '{COOKIE}={code}; max-age={KEEP_DAYS * 86400}; path=/; SameSite=Lax';</script>",
            unsafe_allow_javascript=True)


def code() -> str:
    return encode(state())


def done(page: str) -> bool:
    return page in state()["done"]


def complete(page: str) -> None:
    if page not in state()["done"]:
        state()["done"].append(page)


def tried(question: str) -> list[int]:
    """The options a learner chose for a question, in order (indices)."""
    return state()["answers"].get(question, [])


def answer(question: str, option: int) -> None:
    answers = state()["answers"]
    chosen = answers.pop(question, [])  # re-inserted last: the newest answers survive the trim
    if not chosen or chosen[-1] != option:
        chosen = chosen + [option]
    answers[question] = chosen[-6:]
    while len(answers) > MAX_ANSWERS:
        answers.pop(next(iter(answers)))
