"""The live cluster of ``make test-slurm``: its dumps (``$HPCP_LIVE``) and what Slurm itself says.

``tests/live/run.sh`` brings up the cluster, runs the workload, writes the dumps and keeps the
daemons up while these tests run, so a test can also ask ``scontrol``/``sacct`` about one job.
Without ``HPCP_LIVE`` every test marked ``slurm`` skips (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

_KEY = re.compile(r"(?:^|\s)([A-Za-z][\w/:.]*)=")


@pytest.fixture(scope="session")
def live() -> Path:
    """The folder of the live run's dumps."""
    return Path(os.environ["HPCP_LIVE"])


@pytest.fixture(scope="session")
def submitted(live) -> pd.DataFrame:
    """Every job the workload submitted: ``job_id``, ``user``, ``what`` (its role in the workload)."""
    return pd.read_csv(live / "jobs.tsv", sep="\t", names=["job_id", "user", "what"], dtype=str)


def parse_scontrol(text: str) -> list[dict[str, str]]:
    """``scontrol show job --oneliner`` records as dicts (a value runs to the next ``Key=``)."""
    records = []
    for line in text.splitlines():
        if not line.startswith("JobId="):
            continue
        keys = list(_KEY.finditer(line))
        record = {}
        for key, following in zip(keys, keys[1:] + [None]):
            end = following.start() if following else len(line)
            record[key.group(1)] = line[key.end():end].strip()
        records.append(record)
    return records


@pytest.fixture(scope="session")
def scontrol() -> dict[str, dict[str, str]]:
    """``scontrol show job`` of every job the controller still holds, by job id as sacct prints it
    (``12_3`` for array tasks, ``30+1`` for het components)."""
    text = subprocess.run(["scontrol", "show", "job", "--oneliner"], capture_output=True, text=True, check=True).stdout
    out = {}
    for record in parse_scontrol(text):
        if record.get("ArrayTaskId") and record.get("ArrayJobId"):
            key = f"{record['ArrayJobId']}_{record['ArrayTaskId']}"
        elif record.get("HetJobId"):
            key = f"{record['HetJobId']}+{record['HetJobOffset']}"
        else:
            key = record["JobId"]
        out[key] = record
    return out


def slurm(*args: str) -> str:
    """Run a Slurm command of the live cluster, return its output."""
    return subprocess.run(list(args), capture_output=True, text=True, check=True, timeout=60).stdout


def wait_until(condition, seconds: float, what: str, every: float = 0.5):
    """Poll ``condition()`` until it returns something true (returned), or fail after ``seconds``:
    accounting reaches slurmdbd a moment after the scheduler acts, longer on a loaded machine."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:g} s")
        time.sleep(every)


def sbatch(*args: str) -> str:
    """Submit a job to the live cluster (as the test's user), return its id."""
    return slurm("sbatch", "--parsable", "-o", "/dev/null", *args).strip().split(";")[0]


def sacct_state(job_id: str, since: str) -> str | None:
    """The job's state as a window query like collect's sees it (None while sacct does not list it)."""
    out = slurm("sacct", "-a", "-X", "-n", "-P", "-S", since, "-E", "now", "--state=BF,CA,CD,DL,F,NF,OOM,PD,PR,R,RQ,RS,RV,S,TO",
                "-o", "JobID,State,End")
    for line in out.splitlines():
        jid, state, end = line.split("|")
        if jid == job_id:
            return state if state != "COMPLETED" or end not in ("", "Unknown") else None
    return None


def free_port() -> int:
    """A TCP port nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_service(model, *args: str):
    """``hpcpredict serve MODEL ARGS...`` on a free port, started as a site starts it and stopped
    at the end; yields its base URL once ``/health`` answers."""
    import sys
    import time
    import urllib.request

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "hpcpredict", "serve", str(model), "--port", str(port), *map(str, args)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            pytest.fail("the service did not answer /health within 60 s")
        if process.poll() is not None:
            pytest.fail(f"the service exited: {process.stderr.read().decode()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
