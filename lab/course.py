"""The course: the lessons in order with their goals, their URLs, links between them (the next
lesson at the end of each), and the course as a path with what is done and what comes next."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lab import progress

# The course, in the order the lecture notes teach it: (file, title, icon, one-line goal).
# The first six are the core lessons; the rest go further.
CORE = 6
LESSONS = [
    ("pages/fixed_or_random.py", "1 Fixed or random?", ":material/help:",
     "Tell fixed from random effects in real designs, and say why"),
    ("pages/random_intercepts.py", "2 Random intercepts", ":material/stacked_line_chart:",
     "Groups that start at different levels: y = X beta + Z b + e, pooling, BLUPs"),
    ("pages/icc.py", "3 Intraclass correlation", ":material/pie_chart:",
     "How much of the variance lies between groups, with an honest interval and test"),
    ("pages/random_slopes.py", "4 Random slopes", ":material/show_chart:",
     "Groups that change at different rates: correlated and uncorrelated slopes"),
    ("pages/shrinkage.py", "5 Shrinkage", ":material/compress:",
     "Partial pooling: why each group's estimate leans toward the population"),
    ("pages/ml_vs_reml.py", "6 ML vs REML", ":material/balance:",
     "Two criteria, two answers: why REML for variances and ML for fixed-effect tests"),
    ("pages/model_comparison.py", "7 Model comparison", ":material/compare_arrows:",
     "Likelihood-ratio tests, the parametric bootstrap, the boundary, blocks fixed or random"),
    ("pages/tests_and_intervals.py", "8 Tests and intervals", ":material/rule:",
     "Where the p-values are: df for t and F tests, and intervals that a variance near zero can trust"),
    ("pages/nested_crossed.py", "9 Nested and crossed", ":material/account_tree:",
     "Which levels meet which: nested and crossed factors, the variance at each level, reused labels"),
    ("pages/planning.py", "10 Planning a study", ":material/calculate:",
     "How many groups, how many in each: SE, coverage, power and singular fits by simulation"),
    ("pages/binary_outcomes.py", "11 Binary and count outcomes", ":material/toggle_on:",
     "Generalized mixed models: odds ratios, subjects' curves against the average, Laplace, quadrature, PQL"),
    ("pages/correlated_errors.py", "12 Correlated errors", ":material/timeline:",
     "Growth over time: AR(1) errors within a group, what ignoring them does, the random-walk view"),
    ("pages/under_the_hood.py", "13 Under the hood", ":material/build:",
     "Formulas in words, and X, Z, Lambda, V: the GLS and BLUP formulas checked against the fit"),
    ("pages/your_data.py", "Your own data", ":material/upload_file:",
     "Upload a CSV, build a model from menus, see every view of it"),
]
TUTORIAL = ("pages/tutorial.py", "The course, step by step", ":material/school:")
# The lesson on generalized models (binary and count responses):
# pages that meet such a response link to it (lab.widgets.response_advice) once it is in LESSONS.
GLMM_LESSON = "pages/binary_outcomes.py"


def url_path(path: str) -> str:
    """A page's URL: its file name with hyphens (pages/random_intercepts.py -> random-intercepts)."""
    return path.split("/")[-1].removesuffix(".py").replace("_", "-")


def name(path: str) -> str:
    """A lesson's name in the learner's progress: its file's name (pages/icc.py -> icc)."""
    return path.split("/")[-1].removesuffix(".py")


def page_link(path: str, label: str, icon: str | None = None) -> None:
    """st.page_link inside the app; a plain link when a page runs on its own (AppTest)."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.page_link(path, label=label, icon=icon)
    except StreamlitAPIException:
        st.markdown(f"- [{label}](/{url_path(path)})")


def lesson_link(path: str, title: str, icon: str, goal: str, status: str = "") -> None:
    """A lesson: its link (the title, which fits on one line) and its goal below it in full."""
    page_link(path, title + (f" ({status})" if status else ""), icon)
    st.caption(goal)


def current_page() -> str | None:
    """The file of the page running now (pages/icc.py), under the app's navigation or alone."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        info = ctx.pages_manager.get_pages().get(ctx.pages_manager.current_page_script_hash) if ctx else None
        script = (info or {}).get("script_path") or (ctx.main_script_path if ctx else None)
    except AttributeError:  # another Streamlit's internals: no next-lesson link rather than an error
        return None
    return f"pages/{Path(script).name}" if script else None


def next_up() -> tuple | None:
    """The first lesson not completed yet, in course order (None when all are)."""
    return next((lesson for lesson in LESSONS if not progress.done(name(lesson[0]))), None)


def next_lesson() -> None:
    """At the end of every lesson: the way on to the next one (and back to the course after the last)."""
    here = current_page()
    paths = [lesson[0] for lesson in LESSONS]
    if here not in paths:
        return
    st.divider()
    i = paths.index(here)
    if i + 1 < len(LESSONS):
        path, title, icon, goal = LESSONS[i + 1]
        page_link(path, f"Next lesson: {title}", ":material/arrow_forward:")
        st.caption(goal)
    else:
        page_link(TUTORIAL[0], "Back to the course", TUTORIAL[2])


def glmm_lesson() -> tuple | None:
    return next((lesson for lesson in LESSONS if lesson[0] == GLMM_LESSON), None)
