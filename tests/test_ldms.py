"""LDMS store_csv and generic samples readers: layout, rates, resets, wraps, quarantine, output folder."""

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hpcpredict.cli import app
from hpcpredict.errors import InputFileError
from hpcpredict.ingest import quarantine_path, read_ldms, read_samples, read_topology
from hpcpredict.ingest._samples import counters_to_rates
from hpcpredict.ingest.metrics import describe_metric

from conftest import DATA

LDMS = DATA / "ldms"
T0 = pd.Timestamp(1700000000, unit="s", tz="UTC")


def _row(result, host, minute):
    s = result.samples
    return s[(s["component"] == host) & (s["timestamp"] == T0 + pd.Timedelta(minutes=minute))].iloc[0]


def test_reads_every_sampler_merging_on_rounded_time_and_host():
    r = read_ldms(LDMS)
    assert r.counts == {"lines_read": 42, "records": 40, "quarantined": 2, "duplicates_merged": 0, "samples": 10, "hosts": 2, "metrics": 22}
    assert r.metadata["samplers"] == ["aries_nic_mmr", "lustre2_client", "meminfo", "procstat"]
    # four samplers fired microseconds apart; one row per host and minute
    assert sorted(r.samples["timestamp"].unique()) == [T0 + pd.Timedelta(minutes=m) for m in range(5)]
    row = _row(r, "nid00001", 2)
    assert row["MemFree"] == 29998000  # gauge kept as is (kB)
    assert row["mem_used_bytes"] == (65536000 - 39998000) * 1024
    assert row["user_per_s"] == 50.0  # 3000 jiffies a minute, across the procstat rollover
    assert row["cpu_busy_frac"] == pytest.approx(0.6)
    assert row["write_bytes_llite_scratch_per_s"] == 100.0


def test_metric_metadata_says_counter_or_gauge_unit_and_role():
    by_col = {m.column: m for m in read_ldms(LDMS).metrics}
    assert by_col["read_bytes_llite_scratch_per_s"].kind == "counter"
    assert by_col["read_bytes_llite_scratch_per_s"].unit == "bytes/s"
    assert by_col["read_bytes_llite_scratch_per_s"].role == "fs_read_bytes"
    assert by_col["open_llite_scratch_per_s"].role == "fs_metadata_ops"
    assert by_col["AR_NIC_NETMON_ORB_EVENT_CNTR_REQ_STALLED_per_s"].role == "net_stalls"
    assert (by_col["MemFree"].kind, by_col["MemFree"].unit) == ("gauge", "kB")
    assert by_col["procs_running"].kind == "gauge"
    over = read_ldms(LDMS, metrics={"Active": {"kind": "counter", "unit": "kB"}})
    assert "Active_per_s" in over.samples.columns and {m.column: m for m in over.metrics}["Active_per_s"].unit == "kB/s"


def test_first_sample_is_nan_reset_restarts_from_zero_and_wrap_is_undone():
    r = read_ldms(LDMS)
    assert np.isnan(_row(r, "nid00001", 0)["read_bytes_llite_scratch_per_s"])
    # nid00002's lustre counter fell from 1,240,000 to 120,000 (reboot): 120,000 bytes in 60 s
    assert _row(r, "nid00002", 3)["read_bytes_llite_scratch_per_s"] == 2000.0
    assert _row(r, "nid00002", 4)["read_bytes_llite_scratch_per_s"] == 2000.0
    # nid00001's flit counter passed 2**64 between minutes 0 and 1: still 36,000 flits a minute
    assert r.samples.loc[r.samples["component"] == "nid00001", "AR_NIC_NETMON_ORB_EVENT_CNTR_REQ_FLITS_per_s"].tolist()[1:] == [600.0] * 4


def test_counters_to_rates_handles_wraps_resets_gaps_and_32_bit_counters():
    t = pd.to_datetime([0, 60, 120, 180, 240, 600, 660], unit="s", utc=True)
    v = np.array([2**64 - 600, 600, 1200, 300, 900, 1500, 2100], dtype=np.uint64)
    f = pd.DataFrame({"timestamp": t, "component": "a", "c": v})
    rates = counters_to_rates(f, ["c"])["c"].tolist()
    assert np.isnan(rates[0]) and rates[1:5] == [20.0, 10.0, 5.0, 10.0]
    assert np.isnan(rates[5])  # 6-minute gap: no rate spread over it
    assert rates[6] == 10.0
    small = pd.DataFrame({"timestamp": t[:2], "component": "a", "c": np.array([2**32 - 60, 60], dtype=np.uint64)})
    assert counters_to_rates(small, ["c"], bits=32)["c"].tolist()[1] == 2.0
    two = pd.DataFrame({"timestamp": t[:2].append(t[:2]), "component": ["a", "a", "b", "b"], "c": np.array([0, 60, 600, 660], np.uint64)})
    assert counters_to_rates(two, ["c"])["c"].tolist()[2] != counters_to_rates(two, ["c"])["c"].tolist()[2]  # NaN at b's start


def test_bad_lines_are_quarantined_with_file_line_and_reason():
    q = read_ldms(LDMS).quarantine
    assert list(q["line"]) == [8, 9]
    assert q["file"].str.endswith("lustre2_client.1700000000").all()
    assert q.loc[0, "reason"] == "field 'read_bytes#llite.scratch' is not a number"
    assert q.loc[1, "reason"] == "expected 10 fields, found 6"
    assert q.loc[1, "raw"] == "1700000120.003001,3001,nid00001,1,0,0"
    with pytest.raises(InputFileError, match=r"lustre2_client\.1700000000:8: field 'read_bytes#llite.scratch' is not a number"):
        read_ldms(LDMS, strict=True)


def test_gzip_files_and_missing_header(tmp_path):
    src = LDMS / "meminfo.1700000000"
    with gzip.open(tmp_path / "meminfo.1700000000.gz", "wb") as out:
        out.write(src.read_bytes())
    assert read_ldms(tmp_path).counts["samples"] == 10
    (tmp_path / "vmstat.1700000000").write_text("1700000000.0,0,nid1,1,0,0,5\n")
    with pytest.raises(InputFileError, match=r"vmstat\.1700000000:1: no '#Time,\.\.\.' header"):
        read_ldms(tmp_path)


def test_writes_a_day_partitioned_folder_with_metadata(tmp_path):
    folder = tmp_path / "samples"
    r = read_ldms(LDMS, folder)
    assert sorted(p.name for p in folder.iterdir()) == [".hpcpredict-output", "_metrics.json", "samples-2023-11-14.parquet"]
    meta = json.loads((folder / "_metrics.json").read_text())
    assert meta["counts"] == r.counts
    assert {m["column"]: m["role"] for m in meta["metrics"]}["cpu_busy_frac"] == "cpu_busy"
    back = pd.read_parquet(folder / "samples-2023-11-14.parquet")
    assert len(back) == 10 and str(back["timestamp"].dtype).startswith("datetime64") and back["timestamp"].dt.tz is not None
    assert len(pd.read_parquet(quarantine_path(folder))) == 2


def test_ldms_samples_feed_job_window_features(tmp_path):
    from hpcpredict.features.jobwindow import job_window_features
    from hpcpredict.schema import conform_jobs

    read_ldms(LDMS, tmp_path / "s")
    jobs = conform_jobs(pd.DataFrame({"start_time": [T0], "end_time": [T0 + pd.Timedelta(minutes=5)], "nodelist": [["nid00002"]]}))
    f = job_window_features(jobs, tmp_path / "s")
    assert f.loc[0, "job_fs_read_bytes_per_s_mean"] == 2000.0  # minutes 1-4 (minute 0 has no rate)
    assert f.loc[0, "job_net_stall_flit_ratio"] == pytest.approx(0.1)
    assert f.loc[0, "job_cpu_busy_frac_max"] == pytest.approx(0.6)


def test_long_and_wide_tables(tmp_path):
    long = tmp_path / "long.csv"
    long.write_text(
        "timestamp,host,metric,value\n"
        "2024-01-01T00:00:00Z,a,node_read_bytes_total,100\n"
        "2024-01-01T00:01:00Z,a,node_read_bytes_total,700\n"
        "2024-01-01T00:01:00Z,a,node_read_bytes_total,700\n"
        "2024-01-01T00:00:00Z,a,temp,40.5\n"
        "2024-01-01T00:01:00Z,a,temp,oops\n"
        "yesterday,a,temp,1\n"
    )
    r = read_samples(long)
    assert r.counts == {"lines_read": 6, "records": 3, "quarantined": 2, "duplicates_merged": 1, "samples": 2, "hosts": 1, "metrics": 2}
    assert r.samples["node_read_bytes_total_per_s"].tolist()[1] == 10.0
    assert list(r.quarantine["line"]) == [6, 7]
    assert r.quarantine["reason"].tolist() == ["field 'value' is not a number", "field 'timestamp' is not a time"]
    wide = tmp_path / "wide.parquet"
    pd.DataFrame({"timestamp": [1704067200, 1704067260], "node": ["a", "a"], "cpu_util": [0.5, 0.7]}).to_parquet(wide)
    w = read_samples(wide, tmp_path / "out")
    assert w.samples["cpu_util"].tolist() == [0.5, 0.7] and w.metrics[0].role == "cpu_busy"
    assert (tmp_path / "out" / "samples-2024-01-01.parquet").is_file()


def test_topology_reader(tmp_path):
    path = tmp_path / "topology.csv"
    path.write_text("host,router,group,cabinet\nn1,r0,g0,c0\nn2,r0,g1,c0\n")
    assert read_topology(path).to_dict("list") == {"component": ["n1", "n2"], "router": ["r0", "r0"], "group": ["g0", "g1"], "cabinet": ["c0", "c0"]}
    path.write_text("host,router\nn1,r0\nn1,r1\n")
    with pytest.raises(InputFileError, match=r"topology\.csv:3: field 'host': host 'n1' appears twice"):
        read_topology(path)


def test_describe_metric_knows_common_ldms_names():
    assert describe_metric("AR_RTR_1_2_INQ_PRF_INCOMING_FLIT_VC0").role == "net_flits"
    assert describe_metric("Active(file)").unit == "kB"
    assert describe_metric("pgmajfault").kind == "counter"
    assert describe_metric("unknown_thing").kind == "gauge"


def test_cli_ingest_ldms(tmp_path):
    res = CliRunner().invoke(app, ["ingest", "ldms", str(LDMS), "-o", str(tmp_path / "samples")])
    assert res.exit_code == 0, res.output
    assert "10 samples of 2 hosts" in res.output and "2 quarantined" in res.output
    assert (tmp_path / "samples" / "_metrics.json").is_file()
    bad = CliRunner().invoke(app, ["ingest", "ldms", str(tmp_path / "nope"), "-o", str(tmp_path / "s2")])
    assert bad.exit_code == 2 and "no such file" in bad.output


def test_a_folder_per_sampler_with_dated_files(tmp_path):
    for sampler in ("meminfo", "procstat"):
        (tmp_path / sampler).mkdir()
    (tmp_path / "meminfo" / "2023-11-14.csv").write_bytes((LDMS / "meminfo.1700000000").read_bytes())
    (tmp_path / "procstat" / "HEADER").write_bytes((LDMS / "procstat.HEADER.1700000000").read_bytes())
    for name in ("procstat.1700000000", "procstat.1700000120"):
        (tmp_path / "procstat" / f"{name[-10:]}.csv").write_bytes((LDMS / name).read_bytes())
    r = read_ldms(tmp_path)
    assert r.metadata["samplers"] == ["meminfo", "procstat"]
    assert r.counts["samples"] == 10 and r.samples["cpu_busy_frac"].notna().sum() == 8


def test_fast_and_careful_parsers_agree(monkeypatch):
    """Clean files go through pyarrow's CSV reader; the line-by-line parser must give the same table."""
    import importlib

    ldms = importlib.import_module("hpcpredict.ingest.ldms")
    fast = read_ldms(LDMS)
    monkeypatch.setattr(ldms, "_read_fast", lambda *a, **k: None)
    careful = read_ldms(LDMS)
    pd.testing.assert_frame_equal(fast.samples, careful.samples)
    assert fast.counts == careful.counts
