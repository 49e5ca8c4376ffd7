"""Upload benchmark: a 200,000-row CSV with 5,000 groups, uploaded in headless Chromium to the
running app; seconds from choosing the file until the fit's summary and every chart are drawn.

    python bench/upload.py [--rows 200000] [--groups 5000]

What the page does at this size: it draws one view at a time (lines first); the lines view draws
the 6 groups chosen (of 5,000) and thins points beyond 5,000; residual plots show a random 5,000
points; Q-Q plots show 2,000 quantiles; the caterpillar becomes a ranked band without labels; the
shrinkage axis is skipped (> 60 groups).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import mmcore  # noqa: E402
from lab.server import CHROMIUM, CHROMIUM_ARGS, running  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--groups", type=int, default=5_000)
    args = ap.parse_args()
    data = mmcore.simulate_slopes(n_groups=args.groups, n_per_group=args.rows // args.groups, seed=1)
    path = Path(tempfile.mkdtemp()) / "big.csv"
    data.to_csv(path, index=False)
    from playwright.sync_api import sync_playwright

    with running() as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(url + "/your-data")
        page.get_by_text("Upload a CSV file, paste CSV text").wait_for(timeout=60_000)
        t0 = time.perf_counter()
        page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(path))
        page.get_by_text("Linear mixed model fit by REML").wait_for(timeout=120_000)
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1"
                               " && !document.querySelector('[data-testid=stStatusWidget]')", timeout=120_000)
        seconds = time.perf_counter() - t0
        page.screenshot(path=str(path.parent / "upload.png"))
        errors = page.locator("[data-testid=stException]").count()
        browser.close()
    print(f"{args.rows:,}-row CSV ({path.stat().st_size / 2**20:.1f} MB), {args.groups:,} groups: read, fitted "
          f"(y ~ 1 + (1 | group)) and drawn in {seconds:.2f} s (target < 5 s); exceptions on the page: {errors}")


if __name__ == "__main__":
    main()
