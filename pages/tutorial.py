"""The course: the lessons in the order the lecture notes teach them, each with its goal and
whether it was completed in this session (all its checks of understanding answered right)."""
import streamlit as st

import lab

lab.page_start()
st.title("The course, step by step")
st.markdown("Work through the lessons in order. Each has a guided path (what to do, what to notice) and a few "
            "questions about the data on screen; a lesson is completed when all its questions are answered right.")
done = st.session_state.get("completed", {})
for path, title, icon, goal in lab.LESSONS[: lab.CORE + 1]:
    name = path.split("/")[-1].removesuffix(".py")
    c1, c2 = st.columns([5, 1])
    with c1:
        lab.page_link(path, f"{title}: {goal}", icon)
    c2.markdown("**completed**" if done.get(name) else "not yet")
st.progress(sum(bool(done.get(p.split("/")[-1].removesuffix(".py"))) for p, *_ in lab.LESSONS[: lab.CORE + 1])
            / (lab.CORE + 1), text="progress in this session")
lab.page_end()
