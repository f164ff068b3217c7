"""hpcpredict: runtime prediction and explanation from longitudinal HPC monitoring data.

The stages are plain functions that read and write files (Parquet tables, JSON metadata, model
folders), each also a command of the ``hpcpredict`` CLI. They are gathered in
:mod:`hpcpredict.api`; those whose name is not also a subpackage's are here too:

>>> import hpcpredict
>>> from hpcpredict.api import ingest, features, evaluate
>>> ingest("swf", ["trace.swf"], "jobs.parquet")  # doctest: +SKIP
>>> features("jobs.parquet", "features.parquet", horizon="submit")  # doctest: +SKIP
>>> model = hpcpredict.train("features.parquet", "model/")  # doctest: +SKIP
>>> evaluate(model, "features.parquet")  # doctest: +SKIP

``hpcpredict.features``, ``.ingest``, ``.evaluate``, ``.explain``, ``.report`` and ``.simulate``
are subpackages (``import hpcpredict.features`` gives the module); calling one as a function still
works but is deprecated. Names are imported on first use, so ``import hpcpredict`` is quick.

>>> import hpcpredict.features, hpcpredict.ingest
>>> type(hpcpredict.features).__name__, callable(hpcpredict.ingest.read_swf)
('_VerbModule', True)
"""

from __future__ import annotations

import importlib
import warnings

from ._version import __version__
from .errors import BundleMismatchError, HpcPredictError, InputFileError, ParameterError

#: Public name → the module that defines it (imported on first use).
_LAZY = {
    "RuntimeModel": ".model",
    "load_model": ".model",
    "train": ".model",
    "predict": ".prediction",
    "demo": "._demo",
    "predict_queued": ".queue",
    "read_queue": ".queue",
    "build_features": ".features",
    "explain_job": ".explain.job",
    "shap_values": ".explain.values",
    "ingest_samples": ".ingest",
    "read_ldms": ".ingest",
    "read_pbs": ".ingest",
    "read_sacct": ".ingest",
    "read_samples": ".ingest",
    "read_swf": ".ingest",
    "read_table": ".ingest",
    "read_topology": ".ingest",
}
_SUBPACKAGES = ("api", "ingest", "features", "model", "evaluate", "explain", "report", "queue", "serve", "simulate", "schedule", "scale", "errors")

__all__ = [
    "BundleMismatchError",
    "HpcPredictError",
    "InputFileError",
    "ParameterError",
    "__version__",
    *sorted(_LAZY),
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name == "load_bundle":
        warnings.warn("hpcpredict.load_bundle is deprecated; use hpcpredict.load_model", DeprecationWarning, stacklevel=2)
        return importlib.import_module(".model", __name__).RuntimeModel.load
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, *_SUBPACKAGES])
