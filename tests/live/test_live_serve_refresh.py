"""``serve --refresh --collect`` against the live Slurm: a job that ends after the service started
counts in the history of the next prediction, with no restart."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pandas as pd
import pytest

from live.conftest import running_service, sacct_state, slurm, wait_until

pytestmark = pytest.mark.slurm

USER = "hpcpc"  # a user of the cluster who ran nothing in the workload: no history at start-up


def _post(base: str, body: dict) -> dict:
    request = urllib.request.Request(f"{base}/predict", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["predictions"][0]


def _health(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/health", timeout=30) as answer:
        return json.loads(answer.read())


def test_a_job_that_ended_after_start_up_counts_in_the_next_prediction(pipeline, tmp_path):
    since = (pd.Timestamp.now() - pd.Timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")
    table = tmp_path / "jobs.parquet"
    done = subprocess.run([sys.executable, "-m", "hpcpredict", "collect", str(table), "--since", since], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert USER not in set(pd.read_parquet(table)["user"].astype(str))
    # Everything in the request is fixed, its submission time included (after the probe's end):
    # between the two answers only the snapshot of the accounting changes.
    request = {"jobs": [{"job_id": "q", "user": USER, "time_limit_s": 4 * 3600, "req_cpus": 1,
                         "submit_time": (pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=1)).isoformat()}]}
    # --refresh in minutes: every 3 s, collect from sacct, then rebuild and swap the snapshot
    with running_service(pipeline["model"], "--jobs", table, "--refresh", "0.05", "--collect") as base:
        first = _post(base, request)
        probe = slurm("runuser", "-u", USER, "--", "sbatch", "--parsable", "-o", "/dev/null", "-J", "refresh-probe", "-t", "5",
                      "--chdir", "/tmp", "--wrap", "sleep 5").strip().split(";")[0]
        wait_until(lambda: sacct_state(probe, since) == "COMPLETED", 90, f"sacct lists job {probe} as COMPLETED with its end")
        end = pd.Timestamp(slurm("sacct", "-n", "-X", "-P", "-j", probe, "-o", "End").strip(), tz="UTC")

        def refreshed():
            snapshot = pd.Timestamp(_health(base)["snapshot"])
            return _post(base, request) if snapshot >= end else None

        second = wait_until(refreshed, 120, "the service's snapshot includes the probe's end", every=1)
    jobs = pd.read_parquet(table).set_index("job_id")
    assert jobs.loc[probe, "state"] == "COMPLETED" and jobs.loc[probe, "user"] == USER  # collect ran
    assert second["predicted_runtime_s"] != first["predicted_runtime_s"], (first, second)
    # the user's history in the words: unknown before, the probe's runtime after
    history = [r for r in second["reasons"] if "user's" in r]
    assert history and all("unknown" not in r for r in history), (first["reasons"], second["reasons"])
