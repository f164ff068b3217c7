import gzip

import pandas as pd
import pytest

from hpcpredict.errors import InputFileError
from hpcpredict.ingest import quarantine_path, read_swf, write_ingest_result


def test_reads_every_job_of_the_slice_with_spot_checked_values(kth_slice):
    result = read_swf(kth_slice)
    assert result.counts == {"lines_read": 3000, "jobs": 3000, "quarantined": 0, "duplicates_merged": 0}
    first = result.jobs.iloc[0]
    # "15 599850 192180 3477 4 -1 -1 4 53940 -1 1 12 12 ..." with UnixStartTime 843480031
    assert first["job_id"] == "15"
    assert first["submit_time"] == pd.Timestamp(843480031 + 599850, unit="s", tz="UTC")
    assert first["start_time"] == first["submit_time"] + pd.Timedelta(seconds=192180)
    assert first["runtime_s"] == 3477
    assert first["time_limit_s"] == 53940
    assert first["req_cpus"] == 4
    assert first["user"] == "12"
    assert first["state"] == "COMPLETED"
    assert pd.isna(first["req_mem_bytes"]) and pd.isna(first["app"])  # -1 means not known
    assert result.jobs.loc[2, "state"] == "FAILED"  # status 0
    assert str(result.jobs["submit_time"].dtype) == "datetime64[ns, UTC]"


def test_full_trace_count_matches_its_readme(kth_full):
    assert read_swf(kth_full).counts["jobs"] == 28476


def _write(tmp_path, text, name="t.swf"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = "1 0 10 100 4 -1 -1 4 600 -1 1 7 7 -1 1 -1 -1 -1\n"


def test_bad_lines_are_quarantined_with_reason_and_counts_reconcile(tmp_path):
    path = _write(tmp_path, "; UnixStartTime: 0\n" + GOOD + "2 5 0 x 4\n" + "3 9 0 50 2 -1 -1 2 60 -1 1 8 8 -1 1 -1 -1 -1\n" + "4 1 0 abc 4 -1 -1 4 600 -1 1 7 7 -1 1 -1 -1 -1\n")
    result = read_swf(path)
    assert result.counts == {"lines_read": 4, "jobs": 2, "quarantined": 2, "duplicates_merged": 0}
    q = result.quarantine
    assert list(q["line"]) == [3, 5]
    assert q.loc[0, "reason"] == "expected 18 fields, found 5"
    assert "'run_time' is not a number" in q.loc[1, "reason"]
    assert q.loc[1, "raw"].startswith("4 1 0 abc")
    out = tmp_path / "jobs.parquet"
    write_ingest_result(result, out)
    assert len(pd.read_parquet(out)) == 2
    assert len(pd.read_parquet(quarantine_path(out))) == 2


def test_strict_mode_stops_at_the_first_bad_line_naming_it(tmp_path):
    path = _write(tmp_path, GOOD + "2 5 0\n")
    with pytest.raises(InputFileError, match=r"t\.swf:2: expected 18 fields, found 3"):
        read_swf(path, strict=True)


def test_a_file_that_is_not_swf_is_refused(tmp_path):
    path = _write(tmp_path, "job,submit\n1,2\n")
    with pytest.raises(InputFileError, match=r"t\.swf:1: not an SWF trace"):
        read_swf(path)


def test_missing_and_truncated_files_name_the_file(tmp_path, kth_full):
    with pytest.raises(InputFileError, match="nope.swf: no such file"):
        read_swf(tmp_path / "nope.swf")
    cut = tmp_path / "cut.swf.gz"
    cut.write_bytes(kth_full.read_bytes()[:2000])
    with pytest.raises(InputFileError, match=r"cut\.swf\.gz:\d+: truncated"):
        read_swf(cut)


def test_gzip_extra_fields_and_duplicates(tmp_path):
    path = tmp_path / "x.swf.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("; UnixStartTime: 1000\n" + GOOD.strip() + " node1,node2\n" + GOOD.strip() + " node1,node2\n")
    result = read_swf(path)
    assert result.counts == {"lines_read": 2, "jobs": 1, "quarantined": 0, "duplicates_merged": 1}
    assert result.jobs.loc[0, "swf_field_19"] == "node1,node2"
    assert result.jobs.loc[0, "submit_time"] == pd.Timestamp(1000, unit="s", tz="UTC")
