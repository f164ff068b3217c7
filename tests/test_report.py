"""The HTML report as a reader gets it: one file, nothing fetched, the evaluation table, the plots."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hpcpredict as hp

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def report_file(pipeline, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "hpcpredict", "report", pipeline["model"], pipeline["features"], "-o", out, "--top", "5", "--interactions", "40"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "self-contained" in done.stderr
    return out


def test_report_is_one_self_contained_file_with_the_evaluation_table(report_file, pipeline):
    text = report_file.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, flags=re.I)
    assert "<link" not in text and "<script" not in text
    sources = re.findall(r"""<img[^>]*\bsrc="([^"]*)\"""", text)
    assert len(sources) >= 6 and all(s.startswith("data:image/png;base64,") for s in sources)
    evaluation = hp.api.evaluate(pipeline["model"], pipeline["features"])
    assert "How good are the predictions?" in text and "user&#x27;s last two runs" in text
    assert f"{evaluation.metrics.loc['model', 'mae']:,.0f}" in text
    assert f"{evaluation.metrics.loc['requested_limit', 'mae']:,.0f}" in text
    for heading in ("What drives the predictions?", "How sure is this ranking?", "Example jobs", "What the features mean"):
        assert heading in text
    assert "requested time limit" in text  # feature descriptions from the registry


@pytest.mark.skipif(not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")), reason="no Chromium installed")
def test_report_renders_in_headless_chromium(report_file, tmp_path):
    import numpy as np
    from PIL import Image

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from screenshot_report import screenshot
    finally:
        sys.path.pop(0)
    png = screenshot(report_file, tmp_path / "report.png", width=1280, height=1600)
    image = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert image.shape == (1600, 1280)
    assert image.std() > 10  # text, tables and plots, not a blank page
    assert (image < 100).mean() > 0.005  # dark pixels: the text was drawn
