"""Explanations: exact SHAP values, rankings per feature and family, and their plots."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .._atomic import write_json, write_parquet
from ..model import Bundle, check_table, load_bundle
from .plots import plot_beeswarm, plot_family_bar, plot_feature_bar, save
from .rankings import family_values, rank_families, rank_features
from .values import shap_values

__all__ = ["explain", "family_values", "rank_families", "rank_features", "shap_values"]


def explain(
    model: Bundle | str | os.PathLike[str],
    features: pd.DataFrame | str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    top: int = 15,
    rows: str = "test",
    sample: int | None = None,
    device: str = "cpu",
) -> dict:
    """Explain a model on a feature table: which features and families dominate its predictions.

    Parameters
    ----------
    model : Bundle or path
        A trained bundle.
    features : DataFrame or path
        A feature table of the model's horizon.
    output : path, optional
        Folder for ``shap_values.parquet`` (tidy: job_id, feature, family, value, shap),
        ``ranking.json``, ``features_bar.png``, ``families_bar.png`` and ``beeswarm.png``.
    top : int
        Features shown in the plots and listed in the returned ranking.
    rows : {"test", "all"}
        Explain the held-out later jobs (default) or every job with a feature row.
    sample, device
        See :func:`shap_values`.

    Returns
    -------
    dict
        ``{"rows", "unit", "features": [...], "families": [...]}``, each ranking a list of
        ``{name, family, mean_abs_shap, rank}`` records.
    """
    from ..evaluate import held_out_rows
    from ..features import read_features

    bundle = model if isinstance(model, Bundle) else load_bundle(model)
    table = features if isinstance(features, pd.DataFrame) else read_features(features)
    check_table(bundle, table)
    if rows == "test":
        table = held_out_rows(bundle, table)
    explanation = shap_values(bundle, table, device=device, sample=sample)
    families = bundle.families
    by_feature, by_family = rank_features(explanation, families), rank_families(explanation, families)
    unit = "log seconds" if bundle.manifest.get("target_transform") == "log1p" else "s"
    result = {
        "rows": int(explanation.values.shape[0]),
        "unit": unit,
        "features": by_feature.head(top).to_dict(orient="records"),
        "families": by_family.to_dict(orient="records"),
    }
    if output is not None:
        _write(Path(output), explanation, families, by_family, result, top, unit)
    return result


def _write(out: Path, explanation, families, by_family, result, top, unit) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tidy = pd.DataFrame(explanation.values, columns=explanation.feature_names)
    tidy["job_id"] = explanation.job_ids
    tidy = tidy.melt(id_vars="job_id", var_name="feature", value_name="shap")
    data = pd.DataFrame(explanation.data, columns=explanation.feature_names).melt(value_name="value")
    tidy["family"] = tidy["feature"].map(families)
    tidy["value"] = data["value"].to_numpy()
    write_parquet(tidy[["job_id", "feature", "family", "value", "shap"]], out / "shap_values.parquet")
    write_json(result, out / "ranking.json")
    save(plot_feature_bar(explanation, top=top), out / "features_bar.png")
    save(plot_family_bar(by_family, unit=unit), out / "families_bar.png")
    save(plot_beeswarm(explanation, top=top), out / "beeswarm.png")
