"""hpcpredict: runtime prediction and explanation from longitudinal HPC monitoring data.

The stages are plain functions that read and write files (Parquet tables, JSON metadata, model
bundles), each also reachable from the ``hpcpredict`` command line:

>>> import hpcpredict
>>> hpcpredict.ingest("swf", ["trace.swf"], "jobs.parquet")  # doctest: +SKIP
>>> hpcpredict.features("jobs.parquet", "features.parquet", horizon="submit")  # doctest: +SKIP
>>> hpcpredict.train("features.parquet", "model/")  # doctest: +SKIP
>>> hpcpredict.evaluate("model/", "features.parquet")  # doctest: +SKIP
"""

from ._version import __version__
from .demo import demo
from .errors import BundleMismatchError, HpcPredictError, InputFileError, ParameterError
from .evaluate import evaluate
from .explain import explain, shap_values
from .features import build_features, features
from .ingest import ingest, read_pbs, read_sacct, read_swf, read_table
from .model import load_bundle, train
from .predict import predict

__all__ = [
    "BundleMismatchError",
    "HpcPredictError",
    "InputFileError",
    "ParameterError",
    "__version__",
    "build_features",
    "demo",
    "evaluate",
    "explain",
    "features",
    "ingest",
    "load_bundle",
    "predict",
    "read_pbs",
    "read_sacct",
    "read_swf",
    "read_table",
    "shap_values",
    "train",
]
