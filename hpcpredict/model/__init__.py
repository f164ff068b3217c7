"""Runtime models: the estimator, training, the bundle on disk, and prediction."""

from .bundle import Bundle, check_table, load_bundle, save_bundle, unseen_categories
from .estimator import INTERVAL_QUANTILES, RuntimeModel
from .objectives import DEFAULT_OBJECTIVE, OBJECTIVES, get_objective
from .table import read_job_table
from .train import DEFAULT_PARAMS, load_training_table, predict_interval, predict_runtime, temporal_split, train

__all__ = [
    "DEFAULT_OBJECTIVE",
    "DEFAULT_PARAMS",
    "INTERVAL_QUANTILES",
    "OBJECTIVES",
    "Bundle",
    "RuntimeModel",
    "check_table",
    "get_objective",
    "load_bundle",
    "load_training_table",
    "predict_interval",
    "predict_runtime",
    "read_job_table",
    "save_bundle",
    "temporal_split",
    "train",
    "unseen_categories",
]
