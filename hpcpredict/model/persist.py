"""A fitted model on disk: ``model.ubj`` (XGBoost's own format) + ``manifest.json`` (+ ``intervals.ubj``).

Nothing is pickled. Loading parses the typed :class:`~hpcpredict.model.manifest.Manifest`, checks
both model files against their checksums, and checks that the model file agrees with the manifest:
feature names and kinds, objective, one output per row (the p10/p50/p90 intervals model, three
outputs, cannot stand in for the main one). :func:`probe_in_child` loads and predicts in a separate
process, so a service can refuse a tampered file on which XGBoost's own loader would crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import xgboost as xgb

from .._atomic import atomic_dir
from ..errors import BundleMismatchError, InputFileError
from .manifest import Manifest

__all__ = ["INTERVALS_FILE", "MANIFEST_FILE", "MODEL_FILE", "load_parts", "probe_in_child", "verify_files", "write_parts"]

MODEL_FILE = "model.ubj"
INTERVALS_FILE = "intervals.ubj"
MANIFEST_FILE = "manifest.json"


def write_parts(output: str | os.PathLike[str], manifest: Manifest, booster: xgb.Booster, interval_booster: xgb.Booster | None) -> Manifest:
    """Write the model files and the sealed manifest to the folder ``output`` atomically; return the manifest."""
    with atomic_dir(output, kind="bundle") as tmp:
        booster.save_model(tmp / MODEL_FILE)
        intervals_sha = None
        if interval_booster is not None:
            interval_booster.save_model(tmp / INTERVALS_FILE)
            intervals_sha = _sha256(tmp / INTERVALS_FILE)
        manifest = replace(manifest, model_sha256=_sha256(tmp / MODEL_FILE), intervals_sha256=intervals_sha).sealed()
        (tmp / MANIFEST_FILE).write_text(manifest.to_json())
    return manifest


def load_parts(path: str | os.PathLike[str]) -> tuple[Manifest, xgb.Booster, xgb.Booster | None]:
    """The checked manifest, main booster and interval booster (or None) of the bundle at ``path``.

    Raises
    ------
    InputFileError
        If the folder, manifest or a model file is missing.
    BundleMismatchError
        If the manifest is malformed, of another format version or edited, a model file does not
        match its checksum, or a model file disagrees with the manifest.
    """
    path = Path(path)
    manifest = verify_files(path)
    model_path = path / MODEL_FILE
    booster = _load_booster(model_path)
    _check_main(manifest, booster, model_path)
    intervals = None
    if manifest.intervals_sha256 is not None:
        ipath = path / INTERVALS_FILE
        intervals = _load_booster(ipath)
        _check_outputs(intervals, ipath, objective="reg:quantileerror", outputs=len(manifest.intervals or ()), n_features=len(manifest.features))
    return manifest, booster, intervals


def verify_files(path: str | os.PathLike[str]) -> Manifest:
    """The parsed manifest of the bundle at ``path``, once its model files match their checksums.

    Reads no model into XGBoost: cheap, and safe on any file (see :func:`probe_in_child`).
    """
    path = Path(path)
    manifest_path, model_path = path / MANIFEST_FILE, path / MODEL_FILE
    for needed in (manifest_path, model_path):
        if not needed.is_file():
            raise InputFileError(needed, f"missing: {path} is not a model bundle (expected {MODEL_FILE} + {MANIFEST_FILE})")
    try:
        text = manifest_path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(manifest_path, f"cannot read ({exc})") from None
    manifest = Manifest.from_json(text, str(manifest_path))
    _check_sha(model_path, manifest.model_sha256)
    if manifest.intervals_sha256 is not None:
        ipath = path / INTERVALS_FILE
        if not ipath.is_file():
            raise InputFileError(ipath, "missing: the manifest lists prediction intervals but the file is absent")
        _check_sha(ipath, manifest.intervals_sha256)
    return manifest


def probe_in_child(path: str | os.PathLike[str], *, timeout: float = 120.0) -> None:
    """Load the bundle at ``path`` and predict one row in a child process; raise if that fails.

    XGBoost's loader can crash the process on a tampered model file whose checksum was forged; a
    service calls this before swapping a new model in, so a bad file costs a refused reload, not
    the service.

    Raises
    ------
    BundleMismatchError
        With the child's one-line error, or the signal that ended it.
    """
    code = "import sys; from hpcpredict.model import RuntimeModel; RuntimeModel.load(sys.argv[1]).probe()"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, "-c", code, os.fspath(path)], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise BundleMismatchError(f"{path}: loading the model took over {timeout:g} s in a probe process") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        why = lines[-1] if lines else f"the probe process ended with {_exit_reason(done.returncode)}"
        raise BundleMismatchError(f"{path}: refused, the model cannot be loaded and run: {why}")


def _exit_reason(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit status {code}"


def _check_sha(path: Path, sha256: str) -> None:
    if _sha256(path) != sha256:
        raise BundleMismatchError(f"{path}: checksum does not match the manifest; the model file is damaged or was edited")


def _load_booster(path: Path) -> xgb.Booster:
    booster = xgb.Booster()
    try:
        booster.load_model(path)
    except xgb.core.XGBoostError as exc:
        raise BundleMismatchError(f"{path}: not a readable XGBoost model ({str(exc).splitlines()[0]})") from None
    return booster


def _check_main(manifest: Manifest, booster: xgb.Booster, model_path: Path) -> None:
    names = manifest.feature_names
    if booster.feature_names is not None and list(booster.feature_names) != names:
        raise BundleMismatchError(f"{model_path}: feature names {list(booster.feature_names)} differ from the manifest's {names}")
    for f, t in zip(manifest.features, booster.feature_types or []):
        want = "categorical" if t == "c" else "numeric"
        if f.kind != want:
            raise BundleMismatchError(f"{model_path}: feature {f.name!r} is {f.kind} in the manifest but {want} in the model file")
    stored = _booster_categories(booster)
    for name, cats in manifest.categories.items():
        if stored and stored.get(name) is not None and list(stored[name]) != list(cats):
            raise BundleMismatchError(f"{model_path}: the categories of {name!r} differ from those the model was trained with")
    _check_outputs(booster, model_path, objective=manifest.xgb_objective, outputs=1, n_features=len(names))


def _booster_categories(booster: xgb.Booster) -> dict | None:
    """Categories stored in the model file (XGBoost >= 3.1), or None when this XGBoost has none."""
    try:
        arrow = booster.get_categories(export_to_arrow=True).to_arrow()
    except (AttributeError, TypeError, ValueError, xgb.core.XGBoostError):
        return None
    if arrow is None:
        return None
    return {name: (None if values is None else [str(v) for v in values.to_pylist()]) for name, values in arrow}


def _check_outputs(booster: xgb.Booster, path: Path, *, objective: str, outputs: int, n_features: int) -> None:
    """The model file's objective and outputs per row are those its role needs."""
    try:
        learner = json.loads(booster.save_config())["learner"]
        found = learner["objective"]["name"]
        targets = int(learner["learner_model_param"].get("num_target", "1"))
    except (KeyError, ValueError, xgb.core.XGBoostError):
        raise BundleMismatchError(f"{path}: the model file has no readable configuration") from None
    if found != objective:
        raise BundleMismatchError(f"{path}: the model file's objective is {found!r}, the manifest says {objective!r} (a model file from another bundle, or the intervals model?)")
    if booster.num_features() != n_features or targets != outputs:
        raise BundleMismatchError(
            f"{path}: the model file has {booster.num_features()} features and {targets} output(s) per row; "
            f"its role needs {n_features} and {outputs} (the intervals model cannot stand in for the main one)"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def nan_row(n_features: int) -> np.ndarray:
    """One all-missing row, float32: the probe every model must answer."""
    return np.full((1, n_features), np.nan, dtype=np.float32)
