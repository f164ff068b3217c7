"""The model bundle: ``model.ubj`` (XGBoost's own format) + ``manifest.json``. Nothing is pickled.

Loading checks the format version and the model file's checksum, and :func:`check_table` refuses
a feature table that does not match what the model was trained on, naming the difference.
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

__all__ = ["FORMAT_VERSION", "Bundle", "check_table", "load_bundle", "save_bundle", "to_frame"]

FORMAT_VERSION = 1
MODEL_FILE = "model.ubj"
MANIFEST_FILE = "manifest.json"


@dataclass
class Bundle:
    """A loaded model: the booster and its manifest."""

    booster: xgb.Booster
    manifest: dict
    path: Path | None = None

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


def save_bundle(booster: xgb.Booster, manifest: dict, output: str | os.PathLike[str]) -> Path:
    """Write ``booster`` and ``manifest`` to the folder ``output`` atomically; return its path."""
    with atomic_dir(output) as tmp:
        booster.save_model(tmp / MODEL_FILE)
        manifest = {**manifest, "format_version": FORMAT_VERSION, "model_sha256": _sha256(tmp / MODEL_FILE)}
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
    booster = xgb.Booster()
    booster.load_model(model_path)
    return Bundle(booster=booster, manifest=manifest, path=path)


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


def to_frame(bundle_or_manifest: Bundle | dict, table: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns, in its order, with categoricals coded as at training time.

    Categories unseen in training become missing values, which the trees route by their default
    direction.
    """
    manifest = bundle_or_manifest.manifest if isinstance(bundle_or_manifest, Bundle) else bundle_or_manifest
    categories = manifest.get("categories", {})
    out = {}
    for f in manifest["features"]:
        col = table[f["name"]]
        if f["kind"] == "categorical":
            out[f["name"]] = pd.Categorical(col.astype("string").astype(object).where(col.notna(), None), categories=categories[f["name"]])
        else:
            out[f["name"]] = pd.to_numeric(col, errors="coerce").astype("float32")
    return pd.DataFrame(out, index=table.index)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
