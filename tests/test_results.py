"""explain and evaluate return frozen result objects: attributes, JSON, the old dict access (deprecated)."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import hpcpredict as hp
from hpcpredict.explain import ExplainResult, JobExplanation, shap_values
from hpcpredict.features import read_features
from hpcpredict.model import load_model


def test_a_boolean_mask_keeps_each_job_id_with_its_row(pipeline):
    model = load_model(pipeline["model"])
    table = read_features(pipeline["features"]).head(40).reset_index(drop=True)
    explanation = shap_values(model, table)
    mask = (table["req_cpus"] > table["req_cpus"].median()).to_numpy() if "req_cpus" in table.columns else np.arange(40) % 3 == 0
    assert 0 < mask.sum() < 40
    kept = explanation[mask]
    # shap 0.51 alone gave len(mask) names (mask values read as positions 0/1) for mask.sum() rows
    assert list(kept.job_ids) == list(table.loc[mask, "job_id"].astype(str))
    assert list(kept.row_index) == list(np.flatnonzero(mask))
    np.testing.assert_array_equal(kept.values, explanation.values[mask])
    first = kept[0]
    assert first.instance_names == str(table.loc[mask, "job_id"].iloc[0])
    assert isinstance(kept, JobExplanation) and isinstance(explanation[:, 0], JobExplanation)


def test_explain_returns_a_frozen_result_whose_json_is_the_ranking_file(pipeline, tmp_path):
    result = hp.api.explain(pipeline["model"], pipeline["features"], tmp_path / "out", top=5, interactions=0, n_boot=20)
    assert isinstance(result, ExplainResult) and isinstance(result.values, JobExplanation)
    assert result.rows == len(result.values.values) == len(result.job_ids)
    assert list(result.features.columns[:2]) == ["feature", "family"] and len(result.features) == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.unit = "h"
    on_disk = json.loads((tmp_path / "out" / "ranking.json").read_text())
    assert json.loads(result.to_json()) == on_disk
    assert on_disk["features"][0]["feature"] == result.features["feature"].iloc[0]
    assert set(on_disk["plots"]) >= {"features_bar", "families_bar", "beeswarm"}
    assert on_disk["permutation"]["baseline_mae"] == pytest.approx(result.permutation.baseline_mae)
    with pytest.warns(DeprecationWarning, match=r"ExplainResult\['features'\].*ExplainResult.features"):
        assert result["features"][0]["feature"] == result.features["feature"].iloc[0]


def test_evaluate_returns_tables_and_the_cli_prints_its_json(pipeline, tmp_path):
    from typer.testing import CliRunner

    from hpcpredict.cli import app

    result = hp.api.evaluate(pipeline["model"], pipeline["features"], by="partition")
    assert result.predictors[0] == "model" and "requested_limit" in result.predictors
    assert (result.metrics["n"] <= result.rows).all() and result.metrics.loc["model", "n"] == result.rows
    assert result.metrics.loc["model", "mae"] > 0 and isinstance(result.warnings, tuple)
    assert list(result.folds.columns) == ["label", "train_rows", "test_rows", "origin"]
    doc = json.loads(result.to_json(tmp_path / "evaluation.json"))
    assert doc == json.loads((tmp_path / "evaluation.json").read_text())
    assert doc["metrics"]["model"]["mae"] == pytest.approx(result.metrics.loc["model", "mae"])
    assert doc["common"]["rows"] == result.common_rows
    if result.groups is not None and len(result.groups):
        assert set(doc["groups"]) == set(result.groups.index.get_level_values(0))
    printed = CliRunner().invoke(app, ["evaluate", str(pipeline["model"]), str(pipeline["features"]), "--by", "partition", "--json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == doc
    with pytest.warns(DeprecationWarning, match="EvaluationResult"):
        assert result["rows"] == result.rows


def test_scores_tables_round_trip_to_the_json_layout():
    from hpcpredict.evaluate.result import scores_dict, scores_frame

    scores = {"model": {"n": 3, "mae": 1.5, "interval_coverage": 0.8}, "requested_limit": {"n": 0, "mae": float("nan")}}
    frame = scores_frame(scores)
    assert frame.index.name == "predictor" and frame.loc["model", "n"] == 3
    assert scores_dict(frame) == {"model": {"n": 3, "mae": 1.5, "interval_coverage": 0.8}, "requested_limit": {"n": 0, "mae": None}}
    assert isinstance(pd.DataFrame(frame).loc["requested_limit", "mae"], float)


def test_one_job_explained_names_its_job_from_its_row(pipeline):
    from hpcpredict.explain import explain_job

    table = read_features(pipeline["features"])
    one = explain_job(pipeline["model"], table.iloc[[7]])
    assert one.job_id == str(table["job_id"].iloc[7]) == one.instance_names
    with pytest.raises(ValueError, match="one-row explanation"):
        shap_values(load_model(pipeline["model"]), table.head(3)).job_id
