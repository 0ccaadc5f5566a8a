"""Make docs/viewer.png, the README's picture of the viewer: a real 20-turn episode in `awm view`, in headless Chromium.

    python docs/viewer_screenshot.py      # needs Debian's chromium (apt-get install chromium)
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_viewer import CHROMIUM_FLAGS, AwmView, real_episodes  # noqa: E402

OUT = Path(__file__).resolve().parent / "viewer.png"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="awm-screenshot-") as tmp:
        episode, _ = real_episodes(Path(tmp))
        os.chdir(tmp)  # the viewer shows the folder as given: "agent", not a temporary path
        viewer = AwmView(Path("agent"))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1200, "height": 1500}, device_scale_factor=1)
                page.goto(f"{viewer.url}/ui/runs/0/{episode.relative_to(Path(tmp) / 'agent')}")
                shot = page.screenshot(full_page=True)
                browser.close()
        finally:
            viewer.stop()
    image = Image.open(io.BytesIO(shot))
    top = image.crop((0, 0, 1200, 1280)).convert("RGB").quantize(colors=64)
    top.save(OUT, optimize=True)
    print(f"{OUT}: {OUT.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
