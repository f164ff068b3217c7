"""The model bundle: ``model.ubj`` (XGBoost's own format) + ``manifest.json``. Nothing is pickled.

Loading checks the format version, the model files' checksums, and that the feature names, dtypes
and categories the manifest lists are the ones stored inside the XGBoost model file itself;
:func:`check_table` refuses a feature table whose features, dtypes or horizon differ from the
model's, naming the difference.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xgboost as xgb

from .._atomic import atomic_dir
from ..errors import BundleMismatchError, InputFileError

__all__ = ["FORMAT_VERSION", "Bundle", "check_table", "load_bundle", "save_bundle", "to_frame", "unseen_categories"]

FORMAT_VERSION = 1
MODEL_FILE = "model.ubj"
INTERVALS_FILE = "intervals.ubj"
MANIFEST_FILE = "manifest.json"


@dataclass
class Bundle:
    """A loaded model: the booster and its manifest."""

    booster: xgb.Booster
    manifest: dict
    path: Path | None = None
    interval_booster: xgb.Booster | None = None

    @property
    def feature_names(self) -> list[str]:
        """Feature names, in the model's column order."""
        return [f["name"] for f in self.manifest["features"]]

    @property
    def families(self) -> dict[str, str]:
        """Feature name → family."""
        return {f["name"]: f["family"] for f in self.manifest["features"]}

    @property
    def horizon(self) -> str:
        """The horizon the model was trained for."""
        return self.manifest["horizon"]


def save_bundle(booster: xgb.Booster, manifest: dict, output: str | os.PathLike[str], *, interval_booster: xgb.Booster | None = None) -> Path:
    """Write ``booster`` and ``manifest`` to the folder ``output`` atomically; return its path.

    ``interval_booster`` (the p10/p50/p90 model) goes to ``intervals.ubj`` with its own checksum.
    """
    with atomic_dir(output) as tmp:
        booster.save_model(tmp / MODEL_FILE)
        manifest = {**manifest, "format_version": FORMAT_VERSION, "model_sha256": _sha256(tmp / MODEL_FILE)}
        manifest["contract_sha256"] = _contract_sha256(manifest)
        manifest.pop("intervals_sha256", None)
        if interval_booster is not None:
            interval_booster.save_model(tmp / INTERVALS_FILE)
            manifest["intervals_sha256"] = _sha256(tmp / INTERVALS_FILE)
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return Path(output)


def load_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Load a bundle written by :func:`save_bundle`, after checking its version and checksum.

    Raises
    ------
    InputFileError
        If the folder, manifest or model file is missing or unreadable.
    BundleMismatchError
        If the format version is not this one, or the model file was damaged or edited.
    """
    path = Path(path)
    manifest_path, model_path = path / MANIFEST_FILE, path / MODEL_FILE
    for needed in (manifest_path, model_path):
        if not needed.is_file():
            raise InputFileError(needed, f"missing: {path} is not a model bundle (expected {MODEL_FILE} + {MANIFEST_FILE})")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(manifest_path, f"not valid JSON ({exc})") from None
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleMismatchError(f"{path}: bundle format version {version!r}, this hpcpredict reads version {FORMAT_VERSION}")
    if _sha256(model_path) != manifest.get("model_sha256"):
        raise BundleMismatchError(f"{model_path}: checksum does not match the manifest; the model file is damaged or was edited")
    booster = _load_booster(model_path)
    _check_manifest_matches_model(manifest, booster, manifest_path)
    intervals = None
    if "intervals_sha256" in manifest:
        ipath = path / INTERVALS_FILE
        if not ipath.is_file():
            raise InputFileError(ipath, "missing: the manifest lists prediction intervals but the file is absent")
        if _sha256(ipath) != manifest["intervals_sha256"]:
            raise BundleMismatchError(f"{ipath}: checksum does not match the manifest; the model file is damaged or was edited")
        intervals = _load_booster(ipath)
    return Bundle(booster=booster, manifest=manifest, path=path, interval_booster=intervals)


def _load_booster(path: Path) -> xgb.Booster:
    booster = xgb.Booster()
    try:
        booster.load_model(path)
    except xgb.core.XGBoostError as exc:
        raise BundleMismatchError(f"{path}: not a readable XGBoost model ({str(exc).splitlines()[0]})") from None
    return booster


def _check_manifest_matches_model(manifest: dict, booster: xgb.Booster, manifest_path: Path) -> None:
    """The names, dtypes and categories the manifest promises are those inside the model file."""
    features = manifest.get("features") or []
    names = [f["name"] for f in features]
    if booster.feature_names is not None and list(booster.feature_names) != names:
        raise BundleMismatchError(f"{manifest_path}: feature names {names} differ from the model file's {list(booster.feature_names)}")
    types = booster.feature_types or []
    for f, t in zip(features, types):
        want = "categorical" if t == "c" else "numeric"
        if f["kind"] != want:
            raise BundleMismatchError(f"{manifest_path}: feature {f['name']!r} is {f['kind']} in the manifest but {want} in the model file")
    stored = _booster_categories(booster)
    listed = manifest.get("categories", {})
    for f in features:
        if f["kind"] == "categorical" and f["name"] in listed and stored is not None and stored.get(f["name"]) is not None and list(stored[f["name"]]) != list(listed[f["name"]]):
            raise BundleMismatchError(f"{manifest_path}: the categories of {f['name']!r} differ from those the model was trained with")
    if "contract_sha256" in manifest and _contract_sha256(manifest) != manifest["contract_sha256"]:
        changed = "categories" if any(f["kind"] == "categorical" for f in features) else "features"
        raise BundleMismatchError(
            f"{manifest_path}: the features, dtypes, {changed} or horizon differ from those recorded at training "
            "(contract checksum); the manifest was edited"
        )
    for f in features:
        if f["kind"] != "categorical":
            continue
        if f["name"] not in listed:
            raise BundleMismatchError(f"{manifest_path}: categorical feature {f['name']!r} has no category list")


def _contract_sha256(manifest: dict) -> str:
    """Checksum of what a table must match (features: names, kinds, dtypes; categories, horizon,
    target) and of the interval calibration, which changes every interval the bundle gives."""
    contract = {k: manifest.get(k) for k in ("features", "categories", "horizon", "target", "time_column")}
    if "interval_calibration" in manifest:  # bundles written before calibration existed keep their checksum
        contract["interval_calibration"] = manifest["interval_calibration"]
    if "limit_enforced" in manifest:  # whether predictions are capped at the limit changes them too
        contract["limit_enforced"] = manifest["limit_enforced"]
    return hashlib.sha256(json.dumps(contract, sort_keys=True, default=str).encode()).hexdigest()


def _booster_categories(booster: xgb.Booster) -> dict | None:
    """Categories stored in the model file (XGBoost >= 3.1), or None when this XGBoost has none."""
    try:
        arrow = booster.get_categories(export_to_arrow=True).to_arrow()
    except (AttributeError, TypeError, ValueError, xgb.core.XGBoostError):
        return None
    if arrow is None:
        return None
    return {name: (None if values is None else [str(v) for v in values.to_pylist()]) for name, values in arrow}


def check_table(bundle: Bundle, table: pd.DataFrame) -> None:
    """Refuse a feature table whose features or horizon differ from the model's.

    Raises
    ------
    BundleMismatchError
        Naming the missing features, the extra features, or the two horizons.
    """
    horizon = table.attrs.get("horizon")
    if horizon is not None and horizon != bundle.horizon:
        raise BundleMismatchError(f"the model was trained for horizon {bundle.horizon!r}, the feature table is for {horizon!r}")
    expected = bundle.feature_names
    have = [f["name"] for f in table.attrs.get("features", [])] or [c for c in table.columns if c in expected]
    missing = [n for n in expected if n not in table.columns]
    extra = [n for n in have if n not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing features {missing}")
        if extra:
            parts.append(f"extra features {extra}")
        raise BundleMismatchError("the feature table does not match the model: " + "; ".join(parts))
    table_kinds = {f["name"]: f.get("kind") for f in table.attrs.get("features", [])}
    for f in bundle.manifest["features"]:
        name, kind = f["name"], f["kind"]
        col = table[name]
        declared = table_kinds.get(name)
        if declared is not None and declared != kind:
            raise BundleMismatchError(f"feature {name!r}: the model was trained on it as {kind}, the feature table declares it {declared}")
        if kind == "numeric" and not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)) and col.notna().any():
            raise BundleMismatchError(f"feature {name!r}: the model expects numbers (float32), the feature table has dtype {col.dtype}")


def to_frame(bundle_or_manifest: Bundle | dict, table: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns, in its order, with categoricals coded as at training time.

    Categories unseen in training become missing values, which the trees route by their default
    direction.
    """
    from .estimator import encode_frame

    manifest = bundle_or_manifest.manifest if isinstance(bundle_or_manifest, Bundle) else bundle_or_manifest
    names = [f["name"] for f in manifest["features"]]
    kinds = {f["name"]: f["kind"] for f in manifest["features"]}
    return encode_frame(table, names, kinds, manifest.get("categories", {}))


def unseen_categories(bundle: Bundle, table: pd.DataFrame) -> dict[str, int]:
    """Categorical feature → number of rows whose category the model never saw (they count as missing)."""
    out = {}
    for name, cats in bundle.manifest.get("categories", {}).items():
        if name in table.columns:
            col = table[name]
            n = int((col.notna() & ~col.astype("string").isin(cats)).sum())
            if n:
                out[name] = n
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
