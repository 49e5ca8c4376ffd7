"""Checks of understanding: a lesson's questions (built in mmcore.lessons.quiz) with feedback. A wrong
answer asks for another try before the answer is shown; answers are remembered (lab.progress), so a
revisited lesson shows them again; a lesson is completed when all its questions are answered right."""
from __future__ import annotations

import zlib

import streamlit as st

from lab import progress


def question_id(q) -> str:
    """The options depend on the data on screen: a new set of options is a new question."""
    return f"{q.key}.{zlib.crc32('|'.join(q.options).encode()):08x}"


def _check(q) -> bool:
    """One question: its options, and feedback on the answer chosen. True when answered right."""
    qid = question_id(q)
    before = progress.tried(qid)
    remembered = before[-1] if before and before[-1] < len(q.options) else None
    choice = st.radio(q.text, q.options, index=remembered, key=f"quiz_{qid}",
                      horizontal=max(map(len, q.options)) <= 12)
    if choice is None:
        return False
    progress.answer(qid, q.options.index(choice))
    if choice == q.answer:
        st.success(f"Right. {q.why}")
        return True
    wrong = {q.options[i] for i in progress.tried(qid) if i < len(q.options) and q.options[i] != q.answer}
    if qid in st.session_state.get("_revealed", ()) or len(wrong) >= 2:
        st.error(f"Not quite: the answer is **{q.answer}**. {q.why}")
    else:  # one wrong answer: another try first
        st.warning("Not quite. Think again and choose another answer.")
        st.button("Show me the answer", key=f"reveal_{qid}", type="tertiary", on_click=_reveal, args=(qid,))
    return False


def _reveal(qid: str) -> None:
    st.session_state.setdefault("_revealed", set()).add(qid)


def quiz(page: str, questions, title: str | None = "Check your understanding", heading=None) -> int:
    """Checks of understanding; the lesson is completed when all are answered right. heading(q): a
    subheader shown when it changes (questions grouped by design). Returns the number right."""
    if title:
        st.subheader(title)
    right, shown = 0, None
    for q in questions:
        if heading is not None and heading(q) != shown:
            shown = heading(q)
            st.subheader(shown)
        right += _check(q)
    if right == len(questions):
        progress.complete(page)
    if progress.done(page):
        st.caption("Lesson completed: it is marked on the course page.")
    return right
