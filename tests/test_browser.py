"""The real thing: the app server, opened in headless Chromium (Debian's, no browser download).
Screenshots go to tests/artifacts/ (look at them)."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
PAGES = {"home": ("/", 1), "random_intercepts": ("/random_intercepts", 5), "random_slopes": ("/random_slopes", 3),
         "icc": ("/icc", 1), "shrinkage": ("/shrinkage", 2), "ml_vs_reml": ("/ml_vs_reml", 2),
         "model_comparison": ("/model_comparison", 0), "under_the_hood": ("/under_the_hood", 2)}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium for the browser tests (make test installs it)")
    pytest.skip("chromium is not installed (sudo apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the streamlit server did not start: " + proc.stdout.read().decode()[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def open_page(browser, url: str, height: int = 4200):
    page = browser.new_page(viewport={"width": 1400, "height": height})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("[data-testid=stMainBlockContainer] h1", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    page.wait_for_timeout(1500)
    return page, errors


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_plotly_charts_without_exceptions(server, browser, name):
    path, min_charts = PAGES[name]
    page, errors = open_page(browser, server + path)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.locator(".js-plotly-plot").count() >= min_charts
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator(".main-svg").count() >= min_charts  # plotly really drew
    assert not errors, errors
    page.close()


def test_moving_a_widget_in_the_browser_reruns_the_page(server, browser):
    page, errors = open_page(browser, server + "/random_slopes")
    page.get_by_text("intercept only: (1 | Subject)").click()
    page.get_by_text("This model has no random slope").wait_for(timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "random_slopes_intercept_only.png"), full_page=True)
    page.close()
