"""The live cluster of ``make test-slurm``: its dumps (``$HPCP_LIVE``) and what Slurm itself says.

``tests/live/run.sh`` brings up the cluster, runs the workload, writes the dumps and keeps the
daemons up while these tests run, so a test can also ask ``scontrol``/``sacct`` about one job.
Without ``HPCP_LIVE`` every test marked ``slurm`` skips (tests/conftest.py).
"""

from __future__ import annotations

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
