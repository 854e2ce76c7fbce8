"""Screenshots of a pack's maps for the README: the borough map on a desktop and a ward map on a phone.

    make demo                                   # writes out/demo
    .venv/bin/python docs/img/screenshots.py out/demo

Opens the pages in headless Chromium (the one the browser tests use) with no network, and writes
``docs/img/borough-map-desktop.png`` (1400 x 900) and ``docs/img/ward-map-phone.png`` (390 x 844 at twice
the pixel density) of the ward that owns the top-ranked tasking item.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
from playwright.sync_api import sync_playwright

from hotspots.render.filenames import ward_map_href

HERE = Path(__file__).resolve().parent


def main(pack: Path) -> None:
    items = pd.read_csv(pack / "tasking.csv", dtype={"ward_code": str})
    code = items.loc[items["rank"] == 1, "ward_code"].iat[0]
    ward = pack / ward_map_href(code)
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        for path, out, ctx in (
            (pack / "map.html", "borough-map-desktop.png", {"viewport": {"width": 1400, "height": 900}}),
            (
                ward,
                "ward-map-phone.png",
                {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2},
            ),
        ):
            page = browser.new_context(**ctx).new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-ready='1']")
            page.wait_for_timeout(500)
            page.screenshot(path=str(HERE / out))
            print("wrote", HERE / out)
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo"))
