"""Open an hpcpredict HTML report in headless Chromium and save a screenshot, to see that it renders.

Usage::

    python benchmarks/screenshot_report.py report.html -o report.png [--height 6000]
    python benchmarks/screenshot_report.py --model model/ --features features.parquet -o report.png

The second form writes the report first (``report.html`` beside the PNG). Chromium comes from the
OS packages (Debian: ``apt-get install chromium``); it runs with no network, no sandbox (root in a
container) and a throw-away profile.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of a Chromium-family browser on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 2000, timeout: float = 120) -> Path:
    """Render ``page`` (a local HTML file) to ``png`` with headless Chromium; return ``png``."""
    browser = find_browser()
    if browser is None:
        raise RuntimeError(f"no Chromium found on PATH (looked for {', '.join(BROWSERS)})")
    png = Path(png).resolve()
    with tempfile.TemporaryDirectory(prefix="hpcpredict-chromium-") as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            Path(page).resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or not png.is_file():
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", type=Path, help="report HTML file")
    parser.add_argument("--model", type=Path, help="model bundle: write the report first")
    parser.add_argument("--features", type=Path, help="feature table for --model")
    parser.add_argument("-o", "--output", type=Path, default=Path("report.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args(argv)
    page = args.page
    if args.model is not None:
        from hpcpredict.report import report

        page = report(args.model, args.features, args.output.with_suffix(".html"))
    if page is None:
        parser.error("give a report HTML file, or --model and --features")
    print(screenshot(page, args.output, width=args.width, height=args.height))
    return 0


if __name__ == "__main__":
    sys.exit(main())
