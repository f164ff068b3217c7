"""Queue, system, placement and job-window features against brute-force references, and leakage."""

import math

import numpy as np
import pandas as pd
import pytest

from hpcpredict.features import build_features
from hpcpredict.features.jobwindow import job_window_features
from hpcpredict.features.placement import placement_features
from hpcpredict.features.queue import queue_features
from hpcpredict.features.system import WINDOWS, system_features
from hpcpredict.ingest import SamplesResult, write_samples
from hpcpredict.features._samples import QUANTITY
from hpcpredict.ingest.metrics import MetricInfo

from _monitoring import ROLE_COLUMNS, make_jobs, make_samples, make_topology
from hpcpredict.metadata import feature_specs



@pytest.fixture(scope="module")
def data():
    return make_jobs(), make_samples(), make_topology()


def _secs(t):
    return t.value / 1e9


def _role_values(samples):
    """Per sample, each role's value: the sum of its columns, NaN when all are missing."""
    out = {}
    for role, cols in ROLE_COLUMNS.items():
        block = samples[cols]
        out[role] = block.sum(axis=1, min_count=1).to_numpy()
    return out


def _bucket(samples):
    return (samples["timestamp"].dt.as_unit("ns").astype("int64") // 10**9 // 60).to_numpy()


def test_system_features_match_brute_force(data):
    jobs, samples, _ = data
    values, bucket = _role_values(samples), _bucket(samples)
    for horizon in ("submit", "start"):
        got = system_features(jobs, samples, horizon=horizon)
        checked = 0
        for i, job in jobs.iterrows():
            h = job[f"{horizon}_time"]
            for label, width in WINDOWS.items():
                if pd.isna(h):
                    assert np.isnan(got.loc[i, f"sys_fs_read_bytes_per_s_{label}_at_{horizon}"])
                    continue
                lo, hi = math.ceil((_secs(h) - width) / 60), math.floor(_secs(h) / 60)
                inside = (bucket >= lo) & (bucket < hi)
                for role, v in values.items():
                    sel = inside & ~np.isnan(v)
                    if role in ("cpu_busy", "mem_used"):
                        want = v[sel].mean() if sel.any() else np.nan
                    else:
                        want = v[sel].sum() / len(np.unique(bucket[sel])) if sel.any() else np.nan
                    name = f"sys_{QUANTITY[role]}_{label}_at_{horizon}"
                    np.testing.assert_allclose(got.loc[i, name], want, rtol=1e-9, err_msg=name)
                    checked += 1
                stalls, flits = values["net_stalls"][inside], values["net_flits"][inside]
                np.testing.assert_allclose(
                    got.loc[i, f"sys_net_stall_flit_ratio_{label}_at_{horizon}"], np.nansum(stalls) / np.nansum(flits), rtol=1e-9
                )
        assert checked > 500


def test_job_window_features_match_brute_force(data, tmp_path):
    jobs, samples, _ = data
    infos = [MetricInfo(c, c, "", "gauge", "", role) for role, cols in ROLE_COLUMNS.items() for c in cols]
    folder = tmp_path / "samples"
    write_samples(SamplesResult(samples, infos, pd.DataFrame(columns=["file", "line", "raw", "reason"]), len(samples), len(samples)), folder)
    from_frame = job_window_features(jobs, samples)
    from_folder = job_window_features(jobs, folder)
    pd.testing.assert_frame_equal(from_frame, from_folder, rtol=1e-9)
    values, bucket = _role_values(samples), _bucket(samples)
    with_values = 0
    for i, job in jobs.iterrows():
        if pd.isna(job["start_time"]) or pd.isna(job["end_time"]) or not job["nodelist"]:
            assert np.isnan(from_frame.loc[i, "job_fs_read_bytes_per_s_mean"])
            continue
        # a sample covers the minute ending at its stamp: only those whose minute lies inside the run
        stamp = samples["timestamp"].map(_secs).to_numpy()
        run = (stamp - 60 >= _secs(job["start_time"])) & (stamp <= _secs(job["end_time"]))
        lo, hi = math.ceil(_secs(job["start_time"]) / 60) + 1, math.floor(_secs(job["end_time"]) / 60)
        inside = (bucket >= lo) & (bucket < hi) & samples["component"].isin(job["nodelist"]).to_numpy()
        assert not (inside & ~run).any(), f"job {i}: a sample outside its run"
        for role, v in values.items():
            x = v[inside & ~np.isnan(v)]
            name = f"job_{QUANTITY[role]}"
            want = (x.mean(), x.max(), np.quantile(x, 0.95)) if len(x) else (np.nan,) * 3
            got = from_frame.loc[i, [f"{name}_mean", f"{name}_max", f"{name}_p95"]].to_numpy(float)
            np.testing.assert_allclose(got, want, rtol=1e-9, err_msg=f"job {i} {name}")
            with_values += len(x) > 0
        ratio = np.nansum(values["net_stalls"][inside]) / np.nansum(values["net_flits"][inside]) if inside.any() else np.nan
        np.testing.assert_allclose(from_frame.loc[i, "job_net_stall_flit_ratio"], ratio, rtol=1e-9)
    assert with_values > 100


def test_queue_features_match_brute_force(data):
    jobs, _, _ = data
    for horizon in ("submit", "start"):
        got = queue_features(jobs, horizon=horizon)
        for i, job in jobs.iterrows():
            h = job[f"{horizon}_time"]
            row = got.loc[i]
            if pd.isna(h):
                assert row.isna().all()
                continue
            running = queued = node_hours = busy = 0.0
            for j, other in jobs.iterrows():
                if j == i:
                    continue
                started = pd.notna(other["start_time"]) and other["start_time"] < h
                ended = pd.notna(other["end_time"]) and other["end_time"] < h
                if started and not ended:
                    running += 1
                    busy += other["alloc_nodes"]
                leave = other["start_time"] if pd.notna(other["start_time"]) else other["end_time"]
                if other["submit_time"] < h and not (pd.notna(leave) and leave < h):
                    queued += 1
                    node_hours += other["req_nodes"] * other["time_limit_s"] / 3600
            assert row[f"queue_running_jobs_at_{horizon}"] == running
            assert row[f"queue_queued_jobs_at_{horizon}"] == queued
            assert row[f"queue_busy_nodes_at_{horizon}"] == busy
            assert row[f"queue_queued_node_hours_at_{horizon}"] == pytest.approx(node_hours)


def test_placement_counts_distinct_routers_groups_cabinets(data):
    jobs, _, topo = data
    got = placement_features(jobs, topo)
    where = topo.set_index("component")
    for i, job in jobs.iterrows():
        if not job["nodelist"]:
            assert np.isnan(got.loc[i, "placement_groups"])
            continue
        for level in ("router", "group", "cabinet"):
            assert got.loc[i, f"placement_{level}s"] == where.loc[job["nodelist"], level].nunique()
    assert got["placement_groups"].max() == 2
    unknown = placement_features(jobs.assign(nodelist=[["n00", "zz"]] * len(jobs)), topo)
    assert (unknown["placement_unknown_hosts"] == 1).all() and (unknown["placement_routers"] == 1).all()


@pytest.mark.parametrize("horizon", ["submit", "start", "end"])
def test_nothing_after_the_horizon_changes_a_jobs_features(data, horizon):
    jobs, samples, topo = data
    rng = np.random.default_rng(7)
    base = build_features(jobs, samples, topo, horizon=horizon)
    families = {f["family"] for f in feature_specs(base)}
    assert {"queue", "system_fs", "system_net", "system_cpu"} <= families
    if horizon != "submit":
        assert "placement" in families
    if horizon == "end":
        assert {"job_fs", "job_net", "job_cpu"} <= families
    names = [f["name"] for f in feature_specs(base)]
    moment = "end_time" if horizon == "end" else f"{horizon}_time"
    checked = 0
    for i in rng.choice(jobs.index[jobs[moment].notna()], 12, replace=False):
        h = jobs.loc[i, moment]
        later_samples = samples.copy()
        after = (later_samples["timestamp"] >= h).to_numpy()
        metric_cols = [c for c in samples.columns if c not in ("timestamp", "component")]
        later_samples.loc[after, metric_cols] = rng.uniform(0, 1e12, (after.sum(), len(metric_cols)))
        later_jobs = jobs.copy()
        future = (later_jobs["submit_time"] >= h) & (later_jobs.index != i)
        shift = pd.to_timedelta(rng.uniform(0, 3600, future.sum()).round(), unit="s")
        for col in ("submit_time", "start_time", "end_time"):
            later_jobs.loc[future, col] = later_jobs.loc[future, col] + shift
        later_jobs.loc[future, "req_nodes"] = 99
        later_jobs.loc[future, "alloc_nodes"] = 99
        later_jobs.loc[future, "time_limit_s"] = 1e6
        # running or queued at h, their future leaving moves later still
        pending = (later_jobs["end_time"] >= h) & (later_jobs.index != i)
        later_jobs.loc[pending, "end_time"] = later_jobs.loc[pending, "end_time"] + pd.Timedelta(hours=5)
        changed = build_features(later_jobs, later_samples, topo, horizon=horizon)
        pd.testing.assert_frame_equal(changed.loc[[i], names], base.loc[[i], names], check_exact=False, rtol=1e-9, obj=f"job {i} at {horizon}")
        checked += 1
    assert checked == 12


def test_the_samples_just_before_the_horizon_do_count(data):
    """The leakage test could fail: the samples stamped before the horizon move the features."""
    jobs, samples, _ = data
    i = jobs.index[30]
    h = jobs.loc[i, "submit_time"]
    name = "sys_fs_read_bytes_per_s_15m_at_submit"
    base = system_features(jobs, samples, horizon="submit").loc[i, name]
    loud = samples.copy()
    recent = (loud["timestamp"] < h) & (loud["timestamp"] >= h - pd.Timedelta(minutes=5))
    loud.loc[recent, "read_bytes_fs1_per_s"] *= 1000
    assert system_features(jobs, loud, horizon="submit").loc[i, name] > base * 10


def test_without_samples_or_topology_only_queue_features_are_added(data):
    jobs, _, _ = data
    table = build_features(jobs, horizon="end")
    families = {f["family"] for f in feature_specs(table)}
    assert "queue" in families and not families & {"system_fs", "placement", "job_fs"}


def test_features_cli_with_samples_folder_and_topology(data, tmp_path):
    from typer.testing import CliRunner

    from hpcpredict._atomic import write_parquet
    from hpcpredict.cli import app
    from hpcpredict.features import read_features

    jobs, samples, topo = data
    infos = [MetricInfo(c, c, "", "gauge", "", role) for role, cols in ROLE_COLUMNS.items() for c in cols]
    write_samples(SamplesResult(samples, infos, pd.DataFrame(columns=["file", "line", "raw", "reason"]), len(samples), len(samples)), tmp_path / "s")
    write_parquet(jobs, tmp_path / "jobs.parquet")
    topo.rename(columns={"component": "host"}).to_csv(tmp_path / "topology.csv", index=False)
    args = ["features", "--jobs", str(tmp_path / "jobs.parquet"), "--samples", str(tmp_path / "s"), "--topology", str(tmp_path / "topology.csv")]
    res = CliRunner().invoke(app, [*args, "--horizon", "end", "-o", str(tmp_path / "f.parquet")])
    assert res.exit_code == 0, res.output
    table = read_features(tmp_path / "f.parquet")
    expected = build_features(jobs, samples, topo, horizon="end")
    for name in ("placement_groups", "job_fs_read_bytes_per_s_p95", "sys_net_flits_per_s_1h_at_start", "queue_busy_nodes_at_submit"):
        np.testing.assert_allclose(table[name].to_numpy(float), expected[name].to_numpy(float), rtol=1e-9)


def test_job_window_means_do_not_depend_on_the_chunking(data, monkeypatch):
    """The prefix sums carry across time chunks: tiny chunks give the same means as one chunk."""
    import importlib

    jobwindow = importlib.import_module("hpcpredict.features.jobwindow")
    jobs, samples, _ = data
    whole = job_window_features(jobs, samples, stats=("mean",))
    monkeypatch.setattr(jobwindow, "_CHUNK_CELLS", 100)  # 6 hosts -> chunks of 11 buckets
    chunked = job_window_features(jobs, samples, stats=("mean",))
    assert whole["job_fs_read_bytes_per_s_mean"].notna().sum() > 30
    pd.testing.assert_frame_equal(whole, chunked, rtol=1e-9)


def test_a_job_still_waiting_counts_as_queued_until_it_starts():
    """A pending job (no start, no end yet: a replay's view of the past) stays in the queue."""
    from hpcpredict.features.queue import queue_features
    from hpcpredict.schema import conform_jobs

    t = lambda s: pd.Timestamp(s, unit="s", tz="UTC")  # noqa: E731
    jobs = conform_jobs(
        pd.DataFrame(
            {
                "job_id": ["waiting", "later"],
                "submit_time": [t(100), t(200)],
                "start_time": [pd.NaT, pd.NaT],
                "end_time": [pd.NaT, pd.NaT],
                "req_nodes": [4, 1],
                "time_limit_s": [3600.0, 60.0],
            }
        )
    )
    feats = queue_features(jobs, horizon="submit")
    assert feats.loc[1, "queue_queued_jobs_at_submit"] == 1
    assert feats.loc[1, "queue_queued_node_hours_at_submit"] == 4.0


def test_job_window_leaves_out_the_sample_of_the_second_before_the_start():
    """A rate stamped at the start second is the second before it (another job's): not the job's.

    Found on the live PCP run (1 s samples): a CPU job that started in the second a disk job
    ended showed the disk job's 105 MB/s in its first bucket.
    """
    t0 = pd.Timestamp("2026-12-07 12:00:00", tz="UTC")
    stamps = pd.date_range(t0 - pd.Timedelta(seconds=3), periods=12, freq="1s")
    secs = ((stamps - t0) / pd.Timedelta(seconds=1)).to_numpy()
    # the previous job wrote 100 up to the start (stamps <= t0), this one 7 during its run
    write = np.where(secs <= 0, 100.0, np.where(secs <= 5, 7.0, 0.0))
    samples = pd.DataFrame({"timestamp": stamps, "component": "n1", "fs_write_bytes": write})
    jobs = pd.DataFrame({"start_time": [t0], "end_time": [t0 + pd.Timedelta(seconds=5)], "nodelist": [["n1"]]})
    from hpcpredict.features._samples import open_samples

    source = open_samples(samples, bucket_s=1)
    got = job_window_features(jobs, source, stats=("mean", "max"))
    assert got.loc[0, "job_fs_write_bytes_per_s_mean"] == 7.0
    assert got.loc[0, "job_fs_write_bytes_per_s_max"] == 7.0
