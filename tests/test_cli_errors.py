"""Every command answers bad input with one line on stderr and exit status 2, never a traceback."""

import pytest
from typer.testing import CliRunner

import hpcpredict as hp
from hpcpredict.cli import app


@pytest.fixture(scope="module")
def start_model(pipeline, tmp_path_factory):
    """A model of the start horizon (wait and queue at start), which cannot predict queued jobs."""
    out = tmp_path_factory.mktemp("start")
    hp.api.features(pipeline["jobs"], out / "features.parquet", horizon="start")
    hp.train(out / "features.parquet", out / "model", n_estimators=20)
    return out / "model"


@pytest.fixture(scope="module")
def files(pipeline, start_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("bad")
    (out / "queue.csv").write_text("job_id,user,time_limit_s,req_nodes\n1,u1,3600,2\n")
    (out / "bad_queue.csv").write_text("job_id,user,time_limit_s,req_nodes\n1,u1,3600,2\n2,u2,ten hours,1\n")
    return {**{k: str(v) for k, v in pipeline.items()}, "start": str(start_model), "queue": str(out / "queue.csv"), "bad_queue": str(out / "bad_queue.csv"), "out": str(out), "missing": str(out / "nothing.parquet")}


# (command line, words the one-line error must hold); {name} is a path from `files`
CASES = [
    (["ingest", "swf", "{missing}", "-o", "{out}/j.parquet"], "no such file"),
    (["ingest", "sacct", "{missing}", "-o", "{out}/j.parquet"], "nothing.parquet"),
    (["ingest", "pbs", "{missing}", "-o", "{out}/j.parquet"], "nothing.parquet"),
    (["ingest", "table", "{missing}", "-o", "{out}/j.parquet", "--preset", "no-such-preset"], "preset"),
    (["ingest", "ldms", "{missing}", "-o", "{out}/s"], "nothing.parquet"),
    (["ingest", "samples", "{missing}", "-o", "{out}/s"], "nothing.parquet"),
    (["features", "--jobs", "{missing}", "-o", "{out}/f.parquet"], "no such file"),
    (["features", "--jobs", "{jobs}", "-o", "{out}/f.parquet", "--with", "user-actvity"], "'optional (--with)' parameter must be one of 'user-activity'. Got 'user-actvity'"),
    (["train", "{missing}", "-o", "{out}/m"], "no such file"),
    (["evaluate", "{model}", "{missing}"], "no such file"),
    (["evaluate", "{model}", "--replay"], "'jobs' parameter"),
    (["predict", "{model}", "--queue", "{queue}"], "give the jobs table with --jobs"),
    (["predict", "{model}", "--queue", "{bad_queue}", "--jobs", "{jobs}"], "bad_queue.csv:3: field 'time_limit_s': not a number: 'ten hours'"),
    (["predict", "{model}", "--queue", "{queue}", "--jobs", "{jobs}", "--at", "yesterday"], "'at' parameter"),
    (["predict", "{start}", "--queue", "{queue}", "--jobs", "{jobs}"], "trained for the 'start' horizon"),
    (["explain", "{model}", "{features}", "--device", "gpu0"], "'device' parameter"),
    (["report", "{missing}", "{features}", "-o", "{out}/r.html"], "not a model bundle"),
    (["serve", "{missing}"], "not a model bundle"),
    (["demo", "--dataset", "nope", "-o", "{out}/demo"], "'dataset' parameter"),
    (["simulate", "-o", "{out}/sim", "--preset", "nope"], "preset"),
    (["schedule", "{missing}"], "nothing.parquet"),
]


@pytest.mark.parametrize("line, words", CASES, ids=[" ".join(c[0][:2]) + f"-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_one_line_and_exit_2(files, line, words):
    args = [part.format(**files) for part in line]
    res = CliRunner().invoke(app, args)
    text = " ".join(res.output.split())  # rich wraps long lines
    assert res.exit_code == 2, (args, res.output, res.exception)
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit), res.output
    assert words in text, text


def test_explain_takes_the_devices_train_takes(pipeline):
    """'cuda:0' is refused by nothing that train accepts (without a GPU XGBoost falls back to the CPU)."""
    from hpcpredict.explain import shap_values
    from hpcpredict.features import read_features
    from hpcpredict.model import RuntimeModel

    model = RuntimeModel.load(pipeline["model"])
    rows = read_features(pipeline["features"]).iloc[:50]
    cpu = shap_values(model, rows)
    assert shap_values(model, rows, device="cuda:0").values.shape == cpu.values.shape
    with pytest.raises(hp.ParameterError, match="'cpu', 'cuda' or 'cuda:<n>'"):
        shap_values(model, rows, device="gpu0")
