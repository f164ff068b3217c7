"""PBS Pro / Torque accounting logs: records merged per job, states, bad records."""

import pandas as pd
import pytest

from hpcpredict.errors import InputFileError
from hpcpredict.ingest import read_pbs

from conftest import DATA

LOG = DATA / "pbs-accounting-20240305"
T = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731


@pytest.fixture(scope="module")
def jobs():
    result = read_pbs(LOG)
    # 19 job records (the L licence record is not one) → 8 jobs; the other 11 records merged.
    assert result.counts == {"lines_read": 19, "jobs": 8, "quarantined": 0, "duplicates_merged": 11}
    return result.jobs.set_index("job_id")


def test_finished_job_merges_queued_started_and_ended_records(jobs):
    job = jobs.loc["4101"]
    assert job["state"] == "COMPLETED" and job["cluster"] == "pbs01" and job["pbs_records"] == "QSE"
    assert (job["user"], job["group"], job["partition"], job["app"]) == ("alice", "chem", "workq", "md_run")
    assert job["submit_time"] == T("2024-03-05 08:00:01") and job["start_time"] == T("2024-03-05 08:00:03")
    assert job["end_time"] == T("2024-03-05 08:30:08")
    assert job["runtime_s"] == 1805 and job["time_limit_s"] == 7200 and job["cpu_time_s"] == 15 * 3600 + 50 * 60 + 12
    assert job["req_cpus"] == 32 and job["req_nodes"] == 2 and job["req_mem_bytes"] == 64 * 1024**3
    assert job["max_rss_bytes"] == 41943040 * 1024
    assert job["nodelist"] == ["cn001", "cn002"]
    assert job["pbs_resource_list_select"] == "2:ncpus=16:mem=32gb"


def test_states_from_record_kinds_and_exit_status(jobs):
    assert jobs.loc["4102", "state"] == "TIMEOUT"  # Exit_status 271 = signal 15 at the walltime limit
    assert jobs.loc["4103", ["state", "exit_code"]].tolist() == ["FAILED", 1]
    assert jobs.loc["4104", "state"] == "CANCELLED" and jobs.loc["4104", "end_time"] == T("2024-03-05 08:18:21")
    assert jobs.loc["4105", "state"] == "RUNNING" and pd.isna(jobs.loc["4105", "end_time"])
    assert jobs.loc["4106", "state"] == "PENDING"
    assert jobs.loc["4108", "state"] == "FAILED"  # A: aborted


def test_torque_exec_host_quoted_names_and_array_subjobs(jobs):
    assert jobs.loc["4105", "nodelist"] == ["node05", "node06"] and jobs.loc["4105", "alloc_nodes"] == 2
    assert jobs.loc["4105", "time_limit_s"] == 48 * 3600
    assert jobs.loc["4107[3]", "app"] == "sweep 3"


def test_bad_records_are_quarantined_and_duplicates_merged(tmp_path):
    text = LOG.read_text()
    path = tmp_path / "acct"
    path.write_text(text + "garbage line\n" + "13/45/2024 99:00:00;E;1.x;Exit_status=0\n"
                    + "03/05/2024 10:00:00;E;4109.pbs01;Exit_status=zero\n" + text.splitlines()[-1] + "\n")
    result = read_pbs(path)
    result.check_reconciles()
    assert result.counts == {"lines_read": 23, "jobs": 8, "quarantined": 3, "duplicates_merged": 12}
    assert result.quarantine["line"].tolist() == [21, 22, 23]
    assert result.quarantine.loc[2, "reason"] == "field 'Exit_status': not an integer: 'zero'"
    with pytest.raises(InputFileError, match=r"acct:21: not a PBS accounting record"):
        read_pbs(path, strict=True)


def test_a_file_with_no_pbs_record_is_an_error(tmp_path):
    path = tmp_path / "x.log"
    path.write_text("JobID|State\n1|COMPLETED\n")
    with pytest.raises(InputFileError, match=r"x\.log:1: not a PBS accounting log"):
        read_pbs(path)
