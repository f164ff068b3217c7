"""Per-job tables through column mappings: presets, TOML files, bad values."""

import pandas as pd
import pytest

from hpcpredict.errors import InputFileError, ParameterError
from hpcpredict.ingest import PRESETS, read_table
from hpcpredict.ingest.table import load_mapping

from conftest import DATA

EAGLE = DATA / "nrel-eagle-first40.csv"


def test_presets_ship_inside_the_package():
    assert set(PRESETS) >= {"nrel-eagle", "mit-supercloud"}
    assert load_mapping(preset="mit-supercloud")["columns"]["time_limit_s"]["unit"] == "min"


def test_eagle_preset_maps_units_and_times():
    result = read_table(EAGLE, preset="nrel-eagle")
    assert result.counts == {"lines_read": 40, "jobs": 40, "quarantined": 0, "duplicates_merged": 0}
    job = result.jobs.iloc[0]
    # 532209,user0014,account0003,partition001,normal,172800.0,10,10,0,0.0,2019-01-01 08:55:55,...
    assert job["job_id"] == "532209" and job["user"] == "user0014" and job["app"] == "name00005115"
    assert job["time_limit_s"] == 172800 and job["req_nodes"] == 10 and job["req_cpus"] == 10
    assert pd.isna(job["req_mem_bytes"])  # 0.0 means "not given"
    assert job["submit_time"] == pd.Timestamp("2019-01-01 08:55:55", tz="UTC")
    assert job["runtime_s"] == 99825 and job["state"] == "COMPLETED"
    assert job["work_dir"] == "work_dir00003818"  # unmapped columns are kept


def test_mapping_file_and_bad_values(tmp_path):
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\njob_id = "id"\nstart_time = { from = "t0", format = "epoch_s" }\n'
        'time_limit_s = { from = "lim", unit = "h" }\nnodelist = { from = "hosts", parse = "hostlist" }\n'
        'state = { from = "st", map = { "ok" = "COMPLETED" } }\n'
    )
    data = tmp_path / "jobs.csv"
    data.write_text('id,t0,lim,hosts,st,extra\n1,1700000000,2,"n[1-2]",ok,a\n2,soon,1,n3,ok,b\n3,1700000100,x,n4,ok,c\n')
    result = read_table(data, mapping=mapping)
    result.check_reconciles()
    assert result.counts == {"lines_read": 3, "jobs": 1, "quarantined": 2, "duplicates_merged": 0}
    job = result.jobs.iloc[0]
    assert job["time_limit_s"] == 7200 and job["nodelist"] == ["n1", "n2"] and job["state"] == "COMPLETED"
    assert job["extra"] == "a"
    q = result.quarantine
    assert q["line"].tolist() == [3, 4]
    assert q.loc[0, "reason"] == "field 't0': cannot read 'soon'" and q.loc[0, "raw"] == "2,soon,1,n3,ok,b"
    parquet = tmp_path / "jobs.parquet"
    pd.read_csv(data, dtype=str).to_parquet(parquet)
    assert read_table(parquet, mapping=mapping).counts["jobs"] == 1


def test_missing_columns_bad_toml_and_unknown_preset_are_clear_errors(tmp_path):
    with pytest.raises(InputFileError, match=r"the mapping needs columns \['cpus_req'"):
        read_table(EAGLE, preset="mit-supercloud")
    bad = tmp_path / "bad.toml"
    bad.write_text("[columns\n")
    with pytest.raises(InputFileError, match="not valid TOML"):
        read_table(EAGLE, mapping=bad)
    with pytest.raises(ParameterError, match="'preset' parameter must be one of"):
        read_table(EAGLE, preset="nope")


def test_cli_table_and_pbs_commands(tmp_path):
    from typer.testing import CliRunner

    from hpcpredict.cli import app

    runner = CliRunner()
    out = tmp_path / "jobs.parquet"
    ok = runner.invoke(app, ["ingest", "table", str(EAGLE), "--preset", "nrel-eagle", "-o", str(out)])
    assert ok.exit_code == 0 and "40 records: 40 jobs" in ok.output
    assert len(pd.read_parquet(out)) == 40
    neither = runner.invoke(app, ["ingest", "table", str(EAGLE), "-o", str(out)])
    assert neither.exit_code == 2 and "exactly one of a preset name or a mapping file" in neither.output
    pbs = runner.invoke(app, ["ingest", "pbs", str(DATA / "pbs-accounting-20240305"), "-o", str(tmp_path / "p.parquet")])
    assert pbs.exit_code == 0 and "19 records: 8 jobs" in pbs.output and "11 merged into their job" in pbs.output
