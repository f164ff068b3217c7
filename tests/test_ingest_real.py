"""Every real trace in ../shared/data/real reads with the row counts of its README."""

from pathlib import Path

import pandas as pd
import pytest

from hpcpredict.ingest import read_swf, read_table

REAL = Path(__file__).parents[2] / "shared" / "data" / "real"
pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/real is absent"),
]

SWF_LOGS = {  # file → jobs, from each folder's README
    "pwa-nasa-ipsc-1993/NASA-iPSC-1993-3.1-cln.swf.gz": 18239,
    "pwa-kth-sp2-1996/KTH-SP2-1996-2.1-cln.swf.gz": 28476,
    "pwa-hpc2n-2002-subset/hpc2n.swf": 3170,
    "cerit-sc-wagap-2013/wagap-2013.swf": 17900,
    "alcf-theta-2022-swf/theta_2022.swf": 23911,
    "lublin-model-256/lublin_256.swf": 10000,
}


def test_every_swf_log_there_is_listed_here():
    found = {str(p.relative_to(REAL)) for p in REAL.glob("*/*.swf*") if not p.name.endswith(".machines")}
    assert found == set(SWF_LOGS)


@pytest.mark.parametrize("name, jobs", sorted(SWF_LOGS.items()))
def test_swf_row_counts_match_the_readmes(name, jobs):
    result = read_swf(REAL / name)
    # Two wagap jobs have a run time of about -1.36e9 s (end before start): the plausibility
    # rules quarantine them (checked by hand at lines 4186 and 4200).
    implausible = {"cerit-sc-wagap-2013/wagap-2013.swf": 2}.get(name, 0)
    assert result.counts == {"lines_read": jobs, "jobs": jobs - implausible, "quarantined": implausible, "duplicates_merged": 0}


def test_swf_spot_checks():
    cerit = read_swf(REAL / "cerit-sc-wagap-2013/wagap-2013.swf").jobs
    # field 20, counted with awk: the README lists the main queues; ops, priority_long, q_2w_plus exist too
    assert cerit["partition"].value_counts()[["q_1d", "q_2h", "backfill", "ops"]].tolist() == [5301, 4392, 104, 11]
    assert cerit["nodelist"].map(len).min() == 1
    assert cerit["submit_time"].min() >= pd.Timestamp("2012-12-31", tz="UTC")
    assert cerit["user"].nunique() == 75
    theta = read_swf(REAL / "alcf-theta-2022-swf/theta_2022.swf").jobs
    assert theta["submit_time"].dt.year.eq(2022).all() and theta["runtime_s"].median() == 3562
    kth = read_swf(REAL / "pwa-kth-sp2-1996/KTH-SP2-1996-2.1-cln.swf.gz").jobs
    assert kth["user"].nunique() == 214 and (kth["state"] == "COMPLETED").sum() == 20530


def test_eagle_sample_with_its_preset():
    result = read_table(REAL / "nrel-eagle-sample/sample_eagle_data.csv", preset="nrel-eagle")
    assert result.counts == {"lines_read": 1000, "jobs": 1000, "quarantined": 0, "duplicates_merged": 0}
    jobs = result.jobs
    assert jobs["state"].value_counts().to_dict() == {"COMPLETED": 985, "TIMEOUT": 15}
    assert jobs["user"].nunique() == 15 and jobs["req_mem_bytes"].isna().sum() == 988
    assert jobs["runtime_s"].median() == 14010 and jobs["time_limit_s"].median() == 42000
    assert jobs["submit_time"].min() == pd.Timestamp("2019-01-01 08:55:55", tz="UTC")


def test_supercloud_log_with_its_preset():
    result = read_table(REAL / "mit-supercloud-sample/slurm-log-queueing-clean.csv", preset="mit-supercloud")
    assert result.counts == {"lines_read": 9628, "jobs": 9628, "quarantined": 0, "duplicates_merged": 0}
    jobs = result.jobs
    assert jobs["state"].value_counts().to_dict() == {
        "COMPLETED": 5784, "CANCELLED": 1893, "FAILED": 1077, "TIMEOUT": 841, "OUT_OF_MEMORY": 21, "NODE_FAIL": 12}
    first = jobs.iloc[0]
    assert first["job_id"] == "16051200000000" and first["nodelist"] == ["r9189566-n911952"]
    assert first["req_cpus"] == 20 and first["req_tres_mem_bytes"] == 170000 * 1024**2
    assert first["runtime_s"] == 307 and pd.isna(first["time_limit_s"])  # 4294967295 = no limit
    assert jobs["submit_time"].min() >= pd.Timestamp("2021-01-01", tz="UTC")
    assert (jobs["partition"] == "normal").mean() > 0.5
