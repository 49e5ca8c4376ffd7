"""Mixed Models Lab: the entry point. Navigation over the lessons, grouped as a course."""
from pathlib import Path

import streamlit as st

import lab

# The favicon is a file the app serves itself (scripts/make_favicon.py): a Material icon as page_icon
# is fetched by the browser from Google's font CDN, and nothing may leave the machine.
st.set_page_config(page_title="Mixed Models Lab", page_icon=str(Path(__file__).parent / "lab" / "assets" / "favicon.png"),
                   layout="wide")

# Each page gets a URL of its own, hyphenated: a first request for /random_intercepts would match the
# file pages/random_intercepts.py, and Streamlit would run that file alone (its older, file-based page
# discovery) instead of this script's navigation.
pages = [st.Page(path, title=title, icon=icon, url_path=lab.url_path(path)) for path, title, icon, _ in lab.LESSONS]
PAGES = {
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
              st.Page(lab.TUTORIAL[0], title=lab.TUTORIAL[1], icon=lab.TUTORIAL[2], url_path=lab.url_path(lab.TUTORIAL[0]))],
    "The core lessons": pages[: lab.CORE],
    "Going further": pages[lab.CORE :],
}

st.navigation(PAGES).run()
