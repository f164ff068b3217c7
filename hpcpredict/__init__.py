"""hpcpredict: runtime prediction and explanation from longitudinal HPC monitoring data.

The stages are plain functions that read and write files (Parquet tables, JSON metadata, model
bundles), each also reachable from the ``hpcpredict`` command line:

>>> import hpcpredict
>>> hpcpredict.ingest("swf", ["trace.swf"], "jobs.parquet")  # doctest: +SKIP
>>> hpcpredict.features("jobs.parquet", "features.parquet", horizon="submit")  # doctest: +SKIP
>>> hpcpredict.train("features.parquet", "model/")  # doctest: +SKIP
>>> hpcpredict.evaluate("model/", "features.parquet")  # doctest: +SKIP

Where a function shares its name with a subpackage (``ingest``, ``features``, ``evaluate``,
``explain``, ``report``, ``simulate``), the attribute is the function; import helpers from the subpackage
explicitly (``from hpcpredict.ingest import quarantine_path``).
"""

from ._version import __version__
from .demo import demo
from .errors import BundleMismatchError, HpcPredictError, InputFileError, ParameterError
from .evaluate import evaluate
from .explain import explain, shap_values
from .explain.job import explain_job
from .features import build_features, features
from .ingest import ingest, ingest_samples, read_ldms, read_pbs, read_sacct, read_samples, read_swf, read_table, read_topology
from .model import RuntimeModel, load_bundle, load_model, train
from .predict import predict
from .queue import predict_queued, read_queue
from .report import report
from .simulate import simulate

__all__ = [
    "BundleMismatchError",
    "RuntimeModel",
    "HpcPredictError",
    "InputFileError",
    "ParameterError",
    "__version__",
    "build_features",
    "demo",
    "evaluate",
    "explain",
    "explain_job",
    "features",
    "ingest",
    "ingest_samples",
    "load_bundle",
    "load_model",
    "predict",
    "predict_queued",
    "read_ldms",
    "read_pbs",
    "read_queue",
    "read_sacct",
    "read_samples",
    "read_swf",
    "read_table",
    "read_topology",
    "report",
    "shap_values",
    "simulate",
    "train",
]
