"""``hpcpredict schedule`` from the command line: tables, JSON, plot, model predictor, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run(*args):
    env = {**os.environ, "COLUMNS": "200"}  # rich wraps tables to the terminal's width
    return subprocess.run([sys.executable, "-m", "hpcpredict", *map(str, args)], capture_output=True, text=True, env=env)


def test_schedule_json_compares_every_predictor_and_writes_the_plot(pipeline, tmp_path):
    plot = tmp_path / "schedule.png"
    out = run("schedule", pipeline["jobs"], "--nodes", 100, "--predictor", "limit", "--predictor", "last2", "--predictor", "alea",
              "--predictor", f"model:{pipeline['model']}", "--predictor", "oracle", "--json", "--plot", plot)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [r["predictor"] for r in doc["results"]] == ["limit", "last2", "alea", f"model:{pipeline['model']}", "oracle"]
    assert doc["machine_size"] == 100 and doc["machine_source"] == "--nodes"
    # The model saw the earliest jobs in training: every predictor is scored on the later ones only.
    assert doc["measured_from"] is not None and 0 < doc["measured_jobs"] < doc["jobs"]
    assert {r["jobs"] for r in doc["results"]} == {doc["measured_jobs"]}
    assert doc["results"][0]["delayed_by_underestimate"] == 0
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_schedule_table_on_an_swf_trace(kth_slice):
    out = run("schedule", kth_slice, "--predictor", "last2", "--policy", "conservative", "--starts", 200)
    assert out.returncode == 0, out.stderr
    assert "conservative backfilling replay" in out.stdout and "recorded in the trace" in out.stdout
    # The limit-based planner (squeue --start) is always scored beside the predictor.
    assert "start times predicted at submission, 200 jobs" in out.stdout and "│ limit " in out.stdout and "│ last2 " in out.stdout
    assert "on 100 processors (SWF header MaxProcs)" in out.stderr


def test_schedule_errors_are_one_line(tmp_path, kth_slice):
    missing = run("schedule", tmp_path / "none.swf")
    assert missing.returncode == 2 and missing.stderr.strip() == f"error: {tmp_path / 'none.swf'}: no such file"
    bad = run("schedule", kth_slice, "--policy", "fifo")
    assert bad.returncode == 2 and "'policy' parameter must be one of easy, conservative" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_schedule_plot_never_overwrites_a_foreign_file(tmp_path, kth_slice):
    mine = tmp_path / "notes.png"
    mine.write_text("not hpcpredict's")
    out = run("schedule", kth_slice, "--plot", mine)
    assert out.returncode == 2 and str(mine) in out.stderr
    assert mine.read_text() == "not hpcpredict's"
