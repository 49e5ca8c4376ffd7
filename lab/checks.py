"""Checks of understanding: a lesson's questions (built in mmcore.lessons.quiz) with feedback, and
which lessons this session has completed."""
from __future__ import annotations

import zlib

import streamlit as st


def quiz(page: str, questions) -> None:
    """Checks of understanding with immediate feedback; a lesson is completed when all are right."""
    st.subheader("Check your understanding")
    right = 0
    for q in questions:
        # the options depend on the data on screen: a new set of options is a new question
        choice = st.radio(q.text, q.options, index=None, key=f"quiz_{q.key}_{zlib.crc32('|'.join(q.options).encode())}")
        if choice is None:
            continue
        if choice == q.answer:
            right += 1
            st.success(f"Right. {q.why}")
        else:
            st.error(f"Not quite: the answer is **{q.answer}**. {q.why}")
    done = st.session_state.setdefault("completed", {})
    if right == len(questions):
        done[page] = True
    if done.get(page):
        st.caption("Lesson completed in this session.")
