"""``ingest pcp``: a real pmlogger archive of a loaded machine, checked against PCP's own pmrep."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hpcpredict.cli import app
from hpcpredict.errors import InputFileError
from hpcpredict.ingest import stream_pcp
from hpcpredict.ingest.pcp import find_archives, pcp_python

from conftest import DATA

ARCHIVES = DATA / "pcp"
ARCHIVE = ARCHIVES / "vm" / "20261207"


def _pcp_works() -> bool:
    try:
        pmpython, env = pcp_python()
    except InputFileError:
        return False
    probe = subprocess.run([pmpython, "-I", "-c", "import pcp.pmapi"], env=env, capture_output=True)
    return probe.returncode == 0 and shutil.which("pmrep", path=env["PATH"]) is not None


needs_pcp = pytest.mark.skipif(not _pcp_works(), reason="PCP (pmpython with python3-pcp, pmrep) is not installed")


def _pmrep(archive, *metrics) -> pd.DataFrame:
    """PCP's own per-record rates (``pmrep -u``: no interpolation), times in the archive's zone (UTC)."""
    pmpython, env = pcp_python()
    out = subprocess.run(
        ["pmrep", "-a", str(archive), "-u", "-z", "-P", "6", "-f", "%Y-%m-%dT%H:%M:%S.%f", "-o", "csv", *metrics],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    frame = pd.read_csv(io.StringIO(out))
    frame["Time"] = pd.to_datetime(frame["Time"]).dt.tz_localize("UTC")
    return frame.set_index("Time")


def _ingest(paths, out):
    counts = stream_pcp(paths, out)
    return counts, pd.read_parquet(out).set_index("timestamp")


def test_archives_are_found_by_folder_file_or_base_name(tmp_path):
    assert find_archives([ARCHIVES]) == [ARCHIVE]
    assert find_archives([ARCHIVE.with_suffix(".0")]) == find_archives([ARCHIVE]) == [ARCHIVE]
    with pytest.raises(InputFileError, match="no such PCP archive"):
        find_archives([tmp_path / "nothing"])


def test_missing_meta_is_one_line_naming_it_exit_2(tmp_path):
    host = tmp_path / "archives" / "vm"
    host.mkdir(parents=True)
    for suffix in (".0", ".index"):
        shutil.copy(ARCHIVE.with_name(ARCHIVE.name + suffix), host)
    res = CliRunner().invoke(app, ["ingest", "pcp", str(tmp_path / "archives"), "-o", str(tmp_path / "samples")])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0
    assert "20261207.meta is missing" in res.output and str(host / "20261207") in res.output
    assert not (tmp_path / "samples").exists()


def test_without_pcp_the_error_names_the_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pmpython anywhere
    res = CliRunner().invoke(app, ["ingest", "pcp", str(ARCHIVES), "-o", str(tmp_path / "samples")])
    assert res.exit_code == 2
    assert "PCP is not installed" in res.output and "apt-get install pcp python3-pcp" in res.output
    assert res.output.strip().count("\n") == 0


@needs_pcp
def test_every_record_is_accounted_for_and_rates_match_pmrep(tmp_path):
    counts, samples = _ingest([ARCHIVES], tmp_path / "samples")
    # pmdumplog lists 193 records: 191 of the logged metrics and pmlogger's prologue and epilogue
    assert counts["lines_read"] == 193 and counts["records"] == 191 and counts["quarantined"] == 2
    assert counts["samples"] == 191 and counts["hosts"] == 1 and counts["archives"] == 1
    quarantine = pd.read_parquet(tmp_path / "samples.quarantine.parquet")
    assert quarantine["reason"].str.contains("none of the mapped PCP metrics").all()
    assert set(samples["component"]) == {"vm"}

    ref = _pmrep(ARCHIVE, "disk.all.write_bytes", "disk.all.read_bytes", "kernel.all.cpu.user", "network.interface.in.bytes", "mem.physmem", "mem.util.available")
    ours = samples.copy()
    ours.index, ref.index = ours.index.round("ms"), ref.index.round("ms")  # float seconds in JSON vs pmrep's text
    both = ours.join(ref, how="inner")
    assert len(both) == 191
    # pmrep prints Kbyte/s and millisec/s (PCP's own units); the samples hold bytes/s and s/s
    pairs = [
        ("disk_write_bytes_per_s", "disk.all.write_bytes", 1024),
        ("disk_read_bytes_per_s", "disk.all.read_bytes", 1024),
        ("cpu_user_s_per_s", "kernel.all.cpu.user", 1e-3),
        ("loopback_in_bytes_per_s", "network.interface.in.bytes-lo", 1),
    ]
    for column, metric, factor in pairs:
        theirs = both[metric] * factor
        assert both[column].isna().sum() == theirs.isna().sum() == 1  # the first record has no rate
        np.testing.assert_allclose(both[column].dropna(), theirs.dropna(), rtol=1e-5, atol=1e-3 * factor)
    mem_used = (both["mem.physmem"] - both["mem.util.available"]) * 1024
    np.testing.assert_allclose(both["mem_used_bytes"], mem_used)


@needs_pcp
def test_metric_map_units_and_roles_in_the_folder(tmp_path):
    stream_pcp([ARCHIVES], tmp_path / "samples")
    meta = json.loads((tmp_path / "samples" / "_metrics.json").read_text())
    by_column = {m["column"]: m for m in meta["metrics"]}
    assert by_column["disk_write_bytes_per_s"] | {} == {
        "column": "disk_write_bytes_per_s", "source": "disk.all.write_bytes", "sampler": "pcp",
        "kind": "counter", "unit": "bytes/s", "role": "fs_write_bytes",
    }
    assert by_column["loopback_in_bytes_per_s"]["source"] == "network.interface.in.bytes[lo]"
    assert by_column["loopback_in_bytes_per_s"]["role"] is None  # traffic inside the node is not network
    assert by_column["net_in_bytes_per_s"]["role"] == "net_bytes"
    assert by_column["cpu_busy_frac"]["role"] == "cpu_busy" and by_column["mem_used_bytes"]["unit"] == "bytes"
    assert meta["bucket_s"] == 1  # logged at 1 s: one sample per host and bucket
    assert meta["counts"]["metrics"] == len(meta["metrics"])


@needs_pcp
def test_the_recorded_loads_show_where_they_were_made(tmp_path):
    """The fixture was recorded while dd wrote 300 MB (~18:21:50-18:22:30) and a loopback TCP
    transfer ran (~18:22:33-18:22:48): the samples show each in its own window."""
    _, samples = _ingest([ARCHIVES], tmp_path / "samples")
    at = lambda a, b: samples.loc[f"2026-12-07 {a}":f"2026-12-07 {b}"]
    write_busy, write_quiet = at("18:21:50", "18:22:30"), at("18:23:45", "18:24:10")
    assert write_busy["disk_write_bytes_per_s"].mean() > 20 * write_quiet["disk_write_bytes_per_s"].mean()
    assert at("18:22:35", "18:22:46")["loopback_in_bytes_per_s"].min() > 100e6
    assert write_busy["loopback_in_bytes_per_s"].max() < 1e6


@needs_pcp
def test_job_window_features_read_the_disk_family_from_pcp(tmp_path):
    from hpcpredict.features.jobwindow import job_window_features
    from hpcpredict.features.registry import spec

    stream_pcp([ARCHIVES], tmp_path / "samples")
    t = lambda s: pd.Timestamp(f"2026-12-07 {s}", tz="UTC")
    jobs = pd.DataFrame({
        "job_id": ["disk", "quiet"],
        "start_time": [t("18:21:52"), t("18:23:40")],
        "end_time": [t("18:22:28"), t("18:24:08")],
        "nodelist": [["vm"], ["vm"]],
    })
    features = job_window_features(jobs, tmp_path / "samples")
    write = features["job_fs_write_bytes_per_s_mean"]
    assert write.iloc[0] > 20 * write.iloc[1]
    assert spec("job_fs_write_bytes_per_s_mean").family == "job_fs"
    assert features["job_cpu_busy_frac_mean"].between(0, 1).all()


@needs_pcp
def test_split_archives_carry_counters_across_the_boundary(tmp_path):
    """Two archives cut from one by pmlogextract (sharing the record at the cut) give the rates of
    the whole: the second archive's first record gets its rate from the first archive's last."""
    pmpython, env = pcp_python()
    for part, flag in (("a", "-T"), ("b", "-S")):
        (tmp_path / part / "vm").mkdir(parents=True)
        subprocess.run(["pmlogextract", "-Z", "UTC", flag, "@2026-12-07 18:22:00", str(ARCHIVE), str(tmp_path / part / "vm" / "20261207")], env=env, check=True, capture_output=True)
    _, whole = _ingest([ARCHIVES], tmp_path / "whole")
    counts, split = _ingest([tmp_path / "a", tmp_path / "b"], tmp_path / "split")
    assert counts["duplicates_merged"] == 1  # the record at the cut, in both archives
    assert counts["lines_read"] == counts["records"] + counts["quarantined"] + counts["duplicates_merged"]
    pd.testing.assert_frame_equal(split, whole)


@needs_pcp
def test_overlapping_archives_are_quarantined_not_double_counted(tmp_path):
    shutil.copytree(ARCHIVES, tmp_path / "again")
    counts, samples = _ingest([ARCHIVES, tmp_path / "again"], tmp_path / "samples")
    assert counts["lines_read"] == 2 * 193 and counts["records"] == 191 and counts["samples"] == 191
    assert counts["records"] + counts["quarantined"] + counts["duplicates_merged"] == counts["lines_read"]
    quarantine = pd.read_parquet(tmp_path / "samples.quarantine.parquet")
    assert quarantine["reason"].str.contains("overlapping archives").sum() == 190


@needs_pcp
def test_truncated_archive_is_one_line_naming_it_exit_2(tmp_path):
    host = tmp_path / "archives" / "vm"
    shutil.copytree(ARCHIVE.parent, host)
    with open(host / "20261207.0", "r+b") as f:
        f.truncate(100_000)
    res = CliRunner().invoke(app, ["ingest", "pcp", str(tmp_path / "archives"), "-o", str(tmp_path / "samples")])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0
    assert str(host / "20261207") in res.output and "Corrupted record" in res.output
    assert not (tmp_path / "samples").exists()


@needs_pcp
def test_memory_in_use_without_mem_util_available(tmp_path):
    """A site logging no ``mem.util.available`` (pmlogextract keeps only the metrics listed) still
    gets ``mem_used_bytes``: memory in use less the page cache."""
    pmpython, env = pcp_python()
    (tmp_path / "config").write_text("mem.util.used\nmem.util.cached\ndisk.all.write_bytes\n")
    (tmp_path / "a" / "vm").mkdir(parents=True)
    subprocess.run(["pmlogextract", "-c", str(tmp_path / "config"), str(ARCHIVE), str(tmp_path / "a" / "vm" / "20261207")], env=env, check=True, capture_output=True)
    _, samples = _ingest([tmp_path / "a"], tmp_path / "samples")
    np.testing.assert_allclose(samples["mem_used_bytes"], samples["mem_util_used_bytes"] - samples["mem_cached_bytes"])
    meta = json.loads((tmp_path / "samples" / "_metrics.json").read_text())
    assert {m["column"]: m["source"] for m in meta["metrics"]}["mem_used_bytes"].startswith("mem.util.used - mem.util.cached")
    assert "cpu_busy_frac" not in samples  # no CPU metric logged, none made up


@needs_pcp
def test_system_totals_count_each_1s_sample_once(tmp_path):
    """Buckets follow the archive's 1 s interval: with the default 60 s buckets each bucket summed
    60 samples of the host and the system write rate came out 60x too high."""
    from hpcpredict.features.system import system_features

    _, samples = _ingest([ARCHIVES], tmp_path / "samples")
    at = pd.Timestamp("2026-12-07 18:24:00", tz="UTC")
    jobs = pd.DataFrame({"job_id": ["j"], "start_time": [at]})
    sys_write = system_features(jobs, tmp_path / "samples", horizon="start")["sys_fs_write_bytes_per_s_15m_at_start"].iloc[0]
    expected = samples.loc[samples.index < at, "disk_write_bytes_per_s"].mean()
    assert sys_write == pytest.approx(expected, rel=0.02)


@needs_pcp
def test_host_names_as_the_scheduler_knows_them(tmp_path):
    """The live Slurm calls its one node ``localhost`` while pmlogger records the machine's name."""
    res = CliRunner().invoke(app, ["ingest", "pcp", str(ARCHIVES), "-o", str(tmp_path / "samples"), "--host", "vm=localhost"])
    assert res.exit_code == 0, res.output
    assert set(pd.read_parquet(tmp_path / "samples")["component"]) == {"localhost"}
    bad = CliRunner().invoke(app, ["ingest", "pcp", str(ARCHIVES), "-o", str(tmp_path / "other"), "--host", "vm"])
    assert bad.exit_code == 2 and "ARCHIVE_HOST=NODE" in bad.output
