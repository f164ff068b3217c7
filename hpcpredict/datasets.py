"""The small real traces shipped in the repository's ``data/`` folder (see ``data/README.md``)."""

from __future__ import annotations

from pathlib import Path

from .errors import ParameterError

__all__ = ["DATASETS", "data_dir", "dataset_path"]

#: Dataset name → (format, path under ``data/``).
DATASETS = {
    "kth-sp2": ("swf", "kth-sp2/KTH-SP2-1996-2.1-cln.swf.gz"),
}


def data_dir() -> Path:
    """The repository's ``data/`` folder (the package is installed in place from a checkout)."""
    return Path(__file__).resolve().parent.parent / "data"


def dataset_path(name: str) -> Path:
    """Path of a shipped dataset; raises ParameterError naming the choices."""
    if name not in DATASETS:
        raise ParameterError("dataset", f"one of {sorted(DATASETS)}", name)
    path = data_dir() / DATASETS[name][1]
    if not path.is_file():
        raise ParameterError("dataset", f"a dataset present under {data_dir()} (install hpcpredict from a checkout)", name)
    return path
