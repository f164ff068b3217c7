"""The sacct reader on a real Slurm 22.05 dump, checked job by job against ``scontrol show job``."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from hpcpredict.ingest.slurm import read_sacct

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def ingested(live):
    return read_sacct(live / "sacct.txt", tz=_local_tz())


def _local_tz() -> str:
    """sacct prints local time; the run's machine is UTC unless TZ says otherwise."""
    import os

    return os.environ.get("TZ") or "UTC"


def _expected_ids(submitted, scontrol) -> set[str]:
    """Each submitted job as sacct names it: array tasks ``ID_N``, het components ``ID+K``."""
    ids = set()
    for job_id in submitted["job_id"]:
        parts = [k for k in scontrol if k == job_id or re.fullmatch(rf"{job_id}(_\d+|\+\d+)", k)]
        # an array or het job is known to scontrol by its tasks/components
        tasks = [k for k in parts if k != job_id]
        ids.update(tasks or [job_id])
    return ids


def test_counts_reconcile_and_every_job_is_a_row(ingested, submitted, scontrol):
    r = ingested
    assert r.lines_read == len(r.jobs) + len(r.quarantine) + r.duplicates_merged
    assert r.quarantine.empty, r.quarantine[["line", "reason"]].to_string()
    assert set(r.jobs["job_id"]) == _expected_ids(submitted, scontrol)


def _seconds(text: str) -> float | None:
    if text in ("", "UNLIMITED", "Partition_Limit", "NONE"):
        return None
    days, _, rest = text.rpartition("-")
    parts = [int(p) for p in rest.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return (int(days or 0) * 24 + parts[0]) * 3600 + parts[1] * 60 + parts[2]


def _time(text: str):
    return pd.NaT if text in ("Unknown", "None", "") else pd.Timestamp(text, tz=_local_tz()).tz_convert("UTC")


def _tres(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


def _bytes(text: str) -> float:
    size, unit = re.fullmatch(r"([\d.]+)([KMGT])", text).groups()
    return float(size) * 1024.0 ** "KMGT".index(unit) * 1024




def test_each_job_matches_scontrol(ingested, scontrol):
    jobs = ingested.jobs.set_index("job_id")
    checked = 0
    for job_id, sc in scontrol.items():
        if job_id not in jobs.index:
            continue  # the first test names any job missing
        row = jobs.loc[job_id]
        where = f"job {job_id}"
        assert row["state"] == sc["JobState"].split()[0], where
        never_ran = sc["JobState"] == "CANCELLED" and sc["NodeList"] in ("", "(null)")
        for column, key in (("submit_time", "SubmitTime"), ("start_time", "StartTime"), ("end_time", "EndTime")):
            expected = _time(sc[key])
            if column == "start_time" and never_ran:
                # scontrol shows the cancel time as start; sacct shows None or that same cancel time
                # (both seen on 22.05, depending on when accounting recorded the cancel)
                assert pd.isna(row[column]) or row[column] == expected, f"{where} {column}"
                continue
            assert row[column] == expected or (pd.isna(row[column]) and pd.isna(expected)), f"{where} {column}"
        assert row["runtime_s"] == _seconds(sc["RunTime"]), where
        assert row["time_limit_s"] == pytest.approx(_seconds(sc["TimeLimit"]), nan_ok=True) or (
            pd.isna(row["time_limit_s"]) and _seconds(sc["TimeLimit"]) is None), where
        if sc["JobState"] not in ("PENDING", "CANCELLED") or sc["NodeList"] not in ("", "(null)"):
            assert row["nodelist"] == ([sc["NodeList"]] if sc["NodeList"] not in ("", "(null)") else []), where
        tres = _tres(sc.get("TRES", ""))  # what the job was given
        given = "alloc" if sc["JobState"] != "PENDING" and not never_ran else "req"
        assert row[f"{given}_tres_cpus"] == int(tres["cpu"]), where
        assert row[f"{given}_tres_mem_bytes"] == _bytes(tres["mem"]), where
        gpus = int(tres.get("gres/gpu", 0))
        assert (row[f"{given}_gpus"] if pd.notna(row[f"{given}_gpus"]) else 0) == gpus, where
        # what it asked: memory per node, or per CPU times the CPUs asked (an --exclusive job is
        # given every CPU and its memory, but asked for one CPU's worth)
        asked_cpus = int(sc["NumTasks"]) * int(sc["CPUs/Task"]) if sc.get("NumTasks", "N/A") != "N/A" else None
        if "MinMemoryNode" in sc:
            assert row["req_mem_bytes"] == _bytes(sc["MinMemoryNode"]), where
        elif "MinMemoryCPU" in sc and asked_cpus:
            assert row["req_mem_bytes"] == _bytes(sc["MinMemoryCPU"]) * asked_cpus, where
        code, signal = (int(x) for x in sc["ExitCode"].split(":"))
        if sc["JobState"] not in ("TIMEOUT", "CANCELLED"):  # sacct prints 0:0 there, scontrol 0:15
            assert (row["exit_code"], row["exit_signal"]) == (code, signal), where
        if sc.get("ArrayTaskId"):
            assert (row["array_job_id"], row["array_task_id"]) == (sc["ArrayJobId"], sc["ArrayTaskId"]), where
        if sc.get("HetJobId"):
            assert (row["het_job_id"], row["het_job_offset"]) == (sc["HetJobId"], int(sc["HetJobOffset"])), where
        checked += 1
    assert checked >= 30


def test_steps_are_folded(ingested, live):
    steps = [line.split("|", 1)[0] for line in (live / "sacct.txt").read_text().splitlines()[1:]
             if "." in line.split("|", 1)[0]]
    jobs = ingested.jobs.set_index("job_id")
    assert not set(jobs.index) & set(steps)
    n_steps = pd.Series([s.split(".")[0] for s in steps]).value_counts()
    steps_job = [k for k in n_steps.index if k in jobs.index and jobs.loc[k, "app"] == "steps"]
    assert steps_job and jobs.loc[steps_job[0], "n_steps"] == n_steps[steps_job[0]] >= 4  # batch, extern, 0, 1
