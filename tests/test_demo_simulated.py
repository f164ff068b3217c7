"""The built-in demo on a fresh simulated dump: the planted causes are found, near the noise floor.

The simulator plants the causes of slowdown of the control jobs (network congestion in the
groups a job spans, file-system contention, placement spread) and records them in truth.json;
the pipeline, fed only what a site would hand over, must find them.
"""

import json

import pandas as pd
import pytest

import hpcpredict as hp
from hpcpredict.queue import read_queue

#: Families that carry each planted cause (hpcpredict's feature families).
PLANTED = {"network": ("placement_net", "system_net"), "filesystem": ("system_fs",), "placement": ("placement",)}
NOT_PLANTED = ("system_cpu", "calendar")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, hp.demo(out, preset="tiny", seed=0)


def _family_means(out, apps):
    """Mean |SHAP summed within a family| over the held-out control jobs of ``apps``."""
    shap = pd.read_parquet(out / "explain" / "shap_values.parquet")
    jobs = pd.read_parquet(out / "features_start.parquet", columns=["job_id", "app"])
    rows = shap.merge(jobs, on="job_id")
    rows = rows[rows["app"].isin(apps)]
    return rows.groupby(["job_id", "family"])["shap"].sum().abs().groupby("family").mean()


def test_the_simulated_dump_reads_with_nothing_quarantined(demo):
    out, summary = demo
    assert summary["ingest"]["quarantined"] == 0 and summary["ingest"]["jobs"] > 500
    assert summary["samples"]["quarantined"] == 0 and summary["samples"]["hosts"] == 64
    assert pd.read_parquet(out / "jobs.quarantine.parquet").empty


def test_planted_causes_rank_above_the_families_with_no_planted_effect(demo):
    out, summary = demo
    truth = json.loads((out / "dump" / "truth.json").read_text())
    control = summary["control_apps"]
    overall = _family_means(out, control)
    floor = max(overall.get(f, 0.0) for f in NOT_PLANTED)
    assert max(overall[f] for f in PLANTED["network"]) > floor
    assert overall[PLANTED["placement"][0]] > floor
    # file-system contention is planted in the I/O-heavy control application only
    io_apps = [a for a in control if truth["apps"][a]["s_io"] >= 1.0]
    assert io_apps == ["umt"]
    io = _family_means(out, io_apps)
    assert io["system_fs"] > max(io.get(f, 0.0) for f in NOT_PLANTED)


def test_control_job_error_is_within_1_5x_of_the_noise_floor(demo):
    _, summary = demo
    floor = summary["noise_floor"]
    assert floor["ratio"] <= 1.5, floor
    # and the model beats the request-based baseline on the same control jobs
    metrics = summary["evaluation"].metrics
    assert metrics.loc["model", "mae"] < metrics.loc["requested_limit", "mae"]


def test_the_queue_left_at_the_end_is_predicted_with_intervals_and_reasons(demo):
    out, summary = demo
    queued = summary["queue"]["jobs"]
    pending = read_queue(out / "dump" / "queue.txt")
    assert [q["job_id"] for q in queued] == list(pending["job_id"])
    for q in queued:
        assert q["predicted_p10_s"] <= q["predicted_runtime_s"] <= q["predicted_p90_s"] <= q["time_limit_s"]
        assert len(q["reasons"]) == 3
