"""Mixed Models Lab: the entry point. Navigation over the lessons, grouped as a course."""
import streamlit as st

import ui

st.set_page_config(page_title="Mixed Models Lab", page_icon=":material/monitoring:", layout="wide")

PAGES = {
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "The core lessons": [st.Page(path, title=title, icon=icon) for path, title, icon, _ in ui.LESSONS],
}

st.navigation(PAGES).run()
