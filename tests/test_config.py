"""Settings for a public classroom server, and the house rules that keep user text from running."""
import re
import tomllib

from mmcore.data.upload import MAX_BYTES
from tests.conftest import ROOT

CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
SOURCES = [ROOT / "app.py", *(ROOT / "lab").rglob("*.py"), *(ROOT / "pages").glob("*.py"), *(ROOT / "mmcore").rglob("*.py")]


def test_upload_limit_matches_the_apps_own_check():
    assert CONFIG["server"]["maxUploadSize"] == 50 == MAX_BYTES // 2**20


def test_xsrf_on_and_no_error_details_for_students():
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["client"]["showErrorDetails"] == "none"
    assert CONFIG["browser"]["gatherUsageStats"] is False


def test_no_raw_html_and_nothing_evaluated():
    for path in SOURCES:
        text = path.read_text()
        assert "unsafe_allow_html" not in text, path
        assert not re.search(r"(?<![\w.])(eval|exec)\(", text), path


def test_mmcore_never_imports_streamlit():
    for path in (ROOT / "mmcore").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+streamlit", path.read_text(), re.M), path
