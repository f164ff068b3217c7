"""A ``|`` inside a job's name, working directory or submit line, as real Slurm 22.05 writes it.

The fixtures are lines of real dumps from the live cluster of ``make test-slurm``
(tests/data/live-slurm/README.md): sacct does not escape its delimiter.
"""

from __future__ import annotations

from hpcpredict.ingest._repair import repair_fields
from hpcpredict.ingest.slurm import read_sacct

from conftest import DATA

LIVE = DATA / "live-slurm"


def test_a_pipe_in_one_free_text_column_is_repaired():
    result = read_sacct(LIVE / "sacct-pipes.txt")
    jobs = result.jobs.set_index("job_id")
    assert result.quarantine.empty
    assert sorted(jobs.index) == ["19", "20", "21", "22"]
    assert jobs.loc["20", "app"] == "pipe|name"
    assert jobs.loc["22", "work_dir"] == "/scratch/hpcp/work/dir|with pipe"
    assert jobs.loc["21", "app"] == "quote'd `name`"  # sacct prints a double quote as a backquote
    assert (jobs["n_steps"] == 2).all()
    assert result.lines_read == len(result.jobs) + len(result.quarantine) + result.duplicates_merged


def test_steps_of_a_quarantined_job_are_quarantined_not_promoted():
    # Job 20 has '|' in JobName and SubmitLine, job 22 in SubmitLine and WorkDir: which pieces
    # belong where cannot be told, so both are quarantined, and their steps with them.
    result = read_sacct(LIVE / "sacct-text-pipes.txt")
    assert list(result.jobs["job_id"]) == ["21"]
    reasons = dict(zip(result.quarantine["raw"].str.split("|").str[0], result.quarantine["reason"]))
    assert set(reasons) == {"20", "20.batch", "20.extern", "22", "22.batch", "22.extern"}
    assert "could belong to more than one of JobName, Comment, SubmitLine, WorkDir" in reasons["20"]
    assert reasons["20.batch"] == reasons["22.extern"] == "step of a quarantined job"
    assert result.lines_read == len(result.jobs) + len(result.quarantine) + result.duplicates_merged


def test_unit_separator_dump_needs_no_repair():
    # `hpcpredict collect` asks sacct for the ASCII unit separator, which no name carries.
    result = read_sacct(LIVE / "sacct-pipes.usv")
    jobs = result.jobs.set_index("job_id")
    assert result.quarantine.empty
    assert jobs.loc["20", "app"] == "pipe|name"
    assert jobs.loc["22", "work_dir"] == "/scratch/hpcp/work/dir|with pipe"


def test_a_pipe_that_fits_two_columns_is_not_guessed():
    fields, reason = repair_fields(["7", "a", "b", "c", "COMPLETED"], ["JobID", "JobName", "Comment", "State"])
    assert fields is None and "more than one of JobName, Comment" in reason
