"""The course as a path: the lessons in the order the lecture notes teach them, each with its goal,
which are done (all their checks of understanding answered right) and which comes next. Progress is
kept in this browser, and as a code that carries it to another one."""
import streamlit as st

import lab
from lab import progress

lab.page_start()
st.title("The course, step by step")
st.markdown("Work through the lessons in order. Each has a guided path (what to do, what to notice; in the core "
            "lessons a step at the top of each part) and a few questions about the data on screen; a lesson is done "
            "when all its questions are answered right.")
up = lab.next_up()
done_count = sum(progress.done(lab.course.name(path)) for path, *_ in lab.LESSONS)
st.progress(done_count / len(lab.LESSONS), text=f"{done_count} of {len(lab.LESSONS)} lessons done")
if up is not None:
    lab.page_link(up[0], f"Continue with {up[1]}", ":material/play_arrow:")
for i, (path, title, icon, goal) in enumerate(lab.LESSONS):
    if i == lab.CORE:
        st.markdown("**Going further**")
    mark, status = ((":material/check_circle:", "done") if progress.done(lab.course.name(path))
                    else (":material/arrow_forward:", "next") if up and up[0] == path else (icon, ""))
    lab.lesson_link(path, title, mark, goal, status)
if up is None:
    st.success("Every lesson is done. Well done!")
with st.expander("Your progress on another browser"):
    st.markdown("Progress is kept in this browser: a reload or a visit tomorrow finds it, no account needed. To "
                "continue elsewhere, open this link there (it carries your progress code):")
    lab.code_text(f"{lab.links.view_link().split('?')[0]}?{progress.PARAM}={progress.code()}", wrap=True)
lab.page_end()
