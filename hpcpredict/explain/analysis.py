"""The ``explain`` verb: SHAP values, rankings with confidence, cohorts, drift, interactions, files."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

import pandas as pd

from .._atomic import atomic_dir, write_parquet
from .._outputs import check_output
from ..errors import ParameterError
from ..model import RuntimeModel, check_table
from ..model.train import table_for
from ..scale import client_for
from .crosscheck import permutation_check
from .drift import drift_summary, rank_by_window
from .interactions import interaction_matrix, top_interactions
from .plots import plot_beeswarm, plot_dependence, plot_drift_heatmap, plot_family_bar, plot_feature_bar, plot_interactions, save
from .rankings import bootstrap_rankings, rank_by_cohort
from .result import ExplainResult
from .sampling import ranking_stability, stable_shap_values
from .values import shap_values

__all__ = ["explain"]


def explain(
    model: RuntimeModel | str | os.PathLike[str],
    features: pd.DataFrame | str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    top: int = 15,
    rows: str = "test",
    sample: int | None = None,
    exhaustive: bool = False,
    max_rows: int = 20000,
    device: str = "cpu",
    window: str = "M",
    cohorts: tuple[str, ...] = ("app", "partition"),
    n_boot: int = 200,
    interactions: int = 100,
    permutation: bool = True,
    dependence: int = 3,
    seed: int = 0,
    dask=None,
) -> ExplainResult:
    """Explain a model on a feature table: which features and families dominate its predictions.

    Parameters
    ----------
    model : RuntimeModel or path
        A trained model.
    features : DataFrame or path
        A feature table of the model's horizon.
    output : path, optional
        Folder for ``shap_values.parquet`` (tidy: job_id, feature, family, value, shap),
        ``ranking.json``, ``cohorts.parquet``, ``windows.parquet``, ``interactions.parquet`` and
        the plots (``features_bar.png``, ``families_bar.png``, ``beeswarm.png``,
        ``drift_heatmap.png``, ``interactions.png``, ``dependence_<feature>.png``).
    top : int
        Features shown in the plots and listed in the returned ranking.
    rows : {"test", "all"}
        Explain the held-out later jobs (default) or every job with a feature row.
    sample : int, optional
        Explain a uniform random sample of this many rows (see :func:`shap_values`).
    exhaustive : bool
        Explain every row (``--all``). By default, on a CPU, more than ``max_rows`` rows are
        explained through a stratified sample grown until the top features are stable
        (:func:`~hpcpredict.explain.sampling.stable_shap_values`); ``device="cuda"`` explains all.
    max_rows : int
        Largest stratified sample.
    device : {"cpu", "cuda"}
    window : str
        Period of the drift analysis (pandas frequency: "M" month, "W" week, "Q" quarter).
    cohorts : tuple of str
        Columns whose values get their own ranking (largest 10 cohorts with 30 rows or more).
    n_boot : int
        Bootstrap resamples of the confidence intervals.
    interactions : int
        Rows sampled for SHAP interaction values; 0 skips them.
    permutation : bool
        Cross-check with permutation importance on the held-out rows.
    dependence : int
        Dependence plots written for this many top features.
    seed : int
    dask : str or distributed.Client, optional
        Compute the SHAP values on a Dask cluster (``"local:N"``, ``"tcp://host:8786"`` or a
        client, see :func:`hpcpredict.scale.client_for`); like ``device="cuda"``, every row is
        then explained. Values equal the in-process ones.

    Returns
    -------
    ExplainResult
        ``values`` (the SHAP values as a ``shap.Explanation``, job ids as ``instance_names``),
        ``unit``, ``sampling`` (method, rows, stability of the top features), ``features`` and
        ``families`` (rankings with 95% intervals), ``cohorts``, ``windows`` and ``drift``,
        ``interactions`` (top pairs), ``permutation`` (importance and disagreements with SHAP) and
        ``plots`` (name → file); ``to_json()`` gives what ``ranking.json`` holds.

    Examples
    --------
    >>> result = explain("model/", "features.parquet", "explain/", top=10)  # doctest: +SKIP
    >>> result.features["feature"].iloc[0], result.sampling["stability"]["top_k_agreement"]  # doctest: +SKIP
    ('time_limit_s', 1.0)
    """
    from ..evaluate import held_out_rows

    if rows not in ("test", "all"):
        raise ParameterError("rows", "'test' or 'all'", rows)
    if output is not None:
        check_output(output, folder=True, inputs=[model, features])
    bundle = model if isinstance(model, RuntimeModel) else RuntimeModel.load(model)
    table = table_for(bundle, features)
    check_table(bundle, table)
    test_rows = held_out_rows(bundle, table)
    if rows == "test":
        table = test_rows
    table = table.reset_index(drop=True)
    with contextlib.nullcontext() if dask is None else client_for(dask) as client:
        if sample is not None:
            explanation = shap_values(bundle, table, device=device, sample=sample, seed=seed, client=client)
            sampling = {"method": "uniform", "rows_total": len(table), "rows_explained": int(explanation.values.shape[0]), "steps": []}
            sampling["stability"] = ranking_stability(explanation, top=top, seed=seed)
        else:
            rows_max = len(table) if exhaustive or device.startswith("cuda") or client is not None else max_rows
            explanation, sampling = stable_shap_values(bundle, table, top=top, max_rows=rows_max, device=device, seed=seed, client=client)
    used = table.loc[explanation.row_index]
    families = bundle.families
    by_feature, by_family = bootstrap_rankings(explanation, families, n_boot=n_boot, seed=seed)
    unit = "log seconds" if bundle.manifest_.log_output else "s"

    cohort_table = pd.concat(
        [rank_by_cohort(explanation, families, used[c].to_numpy()).assign(column=c) for c in cohorts if c in used.columns and used[c].nunique(dropna=True) >= 2] or [pd.DataFrame()],
        ignore_index=True,
    )
    by_window = rank_by_window(explanation, used["submit_time"], freq=window) if "submit_time" in used.columns else pd.DataFrame()
    drift = drift_summary(by_window, top=min(top, 10)) if len(by_window) > 1 else pd.DataFrame()
    matrix = interaction_matrix(bundle, used, sample=interactions, device=device, seed=seed) if interactions else None
    perm = None
    if permutation and bundle.target in test_rows.columns and len(test_rows):
        perm = permutation_check(bundle, test_rows, by_feature, top=top, seed=seed)

    result = ExplainResult(
        values=explanation,
        unit=unit,
        sampling=sampling,
        features=by_feature.head(top).reset_index(drop=True),
        families=by_family.reset_index(drop=True),
        cohorts=cohort_table[(cohort_table["level"] == "family") | (cohort_table["rank"] <= 5)].reset_index(drop=True) if len(cohort_table) else pd.DataFrame(),
        window=window,
        windows=by_window,
        drift=drift,
        interactions=top_interactions(matrix) if matrix is not None else pd.DataFrame(columns=["feature_a", "feature_b", "mean_abs_interaction"]),
        permutation=perm,
    )
    if output is not None:
        with atomic_dir(output, kind="explanation") as tmp:
            result = _write(tmp, result, families, by_feature, by_family, cohort_table, matrix, top, dependence)
    return result


def _write(out: Path, result: ExplainResult, families, by_feature, by_family, cohort_table, matrix, top, dependence) -> ExplainResult:
    """Write the tables, plots and ``ranking.json`` to ``out``; the result naming its plots."""
    explanation, by_window, unit = result.values, result.windows, result.unit
    out.mkdir(parents=True, exist_ok=True)
    tidy = pd.DataFrame(explanation.values, columns=explanation.feature_names)
    tidy["job_id"] = explanation.job_ids
    tidy = tidy.melt(id_vars="job_id", var_name="feature", value_name="shap")
    data = pd.DataFrame(explanation.data, columns=explanation.feature_names).melt(value_name="value")
    tidy["family"] = tidy["feature"].map(families)
    tidy["value"] = data["value"].to_numpy()
    write_parquet(tidy[["job_id", "feature", "family", "value", "shap"]], out / "shap_values.parquet")
    if len(cohort_table):
        write_parquet(cohort_table, out / "cohorts.parquet")
    if len(by_window):
        windows = by_window.drop(columns=["rows"]).rename_axis("window").reset_index().melt(id_vars="window", var_name="feature", value_name="mean_abs_shap")
        write_parquet(windows, out / "windows.parquet")
    if matrix is not None:
        write_parquet(matrix.rename_axis("feature").reset_index(), out / "interactions.parquet")
    plots = {
        "features_bar": "features_bar.png",
        "families_bar": "families_bar.png",
        "beeswarm": "beeswarm.png",
    }
    save(plot_feature_bar(explanation, top=top), out / plots["features_bar"])
    save(plot_family_bar(by_family, unit=unit), out / plots["families_bar"])
    save(plot_beeswarm(explanation, top=top), out / plots["beeswarm"])
    if len(by_window) > 1:
        plots["drift_heatmap"] = "drift_heatmap.png"
        save(plot_drift_heatmap(by_window, top=top), out / plots["drift_heatmap"])
    if matrix is not None and len(matrix) > 1:
        plots["interactions"] = "interactions.png"
        save(plot_interactions(matrix), out / plots["interactions"])
    for feature in by_feature["feature"].head(dependence):
        plots[f"dependence_{feature}"] = f"dependence_{feature}.png"
        save(plot_dependence(explanation, feature), out / plots[f"dependence_{feature}"])
    result = dataclasses.replace(result, plots=plots)
    result.to_json(out / "ranking.json")
    return result
