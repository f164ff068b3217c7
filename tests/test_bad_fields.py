"""One bad field is one quarantined line, in every reader: never a traceback, never a silent row."""

import gzip
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from hpcpredict.errors import InputFileError, ParameterError
from hpcpredict.ingest import ingest, ingest_samples, quarantine_path, read_pbs, read_sacct, read_swf
from hpcpredict.schema import Plausibility, implausible, plausibility_rules

from conftest import DATA

SWF_LINES = (DATA / "cerit-wagap-2013-first30.swf").read_text().splitlines()
SWF_HEAD = [line for line in SWF_LINES if line.startswith(";")]
SWF_BODY = [line for line in SWF_LINES if not line.startswith(";")][:3]
SACCT = (DATA / "sacct-parsable2.txt").read_text().splitlines()
SACCT_COLS = SACCT[0].split("|")
PBS = (DATA / "pbs-accounting-20240305").read_text()
EAGLE = (DATA / "nrel-eagle-first40.csv").read_text().splitlines()


def swf_with(fields: dict) -> str:
    parts = SWF_BODY[0].split()
    for i, value in fields.items():
        parts[i] = value
    return "\n".join(SWF_HEAD + SWF_BODY + [" ".join(parts)]) + "\n"


def sacct_with(fields: dict) -> str:
    row = SACCT[1].replace("1001", "7777").split("|")
    for name, value in fields.items():
        row[SACCT_COLS.index(name)] = value
    return "\n".join(SACCT + ["|".join(row)]) + "\n"


def write(tmp_path, text, name="in.txt"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def quarantined_one(counts, out, words):
    """The counts reconcile, one line is quarantined, and its reason says ``words``."""
    assert counts["lines_read"] == counts["jobs"] + counts["quarantined"] + counts["duplicates_merged"]
    assert counts["quarantined"] == 1
    q = pd.read_parquet(quarantine_path(out))
    assert words in q.loc[0, "reason"], q.loc[0, "reason"]
    assert implausible(pd.read_parquet(out)).isna().all()


@pytest.mark.parametrize("fields, words", [
    ({0: "9" * 400}, "'job_number' is out of range"),
    ({3: "9" * 400}, "'run_time' is out of range"),
    ({1: "9999999999"}, "past what a timestamp holds"),
    ({3: "-50"}, "'end_time'"),
])
def test_swf_fields_out_of_range_are_quarantined(tmp_path, fields, words):
    out = tmp_path / "j.parquet"
    quarantined_one(ingest("swf", [write(tmp_path, swf_with(fields))], out), out, words)


@pytest.mark.parametrize("fields, words", [
    ({"End": "9999-12-31T23:59:59"}, "field 'end_time': cannot read '9999-12-31T23:59:59'"),
    ({"Submit": "9999999999"}, "field 'submit_time'"),
    ({"NNodes": "1e308"}, "field 'alloc_nodes'"),
    ({"ReqNodes": "9" * 400}, "field 'req_nodes'"),
    ({"End": "2023-03-01T07:00:00", "Elapsed": ""}, "'end_time' 2023-03-01 07:00:00+00:00 is before 'start_time'"),
    ({"Submit": "1900-01-01T00:00:00", "Eligible": "1900-01-01T00:00:00", "Start": "1900-01-01T00:00:00"}, "outside 1980-01-01 .. 2100-01-01"),
    ({"State": "WEIRD"}, "'state' 'WEIRD' is not a known job state"),
    ({"ReqCPUS": "-4"}, "'req_cpus' is negative"),
    ({"Timelimit": "999999999-00:00:00"}, "'time_limit_s' is beyond"),
])
def test_sacct_values_out_of_range_or_rule_are_quarantined(tmp_path, fields, words):
    out = tmp_path / "j.parquet"
    counts = ingest("sacct", [write(tmp_path, sacct_with(fields))], out)
    quarantined_one(counts, out, words)
    assert "7777" not in set(pd.read_parquet(out)["job_id"])


def test_the_date_window_is_configurable(tmp_path):
    path = write(tmp_path, sacct_with({"Submit": "1975-01-01T00:00:00", "Eligible": "1975-01-01T00:00:00"}))
    assert len(read_sacct(path).quarantine) == 1
    with plausibility_rules(Plausibility(earliest=pd.Timestamp("1970-01-01", tz="UTC"))):
        assert len(read_sacct(path).quarantine) == 0


def test_line_ends_and_byte_order_marks_lose_no_record(tmp_path):
    text = "\n".join(SACCT) + "\n"
    plain = read_sacct(write(tmp_path, text, "plain.txt")).counts
    assert plain["jobs"] > 0
    for name, variant in (("cr.txt", text.replace("\n", "\r")), ("crlf.txt", text.replace("\n", "\r\n")), ("bom.txt", "\ufeff" + text)):
        result = read_sacct(write(tmp_path, variant, name))
        assert result.counts == plain, name
        assert result.jobs["job_id"].notna().all()
    swf = "\n".join(SWF_HEAD + SWF_BODY) + "\n"
    for name, variant in (("cr.swf", swf.replace("\n", "\r")), ("bom.swf", "\ufeff" + swf), ("crlf.swf", swf.replace("\n", "\r\n"))):
        assert read_swf(write(tmp_path, variant, name)).counts["jobs"] == 3, name
    assert read_pbs(write(tmp_path, PBS.replace("\n", "\r"), "cr.pbs")).counts == read_pbs(DATA / "pbs-accounting-20240305").counts


def test_a_lone_carriage_return_does_not_make_a_fragment_a_record(tmp_path):
    swf = "\n".join(SWF_HEAD + SWF_BODY[:2] + [SWF_BODY[2].replace(" ", " \r", 1)]) + "\n"
    assert read_swf(write(tmp_path, swf, "a.swf")).counts == {"lines_read": 3, "jobs": 3, "quarantined": 0, "duplicates_merged": 0}
    rows = SACCT[:2] + [SACCT[2].replace("|proj1|", "|pr\roj1|")] + SACCT[3:]
    result = read_sacct(write(tmp_path, "\n".join(rows) + "\n"))
    assert result.counts["lines_read"] == len(SACCT) - 1
    assert "carriage return" in result.quarantine.loc[0, "reason"]


@pytest.mark.parametrize("fmt, text, options", [
    ("swf", "\n".join(SWF_LINES) + "\n", {}),
    ("sacct", "\n".join(SACCT * 30) + "\n", {}),
    ("pbs", PBS, {}),
    ("table", "\n".join(EAGLE) + "\n", {"preset": "nrel-eagle"}),
])
def test_a_corrupt_gzip_is_one_line_naming_the_file(tmp_path, fmt, text, options):
    data = bytearray(gzip.compress(text.encode()))
    data[len(data) // 2] ^= 0xFF  # one flipped byte: zlib.error, which reached the user as "Aborted."
    path = write(tmp_path, bytes(data), "dump.gz")
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "ingest", fmt, str(path), "-o", str(tmp_path / "j.parquet"),
                          *[f"--{k}={v}" for k, v in options.items()]], capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "Aborted" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and str(path) in out.stderr


def test_a_bogus_time_zone_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="'tz' parameter must be a time zone"):
        read_sacct(write(tmp_path, "\n".join(SACCT) + "\n"), tz="Mars/Olympus")
    with pytest.raises(ParameterError, match="'tz' parameter must be a time zone"):
        read_pbs(DATA / "pbs-accounting-20240305", tz="Nowhere/Land")


def test_pbs_year_9999_and_huge_epochs_are_quarantined(tmp_path):
    for text, words in ((PBS.replace("03/05/2024 08:00:03;S;4101", "03/05/9999 08:00:03;S;4101"), "record time"),
                        (PBS.replace("start=1709625603", "start=99999999999999", 1), "not epoch seconds")):
        out = tmp_path / "j.parquet"
        counts = ingest("pbs", [write(tmp_path, text, "acct")], out)
        assert counts["quarantined"] == 1 and words in pd.read_parquet(quarantine_path(out)).loc[0, "reason"]
        assert counts["lines_read"] == counts["jobs"] + counts["quarantined"] + counts["duplicates_merged"]


@pytest.mark.parametrize("change, words", [
    (("2019-01-01 08:55:56", "9999-12-31 00:00:00"), "cannot read"),
    ((",10,10,", ",1e308,10,"), "cannot read"),
    (("172800.0", "-5"), "'time_limit_s' is negative"),
])
def test_table_values_out_of_range_are_quarantined(tmp_path, change, words):
    out = tmp_path / "j.parquet"
    text = "\n".join(EAGLE[:5] + [EAGLE[5].replace(*change, 1)]) + "\n"
    quarantined_one(ingest("table", [write(tmp_path, text, "t.csv")], out, preset="nrel-eagle"), out, words)


@pytest.mark.parametrize("name, old, new, words", [
    ("aries_nic_mmr.1700000000", b"18446744073709544416", b"18446744073709551616000", "field 'AR_NIC_NETMON_ORB_EVENT_CNTR_REQ_FLITS' is not a number"),
    ("meminfo.1700000000", b"1700000000.001744", b"inf", "field 'Time'"),
    ("meminfo.1700000000", b"1700000000.001744", b"99999999999.0", "field 'Time' is outside"),
])
def test_ldms_bad_values_are_quarantined_and_make_no_far_future_day(tmp_path, name, old, new, words):
    folder = tmp_path / "ldms"
    shutil.copytree(DATA / "ldms", folder)
    path = folder / name
    path.write_bytes(path.read_bytes().replace(old, new, 1))
    clean = ingest_samples("ldms", [DATA / "ldms"], tmp_path / "clean")
    counts = ingest_samples("ldms", [folder], tmp_path / "samples")
    assert counts["quarantined"] == clean["quarantined"] + 1
    assert counts["lines_read"] == counts["records"] + counts["quarantined"] + counts["duplicates_merged"]
    reasons = pd.read_parquet(quarantine_path(tmp_path / "samples"))["reason"]
    assert reasons.str.contains(words, regex=False).sum() == 1
    assert sorted(p.name for p in (tmp_path / "samples").glob("samples-*")) == ["samples-2023-11-14.parquet"]


def test_an_ldms_header_repeating_a_metric_is_refused_naming_the_file(tmp_path):
    folder = tmp_path / "ldms"
    shutil.copytree(DATA / "ldms", folder)
    path = folder / "meminfo.1700000000"
    path.write_bytes(path.read_bytes().replace(b"MemFree,MemAvailable", b"MemFree,MemFree", 1))
    with pytest.raises(InputFileError, match="names 'MemFree' twice") as err:
        ingest_samples("ldms", [folder], tmp_path / "samples")
    assert str(path) in str(err.value)
