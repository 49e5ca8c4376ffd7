"""Mixed Models Lab: the entry point. Navigation over the lessons, grouped as a course."""
import streamlit as st

import ui

st.set_page_config(page_title="Mixed Models Lab", page_icon=":material/monitoring:", layout="wide")

pages = [st.Page(path, title=title, icon=icon) for path, title, icon, _ in ui.LESSONS]
PAGES = {
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "The core lessons": pages[: ui.CORE],
    "Going further": pages[ui.CORE :],
}

st.navigation(PAGES).run()
