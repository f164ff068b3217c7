"""Column mappings are checked by a schema: units convert, typos and unknown keys are refused by name."""

import pytest
from typer.testing import CliRunner

from hpcpredict.cli import app
from hpcpredict.errors import InputFileError
from hpcpredict.ingest import read_table


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "jobs.csv"
    path.write_text("id,mem,limit,submitted\n1,2,3,1700000000\n")
    return path


def test_gib_converts_and_hours_convert(csv):
    mapping = {"columns": {"job_id": "id", "req_mem_bytes": {"from": "mem", "unit": "GiB"}, "time_limit_s": {"from": "limit", "unit": "h"},
                           "submit_time": {"from": "submitted", "format": "epoch_s"}}}
    jobs = read_table(csv, mapping=mapping).jobs
    assert jobs.loc[0, "req_mem_bytes"] == 2 * 1024**3  # was 2 bytes: an unknown unit scaled by 1
    assert jobs.loc[0, "time_limit_s"] == 3 * 3600


@pytest.mark.parametrize("rule, message", [
    ({"from": "limit", "unti": "h"}, "columns.time_limit_s: unknown key 'unti'"),  # was read as 3 s
    ({"from": "limit", "unit": "hours"}, "columns.time_limit_s.unit: 'hours' is not one of"),
])
def test_a_bad_rule_is_refused_naming_it(csv, tmp_path, rule, message):
    with pytest.raises(InputFileError, match=message):
        read_table(csv, mapping={"columns": {"job_id": "id", "time_limit_s": rule}})
    toml = tmp_path / "map.toml"
    key, value = next((k, v) for k, v in rule.items() if k != "from")
    toml.write_text(f'[columns]\njob_id = "id"\ntime_limit_s = {{ from = "limit", {key} = "{value}" }}\n')
    res = CliRunner().invoke(app, ["ingest", "table", str(csv), "--map", str(toml), "-o", str(tmp_path / "j.parquet")])
    assert res.exit_code == 2 and message in " ".join(res.output.split()) and "Traceback" not in res.output
