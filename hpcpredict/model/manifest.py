"""The typed, frozen manifest of a fitted model: what it predicts, from which features, how it was fitted.

``manifest.json`` is parsed once, at load, into a :class:`Manifest`; every other module reads its
attributes, never string keys. Parsing refuses an unknown format version, unknown or missing fields
and wrong types, each in one line. :attr:`Manifest.checksum` covers every other field (features and
their categories, target and its transform, objective, interval transform and calibration, the
checksums of both model files, ...), so an edited manifest is refused instead of silently changing
predictions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..errors import BundleMismatchError

__all__ = ["FORMAT_VERSION", "FeatureSpec", "Manifest"]

#: Version of the bundle format this hpcpredict writes and reads. Version 1 (hpcpredict 0.x before
#: the typed manifest) recorded the arguments given to ``train`` rather than the fitted estimator;
#: version 2 had no limit rule or combination; version 3 combined every class of user history with
#: one heuristic; version 4 read the classes from the user's jobs alone, not from the repeats of
#: the same request. Older bundles are refused with a request to retrain.
FORMAT_VERSION = 5

_RETRAIN = "retrain it with this hpcpredict (`hpcpredict train FEATURES -o MODEL`)"


@dataclass(frozen=True)
class FeatureSpec:
    """One input column of the model: its name, family, horizon, kind and (categoricals) categories.

    Examples
    --------
    >>> FeatureSpec("partition", "request", "submit", "categorical", categories=("debug", "normal")).categories
    ('debug', 'normal')
    """

    name: str
    family: str
    horizon: str
    kind: str
    description: str = ""
    categories: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str) -> FeatureSpec:
        """Parse one entry of ``features``, refusing unknown, missing or mistyped fields."""
        data = _fields_of(cls, data, f"{where}: feature {data.get('name', '?') if isinstance(data, dict) else data!r}", optional={"description", "categories"})
        kind = data["kind"]
        if kind not in ("numeric", "categorical"):
            raise BundleMismatchError(f"{where}: feature {data['name']!r} has kind {kind!r}; expected 'numeric' or 'categorical'")
        cats = data.get("categories")
        if kind == "categorical" and not isinstance(cats, list):
            raise BundleMismatchError(f"{where}: categorical feature {data['name']!r} has no category list")
        if cats is not None:
            data["categories"] = tuple(str(c) for c in cats)
        return cls(**data)

    def to_dict(self) -> dict:
        """JSON-able values."""
        out = asdict(self)
        out["categories"] = None if self.categories is None else list(self.categories)
        return out


@dataclass(frozen=True)
class Manifest:
    """Everything recorded beside ``model.ubj``; see :meth:`from_json` for how it is checked.

    Attributes
    ----------
    target, objective, xgb_objective, target_transform :
        What is predicted, the objective's name, XGBoost's objective and the transform the trees
        were fitted on (``"log1p"`` or ``"none"``).
    horizon, time_column, app_column, apps, table_source :
        The horizon of the features (``submit``, ``start``, ``end`` or ``table``), the time and
        application columns, the applications kept, and the arguments of a bring-your-own table.
    features : tuple of FeatureSpec
        In the model's column order.
    hyperparameters : dict
        The estimator's effective parameters (``RuntimeModel.get_params()`` of the fitted model).
    xgb_params : dict
        The parameters XGBoost trained with.
    n_trees, early_stopping_rounds :
        Trees kept in ``model.ubj`` and the patience used (None: no early stopping happened).
    rows : dict
        Rows used for training, validation (early stopping, calibration) and held out for test.
    interval_transform, interval_calibration, intervals :
        Of the p10/p50/p90 model in ``intervals.ubj`` (None without one).
    limit_rule, combination :
        Whether runtime predictions are capped at the limit, and the blend of the trees with a
        scheduler heuristic, each with the training evidence it was chosen on
        (:mod:`hpcpredict.model.combine`); None for a model without a limit feature.
    model_sha256, intervals_sha256, checksum :
        Of the two model files, and of every other field of this manifest.
    """

    format_version: int
    hpcpredict_version: str
    versions: dict
    created: str
    target: str
    objective: str
    xgb_objective: str
    target_transform: str
    horizon: str
    time_column: str
    app_column: str | None
    apps: tuple[str, ...] | None
    table_source: dict | None
    features: tuple[FeatureSpec, ...]
    training_window: dict
    test_boundary: str | None
    test_fraction: float | None
    rows: dict
    hyperparameters: dict
    xgb_params: dict
    n_trees: int
    early_stopping_rounds: int | None
    dask: str | None
    intervals: tuple[float, ...] | None
    interval_transform: str | None
    interval_calibration: dict | None
    limit_rule: dict | None
    combination: dict | None
    data_hash: str | None
    model_sha256: str
    intervals_sha256: str | None
    checksum: str

    # ------------------------------------------------------------ views
    @property
    def feature_names(self) -> list[str]:
        """Feature names in the model's column order."""
        return [f.name for f in self.features]

    @property
    def families(self) -> dict[str, str]:
        """Feature name → family."""
        return {f.name: f.family for f in self.features}

    @property
    def categories(self) -> dict[str, tuple[str, ...]]:
        """Categorical feature → its categories, in the codes' order."""
        return {f.name: f.categories for f in self.features if f.kind == "categorical"}

    @property
    def log_output(self) -> bool:
        """True when the trees' output (and SHAP values) are on log(1 + target)."""
        return self.target_transform == "log1p"

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """JSON-able values, in field order."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["features"] = [f.to_dict() for f in self.features]
        for key in ("apps", "intervals"):
            out[key] = None if out[key] is None else list(out[key])
        return out

    def to_json(self) -> str:
        """The text of ``manifest.json``."""
        return json.dumps(self.to_dict(), indent=2, default=str) + "\n"

    def sealed(self) -> Manifest:
        """This manifest with :attr:`checksum` computed over every other field."""
        return replace(self, checksum=_checksum(self.to_dict()))

    @classmethod
    def from_json(cls, text: str, where: str = "manifest.json") -> Manifest:
        """Parse and check ``manifest.json``.

        Raises
        ------
        BundleMismatchError
            One line naming ``where`` and the problem: not JSON, another format version (with how
            to retrain), an unknown, missing or mistyped field, or a checksum that does not match.

        Examples
        --------
        >>> Manifest.from_json('{"format_version": 1}')
        Traceback (most recent call last):
        ...
        hpcpredict.errors.BundleMismatchError: manifest.json: bundle format version 1, this hpcpredict reads version 5; retrain it with this hpcpredict (`hpcpredict train FEATURES -o MODEL`)
        """
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BundleMismatchError(f"{where}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise BundleMismatchError(f"{where}: not a manifest (a JSON object is expected)")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise BundleMismatchError(f"{where}: bundle format version {version!r}, this hpcpredict reads version {FORMAT_VERSION}; {_RETRAIN}")
        data = _fields_of(cls, data, where)
        if not isinstance(data["features"], list) or not data["features"]:
            raise BundleMismatchError(f"{where}: field 'features' must be a non-empty list")
        data["features"] = tuple(FeatureSpec.from_dict(f, where) for f in data["features"])
        for key in ("apps", "intervals"):
            data[key] = None if data[key] is None else tuple(data[key])
        manifest = cls(**data)
        if _checksum(manifest.to_dict()) != manifest.checksum:
            raise BundleMismatchError(
                f"{where}: the manifest does not match its checksum (features, categories, target, objective, "
                f"intervals or model checksums were edited); {_RETRAIN}"
            )
        return manifest


# A field's JSON types; a field not listed may hold any JSON value.
_TYPES: dict[str, tuple[type, ...]] = {
    "format_version": (int,),
    "name": (str,),
    "family": (str,),
    "horizon": (str,),
    "kind": (str,),
    "description": (str,),
    "categories": (list, type(None)),
    "hpcpredict_version": (str,),
    "versions": (dict,),
    "target": (str,),
    "objective": (str,),
    "xgb_objective": (str,),
    "target_transform": (str,),
    "time_column": (str,),
    "app_column": (str, type(None)),
    "apps": (list, type(None)),
    "table_source": (dict, type(None)),
    "training_window": (dict,),
    "rows": (dict,),
    "hyperparameters": (dict,),
    "xgb_params": (dict,),
    "n_trees": (int,),
    "early_stopping_rounds": (int, type(None)),
    "intervals": (list, type(None)),
    "interval_transform": (str, type(None)),
    "interval_calibration": (dict, type(None)),
    "limit_rule": (dict, type(None)),
    "combination": (dict, type(None)),
    "model_sha256": (str,),
    "intervals_sha256": (str, type(None)),
    "checksum": (str,),
}


def _fields_of(cls, data: Any, where: str, *, optional: set[str] = frozenset()) -> dict:
    """``data`` as a dict of exactly ``cls``'s fields with the right JSON types, or a one-line refusal."""
    if not isinstance(data, dict):
        raise BundleMismatchError(f"{where}: expected a JSON object, got {type(data).__name__}")
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(names))
    missing = [n for n in names if n not in data and n not in optional]
    if unknown:
        raise BundleMismatchError(f"{where}: unknown field(s) {unknown}; a manifest written by another hpcpredict? {_RETRAIN}")
    if missing:
        raise BundleMismatchError(f"{where}: missing field(s) {missing}; {_RETRAIN}")
    for name, value in data.items():
        want = _TYPES.get(name)
        if want is not None and (not isinstance(value, want) or (isinstance(value, bool) and bool not in want)):
            raise BundleMismatchError(f"{where}: field {name!r} must be {' or '.join(t.__name__ for t in want)}, got {value!r}")
    return dict(data)


def _checksum(values: dict) -> str:
    body = {k: v for k, v in values.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
