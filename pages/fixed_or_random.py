"""Lesson 1: fixed or random? Classify the factors of real designs, and see the reasoning."""
import streamlit as st

import lab
from mmcore.lessons import quiz

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
questions = quiz.fixed_or_random()
right = lab.quiz("fixed_or_random", questions, title=None, heading=lambda q: q.group)
st.markdown(f"**{right} of {len(questions)}** right.")
lab.explain(
    "**In lme4.** Fixed effects go in the formula as they are, random effects in parentheses with a bar: "
    "`yield ~ N * P + (1 | block)` fits fixed fertiliser effects and a random block intercept; "
    "`response ~ week + (week | dog)` lets each dog have its own start and its own rate.", "In lme4")
lab.page_end()
