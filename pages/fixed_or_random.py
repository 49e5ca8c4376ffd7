"""Lesson 1: fixed or random? Classify the factors of real designs, and see the reasoning."""
import streamlit as st

import lab
from mmcore.lessons.quiz import FIXED_OR_RANDOM

lab.page_start()
st.title("Fixed or random?")
st.markdown(
    "**The question.** A factor's effects are **fixed** when its levels are the ones we care about and would "
    "choose again (these fertilisers, these treatments). They are **random** when the levels are a sample from a "
    "larger population (these dogs, these blocks of land), and we want to describe that population: how much do "
    "levels vary? A random factor also makes the measurements of one level correlated."
)
lab.steps([
    "Read each design and decide, for the factor named, whether its effects are fixed or random.",
    "Read the reasoning that appears: it asks *would another study use the same levels?*",
    "Notice that one design can have both: fixed treatments in random blocks.",
])
right = 0
current = None
for i, (design, factor, answer, why) in enumerate(FIXED_OR_RANDOM):
    if design != current:
        st.subheader(design)
        current = design
    choice = st.radio(f"**{factor}**: fixed or random?", ["fixed", "random"], index=None, horizontal=True,
                      key=f"for_{i}")
    if choice == answer:
        right += 1
        st.success(f"Right: {answer}. {why}")
    elif choice is not None:
        st.error(f"Not quite: {answer}. {why}")
st.markdown(f"**{right} of {len(FIXED_OR_RANDOM)}** right.")
if right == len(FIXED_OR_RANDOM):
    st.session_state.setdefault("completed", {})["fixed_or_random"] = True
    st.caption("Lesson completed in this session.")
lab.explain(
    "**In lme4.** Fixed effects go in the formula as they are, random effects in parentheses with a bar: "
    "`yield ~ N * P + (1 | block)` fits fixed fertiliser effects and a random block intercept; "
    "`response ~ week + (week | dog)` lets each dog have its own start and its own rate.", "In lme4")
lab.page_end()
