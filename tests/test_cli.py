"""The command line as a user meets it: exit codes, one-line errors, JSON on stdout, files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import hpcpredict


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "hpcpredict", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_help_lists_every_stage_and_version_prints():
    out = run("--help")
    assert out.returncode == 0
    for verb in ("ingest", "features", "train", "evaluate", "predict", "explain", "report", "serve", "demo"):
        assert verb in out.stdout
    assert run("--version").stdout.strip() == f"hpcpredict {hpcpredict.__version__}"


def test_missing_file_is_one_line_exit_2_and_debug_shows_the_traceback(tmp_path):
    out = run("ingest", "swf", tmp_path / "missing.swf", "-o", tmp_path / "j.parquet")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing.swf'}: no such file"]
    assert "Traceback" not in out.stderr
    debug = run("--debug", "ingest", "swf", tmp_path / "missing.swf", "-o", tmp_path / "j.parquet")
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_wrong_field_count_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.swf"
    bad.write_text("; comment\n1 2 3\n")
    out = run("ingest", "swf", bad, "-o", tmp_path / "j.parquet")
    assert out.returncode == 2
    assert f"{bad}:2:" in out.stderr and "expected 18 fields, found 3" in out.stderr
    assert not (tmp_path / "j.parquet").exists()


def test_the_whole_slice_from_the_command_line(tmp_path, kth_slice):
    jobs, feats, model = tmp_path / "jobs.parquet", tmp_path / "features.parquet", tmp_path / "model"
    assert run("ingest", "swf", kth_slice, "-o", jobs).returncode == 0
    assert run("features", "--jobs", jobs, "--horizon", "submit", "-o", feats).returncode == 0
    assert run("train", feats, "-o", model).returncode == 0
    evaluation = run("evaluate", model, feats, "--json")
    assert evaluation.returncode == 0
    doc = json.loads(evaluation.stdout)
    assert {"model", "requested_limit", "user_last2", "alea_last2_max", "user_median"} <= set(doc["metrics"])
    predicted = run("predict", model, feats, "-o", tmp_path / "p.parquet", "--json")
    assert len(json.loads(predicted.stdout)) == 3000
    explained = run("explain", model, feats, "-o", tmp_path / "explain", "--top", "5", "--json")
    assert [f["rank"] for f in json.loads(explained.stdout)["features"]] == [1, 2, 3, 4, 5]
    assert (tmp_path / "explain" / "beeswarm.png").exists()
    assert json.loads(explained.stdout) == json.loads((tmp_path / "explain" / "ranking.json").read_text())  # one object, one JSON


def test_a_model_refuses_a_table_of_another_horizon(tmp_path, pipeline):
    import pandas as pd

    from hpcpredict._atomic import read_parquet_metadata, write_parquet

    meta = read_parquet_metadata(pipeline["features"])
    other = tmp_path / "other.parquet"
    write_parquet(pd.read_parquet(pipeline["features"]), other, metadata={**meta, "horizon": "start"})
    out = run("predict", pipeline["model"], other)
    assert out.returncode == 2
    assert "trained for horizon 'submit'" in out.stderr


def test_demo_on_the_real_trace_prints_the_table_and_writes_its_outputs(tmp_path):
    out = run("demo", "--dataset", "kth-sp2", "-o", tmp_path / "demo")
    assert out.returncode == 0, out.stderr
    assert "requested limit" in out.stdout and "Top predictors" in out.stdout
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    metrics = summary["evaluation"]["metrics"]
    assert metrics["model"]["mae"] < metrics["requested_limit"]["mae"]
    assert metrics["model"]["mae"] < metrics["user_last2"]["mae"]
    for name in ("jobs.parquet", "features.parquet", "predictions.parquet", "evaluation.json", "explain/beeswarm.png", "model/model.ubj"):
        assert (tmp_path / "demo" / name).exists()
