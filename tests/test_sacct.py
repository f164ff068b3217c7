"""Slurm sacct dumps: every quirk of real dumps, bad lines, duplicates, streaming."""

import csv
import gzip
import pandas as pd
import pytest

from hpcpredict.errors import InputFileError
from hpcpredict.ingest import ingest, quarantine_path, read_sacct
from hpcpredict.ingest._slurm_values import parse_durations, parse_memory, parse_times, parse_tres

from conftest import DATA

FIXTURE = DATA / "sacct-parsable2.txt"
T = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731


@pytest.fixture(scope="module")
def jobs():
    result = read_sacct(FIXTURE)
    assert result.counts == {"lines_read": 14, "jobs": 8, "quarantined": 0, "duplicates_merged": 6}
    return result.jobs.set_index("job_id", drop=False)


def test_steps_fold_into_their_job_with_the_largest_usage_figure(jobs):
    job = jobs.loc["1001"]
    assert job["n_steps"] == 3  # .batch, .extern, .0
    assert job["max_rss_bytes"] == 2 * 1024**3  # step .0's 2G beats .batch's 1048576K
    assert job["max_vmsize_bytes"] == 3.5 * 1024**3
    assert job["start_time"] == T("2023-03-01 08:05:00")  # the allocation line wins over step times
    assert job["user"] == "alice" and job["app"] == "lammps"  # steps leave these fields empty
    assert jobs.loc["1007", "n_steps"] == 0


def test_array_and_heterogeneous_job_ids(jobs):
    assert jobs.loc["1002_4", ["array_job_id", "array_task_id"]].tolist() == ["1002", "4"]
    pending = jobs.loc["1002_[5-9]"]
    assert pending["array_task_id"] == "[5-9]" and pending["state"] == "PENDING"
    assert pending["nodelist"] == [] and pd.isna(pending["start_time"]) and pd.isna(pending["end_time"])
    assert jobs.loc["1003+1", ["het_job_id", "het_job_offset"]].tolist() == ["1003", 1]
    assert jobs.loc["1002_4", "job_id_raw"] == "1010"


def test_times_iso_epoch_and_unknown(jobs):
    assert jobs.loc["1002_4", "submit_time"] == T("2023-03-01 08:00:00")  # epoch 1677657600
    assert jobs.loc["1005", "end_time"] == T("2023-03-01 10:00:35.250")
    assert pd.isna(jobs.loc["1007", "end_time"])  # Unknown: still running
    assert jobs.loc["1007", "runtime_s"] == 2700  # Elapsed is still known


def test_tz_shifts_iso_times_but_not_epoch_seconds():
    local = read_sacct(FIXTURE, tz="America/Denver").jobs.set_index("job_id")
    assert local.loc["1001", "submit_time"] == T("2023-03-01 15:00:00")  # 08:00 MST = 15:00 UTC
    assert local.loc["1002_4", "submit_time"] == T("2023-03-01 08:00:00")


def test_durations_and_limits(jobs):
    assert jobs.loc["1001", "time_limit_s"] == 86400  # 1-00:00:00
    assert jobs.loc["1005", "time_limit_s"] == 1800  # 30:00 is MM:SS
    assert jobs.loc["1005", "runtime_s"] == 30.25  # 00:30.250
    assert pd.isna(jobs.loc["1003+0", "time_limit_s"])  # UNLIMITED
    assert pd.isna(jobs.loc["1003+1", "time_limit_s"])  # Partition_Limit
    seconds, bad = parse_durations(pd.Series(["2-00:00:00", "10:00", "00:00:01.5", "60", "Partition_Limit", "1:2:3:4"]))
    assert seconds.tolist()[:4] == [172800, 600, 1.5, 3600]
    assert bad.tolist() == [False, False, False, False, False, True]


def test_memory_per_node_per_cpu_and_units(jobs):
    assert jobs.loc["1001", "req_mem_bytes"] == 4000 * 1024**2 * 128  # 4000Mc x 128 CPUs
    assert jobs.loc["1003+0", "req_mem_bytes"] == 2 * 1024**3 * 2  # 2Gn x 2 nodes
    assert jobs.loc["1005", "req_mem_bytes"] == 1024**4  # 1T
    assert jobs.loc["1006", "req_mem_bytes"] == 1000 * 1024**2
    values, bad = parse_memory(pd.Series(["512", "2T", "1.5G", "", "12Q"]), default_unit="M")
    assert values.tolist()[:3] == [512 * 1024**2, 2 * 1024**4, 1.5 * 1024**3] and bad.tolist()[-1]


def test_tres_strings_become_columns(jobs):
    assert jobs.loc["1002_4", "req_gpus"] == 2
    assert jobs.loc["1003+1", "req_gpus"] == 4  # gres/gpu:a100=4
    assert pd.isna(jobs.loc["1001", "req_gpus"])
    assert jobs.loc["1001", "req_tres_mem_bytes"] == 500 * 1024**3
    assert jobs.loc["1001", "req_billing"] == 128
    cols, _ = parse_tres(pd.Series(["cpu=2,mem=100M,node=1,billing=2,gres/gpu:v100=1,gres/gpu:a100=2"]), "alloc")
    assert cols.loc[0, "alloc_gpus"] == 3 and cols.loc[0, "alloc_tres_mem_bytes"] == 100 * 1024**2


def test_nodelists_are_expanded(jobs):
    assert jobs.loc["1001", "nodelist"] == ["nid00001", "nid00002", "nid00003", "nid00004"]
    assert jobs.loc["1005", "nodelist"] == ["node3", "node4", "gpu01"]
    assert jobs.loc["1001", "alloc_nodes"] == 4


def test_states_and_exit_codes(jobs):
    assert jobs.loc["1003+0", "state"] == "CANCELLED" and jobs.loc["1003+0", "state_raw"] == "CANCELLED by 1234"
    assert jobs.loc["1002_4", "state"] == "TIMEOUT"  # the job's line wins over its step's CANCELLED
    assert jobs.loc["1005", "state"] == "OUT_OF_MEMORY" and jobs.loc["1006", "state"] == "NODE_FAIL"
    assert jobs.loc["1007", "state"] == "RUNNING"
    assert jobs.loc["1002_4", ["exit_code", "exit_signal"]].tolist() == [0, 15]
    assert jobs.loc["1006", "exit_code"] == 1


def test_unknown_columns_are_kept_in_snake_case(jobs):
    assert jobs.loc["1001", "priority"] == "4200"


def test_parsable_with_trailing_bar_and_csv_export_read_the_same(tmp_path, jobs):
    lines = FIXTURE.read_text().splitlines()
    trailing = tmp_path / "parsable.txt"
    trailing.write_text("".join(line + "|\n" for line in lines))
    exported = tmp_path / "export.csv"
    with open(exported, "w", newline="") as fh:
        csv.writer(fh).writerows(line.split("|") for line in lines)
    for path in (trailing, exported):
        other = read_sacct(path).jobs.set_index("job_id", drop=False)
        pd.testing.assert_frame_equal(other, jobs)


def test_gzip_and_noheader_with_columns(tmp_path, jobs):
    text = FIXTURE.read_text()
    gz = tmp_path / "dump.txt.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    pd.testing.assert_frame_equal(read_sacct(gz).jobs.set_index("job_id", drop=False), jobs)
    header, body = text.split("\n", 1)
    bare = tmp_path / "noheader.txt"
    bare.write_text(body)
    assert read_sacct(bare, columns=header.split("|")).counts["jobs"] == 8


@pytest.mark.parametrize("chunk_lines", [1, 4, 1000])
def test_blocks_of_any_size_give_the_same_table(chunk_lines, jobs):
    result = read_sacct(FIXTURE, chunk_lines=chunk_lines)
    pd.testing.assert_frame_equal(result.jobs.set_index("job_id", drop=False), jobs)
    assert result.counts["duplicates_merged"] == 6


@pytest.mark.parametrize("chunk_lines", [8, 1000])
def test_concatenated_dumps_merge_duplicates_with_a_count(tmp_path, chunk_lines, jobs):
    twice = tmp_path / "twice.txt"
    twice.write_text(FIXTURE.read_text() * 2)  # the second header line is skipped
    result = read_sacct([twice, FIXTURE], chunk_lines=chunk_lines)
    assert result.counts == {"lines_read": 42, "jobs": 8, "quarantined": 0, "duplicates_merged": 34}
    assert result.metadata["steps_folded"] + result.metadata["duplicate_records"] == 34
    pd.testing.assert_frame_equal(result.jobs.set_index("job_id", drop=False), jobs)


def _bad_dump(tmp_path):
    lines = FIXTURE.read_text().splitlines()
    bad = lines[:1] + [
        lines[1],
        lines[2],
        "1001.9|too|few",  # wrong field count
        lines[5].replace("1677657600", "yesterday", 1),  # 1002_4: bad Submit, its step follows
        lines[6],
        lines[12].replace("|1000M|", "|lots|"),  # 1006: bad ReqMem, its step follows
        lines[13],
        lines[14],
    ]
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(bad) + "\n")
    return path


def test_bad_lines_are_quarantined_with_file_line_raw_and_reason(tmp_path):
    path = _bad_dump(tmp_path)
    result = read_sacct(path)
    result.check_reconciles()
    assert result.counts == {"lines_read": 8, "jobs": 2, "quarantined": 5, "duplicates_merged": 1}
    q = result.quarantine.set_index("line")
    assert q.loc[4, "reason"] == "expected 27 fields, found 3" and q.loc[4, "raw"] == "1001.9|too|few"
    assert q.loc[5, "reason"] == "field 'submit_time': cannot read 'yesterday'"
    assert q.loc[6, "reason"] == "step of a quarantined job"
    assert q.loc[7, "reason"] == "field 'ReqMem': cannot read 'lots'"
    assert q.loc[8, "reason"] == "step of a quarantined job"
    assert set(q["file"]) == {str(path)}
    assert sorted(result.jobs["job_id"]) == ["1001", "1007"]


def test_strict_stops_at_the_first_bad_line(tmp_path):
    with pytest.raises(InputFileError, match=r"bad\.txt:4: expected 27 fields, found 3"):
        read_sacct(_bad_dump(tmp_path), strict=True)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"\n1 2 3 4\n", r":2: not a sacct dump: the header line should name JobID"),
        (b"\xff\xfe\x00\x01garbage", "not a text file"),
    ],
)
def test_wrong_header_or_binary_file_is_one_error_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "dump.txt"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_sacct(path)
    with pytest.raises(InputFileError, match="no such file"):
        read_sacct(tmp_path / "missing.txt")


def test_ingest_streams_to_parquet_the_same_jobs_and_quarantine(tmp_path):
    path = _bad_dump(tmp_path)
    out = tmp_path / "jobs.parquet"
    counts = ingest("sacct", [path, FIXTURE], out, chunk_lines=5)
    # 1001 and 1007 were written from the first file, so their records in FIXTURE are duplicates;
    # 1002_4 and 1006 were quarantined there, so FIXTURE's records of them become jobs.
    assert counts == {"lines_read": 22, "jobs": 8, "quarantined": 5, "duplicates_merged": 9}
    written = pd.read_parquet(out)
    assert sorted(written["job_id"]) == sorted(read_sacct([path, FIXTURE]).jobs["job_id"])
    assert list(written.loc[written["job_id"] == "1001", "nodelist"].iloc[0]) == [f"nid0000{i}" for i in range(1, 5)]
    assert str(written["submit_time"].dtype) == "datetime64[ns, UTC]"
    q = pd.read_parquet(quarantine_path(out))
    assert list(q.columns) == ["file", "line", "raw", "reason"] and len(q) == 5


def test_failed_stream_leaves_no_output(tmp_path):
    out = tmp_path / "jobs.parquet"
    with pytest.raises(InputFileError):
        ingest("sacct", [FIXTURE, tmp_path / "missing.txt"], out)
    assert list(tmp_path.iterdir()) == []


def test_cli_prints_counts_and_exits_2_on_a_wrong_header(tmp_path):
    from typer.testing import CliRunner

    from hpcpredict.cli import app

    runner = CliRunner()
    out = tmp_path / "jobs.parquet"
    ok = runner.invoke(app, ["ingest", "sacct", str(FIXTURE), "-o", str(out), "--tz", "UTC"])
    assert ok.exit_code == 0 and "14 records: 8 jobs" in ok.output and "6 merged into their job" in ok.output
    assert len(pd.read_parquet(out)) == 8
    bad = tmp_path / "x.txt"
    bad.write_text("hello|world\n1|2\n")
    err = runner.invoke(app, ["ingest", "sacct", str(bad), "-o", str(tmp_path / "other.parquet")])
    assert err.exit_code == 2
    assert " ".join(err.output.split()) == (
        f"error: {bad}:1: not a sacct dump: the header line should name JobID or JobIDRaw, found 'hello|world'"
    )


def test_parse_times_rejects_garbage_and_reads_offsets():
    times, bad = parse_times(pd.Series(["2023-01-01T00:00:00", "None", "", "2023-13-45T00:00:00", "0"]))
    assert bad.tolist() == [False, False, False, True, False]
    assert times.iloc[4] == T("1970-01-01")


_HEAD = "JobID|JobIDRaw|User|Account|Partition|State|Submit|Start|End|Elapsed|Timelimit|NNodes|NCPUS|NodeList\n"
_RUNNING = ("101|101|alice|p|batch|RUNNING|2024-03-01T10:00:00|2024-03-01T10:05:00|Unknown|00:10:00|01:00:00|1|4|n1\n"
            "101.batch|101.batch||p||RUNNING|2024-03-01T10:05:00|2024-03-01T10:05:00|Unknown|00:10:00||1|4|n1\n")
_DONE = ("101|101|alice|p|batch|COMPLETED|2024-03-01T10:00:00|2024-03-01T10:05:00|2024-03-01T10:45:00|00:40:00|01:00:00|1|4|n1\n"
         "101.batch|101.batch||p||COMPLETED|2024-03-01T10:05:00|2024-03-01T10:05:00|2024-03-01T10:45:00|00:40:00||1|4|n1\n"
         "102|102|bob|p|batch|COMPLETED|2024-03-01T11:00:00|2024-03-01T11:00:00|2024-03-01T11:10:00|00:10:00|01:00:00|1|4|n2\n")


@pytest.mark.parametrize("order", ["running first", "completed first", "one file"])
def test_a_job_running_in_one_daily_dump_and_completed_in_the_next_is_kept_completed(tmp_path, order):
    (tmp_path / "day1.txt").write_text(_HEAD + _RUNNING)
    (tmp_path / "day2.txt").write_text(_HEAD + _DONE)
    (tmp_path / "both.txt").write_text(_HEAD + _RUNNING + _DONE)
    files = {"running first": ["day1.txt", "day2.txt"], "completed first": ["day2.txt", "day1.txt"], "one file": ["both.txt"]}[order]
    paths = [tmp_path / f for f in files]
    counts = ingest("sacct", paths, tmp_path / "jobs.parquet", chunk_lines=2)  # streamed, blocks of 2 lines
    written = pd.read_parquet(tmp_path / "jobs.parquet")
    in_memory = read_sacct(paths).jobs
    for jobs in (written, in_memory):
        job = jobs.set_index("job_id").loc["101"]
        assert job["state"] == "COMPLETED" and job["runtime_s"] == 2400.0 and job["n_steps"] == 1
        assert sorted(jobs["job_id"]) == ["101", "102"]
    # 5 lines: 2 jobs written, the 2 step lines folded, the RUNNING record superseded
    assert counts == {"lines_read": 5, "jobs": 2, "quarantined": 0, "duplicates_merged": 3}
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no scratch file left
