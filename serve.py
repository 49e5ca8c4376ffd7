"""Start the app: the same as `streamlit run app.py [options]`, with one Streamlit relic switched off.

Streamlit still supports its older, file-based multipage apps: while no script has called
st.navigation, a `pages/` folder beside the main script makes the first request of a fresh server
run through that older mechanism. A first visitor who opens a deep link (a shared link to a lesson)
then gets that page run on its own, or a "page not found" dialog, instead of app.py's navigation.
This project's pages live in `pages/` but are navigated by app.py (st.navigation), so the flag is
set before the server starts. Pinned streamlit==1.67.0; tests/test_browser.py opens every page by
its link first and checks that the app's navigation is there.
"""
import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

PagesManager.uses_pages_directory = False

if __name__ == "__main__":
    sys.argv = ["streamlit", "run", "app.py", *sys.argv[1:]]
    sys.exit(cli.main())
