"""Mixed Models Lab: the entry point. Navigation over the lessons, grouped as a course."""
import streamlit as st

import ui

st.set_page_config(page_title="Mixed Models Lab", page_icon=":material/monitoring:", layout="wide")

# Each page gets a URL of its own, hyphenated: a first request for /random_intercepts would match the
# file pages/random_intercepts.py, and Streamlit would run that file alone (its older, file-based page
# discovery) instead of this script's navigation.
pages = [st.Page(path, title=title, icon=icon, url_path=ui.url_path(path)) for path, title, icon, _ in ui.LESSONS]
PAGES = {
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
              st.Page(ui.TUTORIAL[0], title=ui.TUTORIAL[1], icon=ui.TUTORIAL[2], url_path=ui.url_path(ui.TUTORIAL[0]))],
    "The core lessons": pages[: ui.CORE],
    "Going further": pages[ui.CORE :],
}

st.navigation(PAGES).run()
