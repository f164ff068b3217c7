"""The simulator as its users meet it: files in real formats, a sane schedule, and honest truth."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import hostlist
import numpy as np
import pandas as pd
import pytest

from hpcpredict.errors import ParameterError
from hpcpredict.simulate import SACCT_FIELDS, SAMPLERS, simulate
from hpcpredict.simulate.config import EPOCH, build_topology, resolve_world
from hpcpredict.simulate.effects import APPS, expected_relative_mae, slowdown
from hpcpredict.simulate.scheduler import run_scheduler
from hpcpredict.simulate.workload import make_jobs

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
DURATION = re.compile(r"^(\d+-)?\d\d:\d\d:\d\d$")


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "tiny"
    simulate(out, preset="tiny", seed=0)
    return out


@pytest.fixture(scope="module")
def sacct(dump) -> pd.DataFrame:
    return pd.read_csv(dump / "sacct.txt", sep="|", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def truth(dump) -> dict:
    return json.loads((dump / "truth.json").read_text())


@pytest.fixture(scope="module")
def topology(dump) -> pd.DataFrame:
    return pd.read_csv(dump / "topology.csv")


def allocations(sacct: pd.DataFrame) -> pd.DataFrame:
    return sacct[~sacct.JobID.str.contains(".", regex=False)]


def seconds(iso: pd.Series) -> np.ndarray:
    return ((pd.to_datetime(iso).dt.tz_localize("UTC") - EPOCH).dt.total_seconds()).to_numpy()


def test_same_seed_gives_identical_bytes_and_another_seed_differs(dump, tmp_path):
    again = tmp_path / "again"
    simulate(again, preset="tiny", seed=0)
    files = sorted(p.relative_to(dump) for p in dump.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert len(files) > 10
    for rel in files:
        assert (dump / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = tmp_path / "other"
    simulate(other, preset="tiny", seed=1)
    assert (other / "sacct.txt").read_bytes() != (dump / "sacct.txt").read_bytes()


def test_sacct_is_parsable2_with_steps_arrays_and_every_fate(dump, sacct):
    lines = (dump / "sacct.txt").read_text().splitlines()
    assert lines[0] == "|".join(SACCT_FIELDS)
    assert all(line.count("|") == len(SACCT_FIELDS) - 1 for line in lines)
    ids = sacct.JobID
    for suffix in (".batch", ".extern", ".0"):
        assert ids.str.endswith(suffix).sum() > 100
    jobs = allocations(sacct)
    assert ids.str.fullmatch(r"\d+_\d+").sum() > 0  # array tasks that ran
    states = jobs.State
    assert states.str.fullmatch(r"CANCELLED by \d+").sum() > 0
    for state in ("COMPLETED", "TIMEOUT", "FAILED", "RUNNING", "PENDING"):
        assert (states == state).sum() > 0, state
    assert (jobs.End[states == "RUNNING"] == "Unknown").all()
    assert (jobs.Start[states == "PENDING"] == "Unknown").all()
    started = jobs[~jobs.Start.isin(["Unknown", "None"])]  # None: cancelled before it started (real 22.05)
    assert started.Submit.str.match(ISO).all() and started.Start.str.match(ISO).all()
    assert jobs.Elapsed.str.match(DURATION).all() and jobs.Timelimit.str.match(DURATION).all()
    assert (jobs.Eligible >= jobs.Submit).all() and (jobs.Eligible > jobs.Submit).any()  # sbatch --begin
    assert (started.Start >= started.Eligible).all()
    timeouts = jobs[states == "TIMEOUT"]
    assert (timeouts.Elapsed == timeouts.Timelimit).all()


def test_nodelists_expand_to_nnodes_known_hosts(sacct, topology):
    jobs = allocations(sacct)
    ran = jobs[jobs.NodeList != "None assigned"]
    known = set(topology.host)
    assert (ran.NodeList.str.contains(r"\[")).any()  # compressed ranges, as sacct prints them
    for nodelist, nnodes in zip(ran.NodeList, ran.NNodes.astype(int), strict=True):
        hosts = hostlist.expand_hostlist(nodelist)
        assert len(hosts) == nnodes and set(hosts) <= known


def test_no_host_runs_two_jobs_at_once_and_no_job_starts_before_submission(sacct, truth):
    jobs = allocations(sacct)
    ran = jobs[jobs.NodeList != "None assigned"]
    end_of_period = (pd.Timestamp(truth["world"]["end"]) - EPOCH).total_seconds()
    start = seconds(ran.Start)
    end = np.where(ran.End == "Unknown", end_of_period, seconds(ran.End.replace("Unknown", ran.Start.iloc[0])))
    assert (start >= seconds(ran.Submit)).all()
    assert (end >= start).all()
    spans: dict[str, list] = {}
    for nodelist, a, b in zip(ran.NodeList, start, end, strict=True):
        for host in hostlist.expand_hostlist(nodelist):
            spans.setdefault(host, []).append((a, b))
    for host, intervals in spans.items():
        intervals.sort()
        for (_, b1), (a2, _) in zip(intervals, intervals[1:]):
            assert a2 >= b1, host


def test_easy_backfilling_never_delays_the_queue_head():
    world = resolve_world("tiny")
    rng = np.random.default_rng(5)
    jobs = make_jobs(world, rng)
    out, hosts = run_scheduler(world, build_topology(world), jobs, rng.normal(0, 0.05, len(jobs)))
    waited = out[out.reservation_s >= 0]
    assert len(waited) > 20  # the queue head had to wait often enough to test the guarantee
    started = waited[waited.start_s >= 0]
    assert (started.start_s <= started.reservation_s).all()
    # Backfilling happened: some jobs started before an earlier-submitted job.
    s = out[out.start_s >= 0].sort_values("submit_s")
    assert (s.start_s.to_numpy()[:-1] > s.start_s.to_numpy()[1:]).any()


def test_queue_holds_the_pending_jobs(dump, sacct):
    queue = pd.read_csv(dump / "queue.txt", sep="|", dtype=str, keep_default_na=False)
    assert list(queue.columns) == list(SACCT_FIELDS)
    assert len(queue) > 0 and (queue.State == "PENDING").all()
    assert (queue.Start == "Unknown").all() and (queue.NodeList == "None assigned").all()
    assert set(queue.JobID) == set(allocations(sacct).JobID[allocations(sacct).State == "PENDING"])


def test_control_jobs_run_at_fixed_sizes_all_period_long(sacct, truth):
    jobs = allocations(sacct)
    ctrl = jobs[jobs.User == "perfmon"]
    assert set(ctrl.JobName) == {"amg", "milc", "minivite", "umt"}
    for app, info in truth["control"].items():
        runs = ctrl[ctrl.JobName == app]
        assert (runs.NNodes.astype(int) == info["nodes"]).all()
        assert info["runs_completed"] >= 40
        days = pd.to_datetime(runs.Submit).dt.date.nunique()
        assert days == truth["world"]["days"]


def test_truth_matches_what_was_planted(dump, sacct, truth, topology):
    tj = pd.read_csv(dump / "truth_jobs.csv", dtype={"job_id": str})
    ran = tj[tj.start_s >= 0]
    expect = [slowdown(APPS[a], congestion=c, io_load=i, groups_spanned=g)
              for a, c, i, g in zip(ran.app, ran.congestion, ran.io_load, ran.groups_spanned, strict=True)]
    np.testing.assert_allclose(ran.slowdown, expect, rtol=1e-5)
    np.testing.assert_allclose(ran.runtime_s, ran.base_s * ran.slowdown * np.exp(ran.noise), rtol=1e-4)
    # Completed jobs ran exactly their planted runtime (to the second) in sacct.
    jobs = allocations(sacct).set_index("JobID")
    done = ran[ran.state == "COMPLETED"]
    elapsed = pd.to_timedelta(jobs.loc[done.job_id, "Elapsed"].str.replace("-", " days ")).dt.total_seconds()
    np.testing.assert_allclose(elapsed.to_numpy(), done.runtime_s.round().clip(lower=1), atol=1)
    # Placement spread is what NodeList and topology.csv say.
    group = dict(zip(topology.host, topology.group, strict=True))
    for job_id, spans in zip(done.job_id[:100], done.groups_spanned[:100], strict=True):
        assert len({group[h] for h in hostlist.expand_hostlist(jobs.loc[job_id, "NodeList"])}) == spans
    # The noise floor: declared sd, its implied relative MAE, and the oracle's realised error.
    sd = truth["noise"]["sd_log"]
    assert abs(ran.noise.std() - sd) < 0.15 * sd
    assert truth["noise"]["expected_relative_mae"] == pytest.approx(expected_relative_mae(sd))
    assert truth["noise"]["control_oracle_relative_mae"] == pytest.approx(truth["noise"]["expected_relative_mae"], rel=0.3)
    for app, info in truth["control"].items():
        assert info["sensitivity"]["network_congestion"] == APPS[app].s_net
        # Each application's dominant planted cause moves its runtime more than the noise does.
        assert max(v for k, v in info["realised_log_sd"].items() if k != "noise") > info["realised_log_sd"]["noise"]


def _ldms(dump: Path, sampler: str) -> pd.DataFrame:
    files = sorted((dump / "ldms" / sampler).iterdir())
    return pd.concat([pd.read_csv(f, dtype={"#Time": str}) for f in files], ignore_index=True)


def test_ldms_files_per_sampler_and_day_with_store_csv_headers(dump, truth):
    days = truth["world"]["days"]
    assert sorted(p.name for p in (dump / "ldms").iterdir()) == sorted(s.name for s in SAMPLERS)
    for sampler in SAMPLERS:
        files = sorted((dump / "ldms" / sampler.name).iterdir())
        assert len(files) == days
        assert all(re.fullmatch(rf"{sampler.name}\.\d{{10}}", f.name) for f in files)
        header = files[0].read_text().splitlines()[0].split(",")
        assert header == ["#Time", "Time_usec", "ProducerName", "component_id", "job_id", "app_id",
                          *[m[0] for m in sampler.metrics]]
    df = _ldms(dump, "meminfo")
    usec = df["#Time"].astype(str).str.split(".").str[1].astype(int)
    assert (usec == df.Time_usec).all()
    assert (df.MemTotal == truth["world"]["mem_per_node_gib"] * 1024 * 1024).all()
    assert (df.MemFree <= df.MemTotal).all()


def test_counters_only_go_down_at_the_planted_reboots(dump, truth):
    reboots = {(r["host"], pd.Timestamp(r["time"]).timestamp()) for r in truth["resets"]}
    assert reboots
    for sampler in SAMPLERS:
        df = _ldms(dump, sampler.name)
        sec = df["#Time"].astype(str).str.split(".").str[0].astype(int)
        df = df.assign(sec=sec).sort_values(["ProducerName", "sec"])
        counters = [m for m, kind, _ in sampler.metrics if kind == "counter"]
        if not counters:
            continue
        drops = (df.groupby("ProducerName")[counters].diff() < 0).any(axis=1)
        seen = set(zip(df.ProducerName[drops], df.sec[drops].astype(float), strict=True))
        planted = {r for r in reboots if r[0] in set(df.ProducerName)}
        assert seen == planted, sampler.name
        # A reboot sets every counter back near zero, not just lower.
        for host, t in planted:
            row = df[(df.ProducerName == host) & (df.sec == t)]
            assert (row[counters].to_numpy() < df[counters].max().to_numpy() * 0.01).all()


def _rates(df: pd.DataFrame, counters: list[str]) -> pd.DataFrame:
    df = df.assign(sec=df["#Time"].str.split(".").str[0].astype(int) - int(EPOCH.timestamp()))
    df = df.sort_values(["ProducerName", "sec"])
    d = df.groupby("ProducerName")[counters].diff()
    return df.assign(**{f"d_{c}": d[c].where(d[c] >= 0) for c in counters})  # a reset is not a rate


@pytest.fixture(scope="module")
def lookback(dump, sacct, topology) -> pd.DataFrame:
    """Control jobs that completed, with what START-horizon features see in the 30 minutes before
    start: router stalls per flit in the job's groups, system-wide Lustre bytes/s, groups spanned."""
    flit, stall = "AR_RTR_INQ_PRF_INCOMING_FLIT_VC0", "AR_RTR_INQ_PRF_ROWBUS_STALL_CNT"
    rtr = _rates(_ldms(dump, "aries_rtr_mmr"), [flit, stall])
    rtr = rtr.merge(topology[["host", "group"]], left_on="ProducerName", right_on="host")
    per_group = rtr.groupby(["group", "sec"])[[f"d_{flit}", f"d_{stall}"]].sum()
    lus = _rates(_ldms(dump, "lustre_client"), ["read_bytes", "write_bytes"])
    io = lus.groupby("sec")[["d_read_bytes", "d_write_bytes"]].sum().sum(axis=1)
    tj = pd.read_csv(dump / "truth_jobs.csv", dtype={"job_id": str})
    ctrl = tj[tj.control & (tj.state == "COMPLETED") & (tj.start_s >= 1800)].copy()
    nodelist = allocations(sacct).set_index("JobID").NodeList
    group = dict(zip(topology.host, topology.group, strict=True))
    stall_ratio, io_rate, spans = [], [], []
    for job_id, start in zip(ctrl.job_id, ctrl.start_s, strict=True):
        groups = pd.Series([group[h] for h in hostlist.expand_hostlist(nodelist[job_id])]).value_counts()
        ratio = 0.0
        for g, n in groups.items():
            w = per_group.loc[g]
            w = w[(w.index > start - 1800) & (w.index <= start)]
            ratio += n * w[f"d_{stall}"].sum() / w[f"d_{flit}"].sum()
        stall_ratio.append(ratio / groups.sum())
        io_rate.append(io[(io.index > start - 1800) & (io.index <= start)].mean())
        spans.append(len(groups))
    return ctrl.assign(stall_ratio=stall_ratio, io_rate=io_rate, spans=spans)


def test_planted_causes_are_visible_in_the_counters_before_start(lookback):
    assert np.corrcoef(lookback.stall_ratio, lookback.congestion)[0, 1] > 0.8
    assert np.corrcoef(lookback.io_rate, lookback.io_load)[0, 1] > 0.8
    assert (lookback.spans == lookback.groups_spanned).all()


def test_a_model_on_lookback_features_approaches_the_noise_floor(lookback):
    """Trained on the earlier 80% of control runs, a small model that sees the look-back state comes
    within 1.5x the oracle's error on the later runs; one that knows only the application does not."""
    import xgboost as xgb

    data = lookback.sort_values("start_s").assign(app_code=lambda d: d.app.astype("category").cat.codes)
    cut = int(0.8 * len(data))
    train, test = data.iloc[:cut], data.iloc[cut:]
    oracle = np.mean(np.abs(test.runtime_s - test.base_s * test.slowdown))

    def error(features):
        model = xgb.XGBRegressor(n_estimators=400, max_depth=3, learning_rate=0.05, objective="reg:absoluteerror",
                                 n_jobs=1, random_state=0)
        model.fit(train[features], np.log(train.runtime_s))
        return np.mean(np.abs(np.exp(model.predict(test[features])) - test.runtime_s)) / oracle

    assert error(["app_code", "stall_ratio", "io_rate", "spans"]) < 1.5
    assert error(["app_code"]) > 2.5


def test_topology_is_a_dragonfly(topology, truth):
    assert list(topology.columns) == ["host", "router", "group", "cabinet"]
    assert len(topology) == truth["world"]["nodes"]
    assert (topology.groupby("router").size() == truth["world"]["hosts_per_router"]).all()
    assert topology.group.nunique() == truth["world"]["groups"]
    assert (topology.groupby("router").group.nunique() == 1).all()


def test_bad_parameters_name_the_parameter(tmp_path):
    with pytest.raises(ParameterError, match="'preset'"):
        simulate(tmp_path / "x", preset="huge")
    with pytest.raises(ParameterError, match="'days'"):
        simulate(tmp_path / "x", preset="tiny", days=0)
    assert not (tmp_path / "x").exists()


def test_command_line_writes_the_dump_and_prints_json(tmp_path):
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "simulate", "-o", str(tmp_path / "d"), "--preset", "tiny",
                          "--days", "2", "--nodes", "32", "--seed", "4", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["nodes"] == 32 and summary["days"] == 2
    assert (tmp_path / "d" / "sacct.txt").exists() and (tmp_path / "d" / "truth.json").exists()
    from typer.testing import CliRunner

    from hpcpredict.cli import app

    bad = CliRunner().invoke(app, ["simulate", "-o", str(tmp_path / "e"), "--preset", "huge"])
    assert bad.exit_code == 2
    assert "The 'preset' parameter must be one of ['default', 'large', 'tiny']. Got 'huge' instead." in bad.output
    assert not (tmp_path / "e").exists()
