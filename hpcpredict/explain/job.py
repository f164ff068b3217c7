"""Why is *this* job predicted slow? One job's SHAP values, its waterfall and its reasons in words."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import shap

from ..features.registry import REGISTRY
from ..model import RuntimeModel
from .values import shap_values

__all__ = ["describe_contributions", "explain_job", "feature_descriptions", "format_effect", "reasons"]


def explain_job(model: RuntimeModel | str | os.PathLike[str], row: pd.Series | pd.DataFrame, *, device: str = "cpu") -> shap.Explanation:
    """SHAP values of one job: a one-row Explanation for a waterfall plot and for :func:`reasons`.

    Parameters
    ----------
    model : RuntimeModel or path
        A trained model.
    row : Series or one-row DataFrame
        The job's row of a feature table (queued jobs included: no target needed).
    device : {"cpu", "cuda"}

    Returns
    -------
    JobExplanation
        ``values`` (one per feature), ``base_values`` (scalar), ``data`` (numeric codes),
        ``display_data`` (the job's own values, categories as text), ``job_id`` (its
        ``instance_names``), plus
        ``prediction`` (model output in target units, before the time-limit cap) and
        ``log_output`` (True when contributions add up on log runtime).

    Examples
    --------
    >>> one = explain_job("model/", table.iloc[0])  # doctest: +SKIP
    >>> reasons(one, "model/")  # doctest: +SKIP
    ["mean runtime of the user's last two finished jobs is 12 min: -35%", ...]
    """
    from ..model.objectives import get_objective

    bundle = model if isinstance(model, RuntimeModel) else RuntimeModel.load(model)
    frame = row.to_frame().T if isinstance(row, pd.Series) else row
    if len(frame) != 1:
        raise ValueError(f"explain_job explains one row, got {len(frame)}")
    frame = frame.infer_objects()
    full = shap_values(bundle, frame, device=device)
    one = full[0]
    one.display_data = np.array([_display(frame.iloc[0][name]) for name in full.feature_names], dtype=object)
    margin = float(np.sum(one.values) + float(np.asarray(one.base_values)))
    one.prediction = float(get_objective(bundle.objective).inverse(np.array([margin]))[0])
    one.log_output = bundle.manifest_.log_output
    return one


def _display(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return np.nan
    return value


def format_effect(contribution: float, *, log_output: bool) -> str:
    """A contribution in words: a percentage (or factor) on log runtime, seconds otherwise.

    Examples
    --------
    >>> format_effect(-0.43, log_output=True)
    '-35%'
    >>> format_effect(1.2, log_output=True)
    'x3.3'
    >>> format_effect(1234.4, log_output=False)
    '+1,234 s'
    """
    if log_output:
        factor = math.exp(contribution)
        return f"x{factor:.1f}" if factor >= 2 else f"{factor - 1:+.0%}"
    return f"{contribution:+,.0f} s"


def _format_value(name: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, str | pd.Timestamp) or not np.isscalar(value) or isinstance(value, bool | np.bool_):
        return str(value)
    value = float(value)
    if "bytes_per_s" in name:
        return _bytes(value) + "/s"
    if "per_s" in name:
        return f"{value:,.3g}/s"
    if name.endswith("_s"):
        return _duration(value)
    if "_bytes" in name:
        return _bytes(value)
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def _bytes(value: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(value) >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} B"


def _duration(seconds: float) -> str:
    if abs(seconds) < 120:
        return f"{seconds:,.0f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:,.0f} min"
    if abs(seconds) < 2 * 86400:
        return f"{seconds / 3600:,.1f} h"
    return f"{seconds / 86400:,.1f} days"


def reasons(explanation: shap.Explanation, model: RuntimeModel | str | os.PathLike[str] | None = None, *, top: int = 3) -> list[str]:
    """The ``top`` largest contributions of one job, in words a user understands.

    Each reason reads "<feature description> is <the job's value>: <effect>", the effect as a
    percentage or factor of runtime for a model of log runtime (``exp`` of the contribution), in
    seconds otherwise. Descriptions come from the model's manifest (the feature registry).

    Parameters
    ----------
    explanation : shap.Explanation
        One job, from :func:`explain_job`.
    model : RuntimeModel or path, optional
        Supplies the descriptions; without it the registry of this hpcpredict is used.
    top : int
        How many reasons.

    Returns
    -------
    list of str
        Largest |contribution| first.

    Examples
    --------
    >>> reasons(explain_job(bundle, row), bundle)  # doctest: +SKIP
    ['requested time limit is 4.0 h: +1,850 s', "runtime of the user's last finished job is 3 min: -420 s", ...]
    """
    values = np.asarray(explanation.values, dtype=float)
    shown = explanation.display_data if explanation.display_data is not None else explanation.data
    return describe_contributions(
        values, explanation.feature_names, shown, descriptions=feature_descriptions(model), top=top, log_output=bool(getattr(explanation, "log_output", False))
    )


def feature_descriptions(model: RuntimeModel | str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Feature name → description: the registry's, overridden by the model manifest's."""
    descriptions = {name: spec.description for name, spec in REGISTRY.items()}
    if model is not None:
        bundle = model if isinstance(model, RuntimeModel) else RuntimeModel.load(model)
        descriptions.update({f.name: f.description or f.name for f in bundle.manifest_.features})
    return descriptions


def describe_contributions(values, names, shown, *, descriptions: dict[str, str], top: int, log_output: bool) -> list[str]:
    """One job's ``top`` largest contributions as "<description> is <value>: <effect>" sentences.

    The shared wording of :func:`reasons` and of queued-job prediction, which has contributions
    but no Explanation.
    """
    values = np.asarray(values, dtype=float)
    out = []
    for i in np.argsort(-np.abs(values), kind="stable")[:top]:
        name = names[i]
        effect = format_effect(float(values[i]), log_output=log_output)
        out.append(f"{descriptions.get(name, name)} is {_format_value(name, shown[i])}: {effect}")
    return out
