"""Home: what the app teaches, one live figure, and the way into each lesson."""
import streamlit as st

import lab
from mmcore import figures

lab.page_start()
st.title("Mixed Models Lab")
st.markdown(
    "Learn **linear mixed models** by moving sliders: random intercepts, random slopes, shrinkage, "
    "ML against REML, the intraclass correlation. Every number here is computed by this app's own "
    "engine and equals what R's **lme4** prints for the same model."
)
left, right = st.columns([3, 2])
with left:
    spec = lab.DataSpec("sleepstudy")
    formula = "Reaction ~ Days + (Days | Subject)"
    lab.show(lab.get_figure(figures.fig_lines, spec, formula, scale=lab.scale(),
                          options=(("show", ("partial", "population")),)), key="home_lines")
    st.caption("Sleep-deprived drivers: reaction time over 10 days, one line per driver (the mixed model) "
               "and the population line in black. Each driver has their own start and their own slope.")
with right:
    st.subheader("The lessons")
    for path, title, icon, goal in lab.LESSONS:
        lab.lesson_link(path, title, icon, goal)
    st.markdown(
        "**How to use it.** Pick data in the sidebar, or *simulate from a truth you choose* and see whether the "
        "model finds it again. Each lesson shows the model as an equation, the fit as lme4 prints it, "
        "what to notice, and the same model in R and Python code."
    )
lab.page_end()
