"""The course: the lessons in order with their goals, their URLs, and links between them."""
from __future__ import annotations

import streamlit as st

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
    ("pages/binary_outcomes.py", "9 Binary and count outcomes", ":material/toggle_on:",
     "Generalized mixed models: odds ratios, subjects' curves against the average, Laplace, quadrature, PQL"),
    ("pages/correlated_errors.py", "10 Correlated errors", ":material/timeline:",
     "Growth over time: AR(1) errors within a group, what ignoring them does, the random-walk view"),
    ("pages/under_the_hood.py", "11 Under the hood", ":material/build:",
     "Formulas in words, and X, Z, Lambda, V: the GLS and BLUP formulas checked against the fit"),
    ("pages/your_data.py", "Your own data", ":material/upload_file:",
     "Upload a CSV, build a model from menus, see every view of it"),
]
TUTORIAL = ("pages/tutorial.py", "The course, step by step", ":material/school:")


def url_path(path: str) -> str:
    """A page's URL: its file name with hyphens (pages/random_intercepts.py -> random-intercepts)."""
    return path.split("/")[-1].removesuffix(".py").replace("_", "-")


def page_link(path: str, label: str, icon: str | None = None) -> None:
    """st.page_link inside the app; a plain link when a page runs on its own (AppTest)."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.page_link(path, label=label, icon=icon)
    except StreamlitAPIException:
        st.markdown(f"- [{label}](/{url_path(path)})")
