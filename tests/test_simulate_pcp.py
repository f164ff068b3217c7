"""The simulator writes PCP archives (``monitoring="pcp"``) that ``ingest pcp`` reads into the same
families the LDMS dump of the same seed gives, and the pipeline runs on them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hpcpredict.errors import ParameterError
from hpcpredict.explain import explain
from hpcpredict.features import features, read_features
from hpcpredict.ingest import ingest, ingest_samples
from hpcpredict.ingest.pcp import find_archives
from hpcpredict.model import train
from hpcpredict.simulate import simulate
from hpcpredict.simulate.pcp import BYTES_PER_FLIT

from test_pcp import needs_pcp

WORLD = {"preset": "tiny", "nodes": 32, "days": 2, "seed": 0}
SAMPLE_S = 300  # the tiny preset's sampling interval


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim-pcp")
    out = {}
    for monitoring in ("ldms", "pcp"):
        summary = simulate(root / monitoring, monitoring=monitoring, **WORLD)
        counts = ingest_samples(monitoring, [root / monitoring / monitoring], root / f"{monitoring}-samples")
        out[monitoring] = {"dump": root / monitoring, "summary": summary, "counts": counts,
                           "samples": root / f"{monitoring}-samples"}
    return out


@needs_pcp
def test_one_archive_per_host_and_day_every_record_read(dumps):
    pcp = dumps["pcp"]
    archives = find_archives([pcp["dump"] / "pcp"])
    assert len(archives) == pcp["summary"]["pcp_archives"] == 32 * 2
    assert {a.parent.name for a in archives} == set(pd.read_csv(pcp["dump"] / "topology.csv")["host"])
    assert {a.name for a in archives} == {"20250106", "20250107"}
    counts = pcp["counts"]
    assert counts["records"] == pcp["summary"]["pcp_records"] == dumps["ldms"]["counts"]["samples"]
    assert counts["quarantined"] == 0 and counts["hosts"] == 32
    # the rest of the dump is the LDMS dump's, byte for byte
    for name in ("sacct.txt", "queue.txt", "topology.csv", "truth.json"):
        assert (pcp["dump"] / name).read_bytes() == (dumps["ldms"]["dump"] / name).read_bytes(), name


def _by_sample(dumps) -> pd.DataFrame:
    ldms, pcp = (pd.read_parquet(dumps[m]["samples"]) for m in ("ldms", "pcp"))
    for frame in (ldms, pcp):
        frame["t"] = frame["timestamp"].dt.round("s")  # LDMS stamps carry the sampler's wake-up jitter
    return ldms.merge(pcp, on=["component", "t"], suffixes=("_ldms", "_pcp"), validate="one_to_one")


@needs_pcp
def test_pcp_and_ldms_of_one_seed_give_the_same_samples_per_family(dumps):
    both = _by_sample(dumps)
    assert len(both) == dumps["pcp"]["counts"]["samples"]
    nic = both["AR_NIC_NETMON_ORB_EVENT_CNTR_REQ_FLITS_per_s"] + both["AR_NIC_RSPMON_NPT_EVENT_CNTR_NL_FLITS_per_s"]
    pairs = {  # family: (LDMS, PCP, tolerance in the column's unit)
        "cpu busy": (both["cpu_busy_frac_ldms"], both["cpu_busy_frac_pcp"], 1e-9),
        "memory in use": (both["mem_used_bytes_ldms"], both["mem_used_bytes_pcp"], 0.0),
        # PCP's disk counters count Kbytes: a rate is exact to one Kbyte per interval
        "file-system reads": (both["read_bytes_per_s"], both["disk_read_bytes_per_s"], 1024 / SAMPLE_S),
        "file-system writes": (both["write_bytes_per_s"], both["disk_write_bytes_per_s"], 1024 / SAMPLE_S),
        "network": (nic * BYTES_PER_FLIT, both["net_in_bytes_per_s"] + both["net_out_bytes_per_s"], 1e-6),
    }
    for family, (ldms, pcp, tolerance) in pairs.items():
        assert (ldms.isna() == pcp.isna()).all(), family  # the same samples lack a rate (first, reboots)
        assert ldms.notna().mean() > 0.99, family
        gap = (ldms - pcp).abs().max()
        assert gap <= tolerance + 1e-9 * ldms.abs().max(), f"{family}: differs by {gap}"


@needs_pcp
def test_the_pipeline_runs_on_the_pcp_dump(dumps, tmp_path):
    dump = dumps["pcp"]["dump"]
    jobs = tmp_path / "jobs.parquet"
    ingest("sacct", [dump / "sacct.txt"], jobs)
    built = {}
    for monitoring in ("pcp", "ldms"):
        built[monitoring] = tmp_path / f"features-{monitoring}.parquet"
        features(jobs, built[monitoring], horizon="start", samples=dumps[monitoring]["samples"], topology=dump / "topology.csv")
    table = read_features(built["pcp"])
    ldms_table = read_features(built["ldms"]).set_index("job_id")
    # the families both sources have give the same job-window features
    for column in ("sys_fs_read_bytes_per_s_1h_at_start", "sys_cpu_busy_frac_1h_at_start", "sys_mem_used_bytes_1h_at_start"):
        pcp_values = table.set_index("job_id")[column]
        assert pcp_values.notna().mean() > 0.9, column
        tolerance = 1024 / SAMPLE_S if "bytes_per_s" in column else 1e-6 * np.nanmax(np.abs(pcp_values))
        assert np.nanmax(np.abs(pcp_values - ldms_table[column])) <= tolerance, column
    controls = sorted(json.loads((dump / "truth.json").read_text())["control"])
    model = train(built["pcp"], tmp_path / "model", apps=controls)
    explanation = explain(model, built["pcp"], tmp_path / "explain", top=8)
    families = explanation.families.set_index("family")["mean_abs_shap"].to_dict()
    assert {"system_fs", "system_net", "system_cpu"} <= set(families)
    assert families["system_fs"] > 0 and families["system_net"] > 0


def test_monitoring_must_be_ldms_or_pcp(tmp_path):
    with pytest.raises(ParameterError, match="'monitoring' parameter must be one of ldms, pcp"):
        simulate(tmp_path / "x", monitoring="csv", **WORLD)
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "simulate", "-o", str(tmp_path / "y"), "--monitoring", "csv"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0 and "monitoring" in out.stderr


@needs_pcp
def test_simulate_command_line_writes_pcp(tmp_path):
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "simulate", "-o", str(tmp_path / "s"), "--preset", "tiny",
                          "--nodes", "32", "--days", "1", "--monitoring", "pcp", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["monitoring"] == "pcp" and summary["pcp_archives"] == 32 and not (tmp_path / "s" / "ldms").exists()
    assert len(find_archives([tmp_path / "s" / "pcp"])) == 32


def test_without_pcp_simulate_says_what_to_install_and_writes_nothing(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from hpcpredict.cli import app

    monkeypatch.setenv("PATH", str(tmp_path))  # no pmpython anywhere
    res = CliRunner().invoke(app, ["simulate", "-o", str(tmp_path / "s"), "--preset", "tiny", "--nodes", "32", "--days", "1",
                                   "--monitoring", "pcp"])
    assert res.exit_code == 2 and res.output.strip().count("\n") == 0
    assert "PCP is not installed" in res.output and "apt-get install pcp python3-pcp" in res.output
    assert not (tmp_path / "s").exists()
