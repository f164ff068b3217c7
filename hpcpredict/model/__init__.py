"""Runtime models: training, the bundle on disk, and prediction."""

from .bundle import Bundle, check_table, load_bundle, save_bundle
from .objectives import OBJECTIVES, get_objective
from .train import DEFAULT_PARAMS, predict_runtime, temporal_split, train

__all__ = [
    "DEFAULT_PARAMS",
    "OBJECTIVES",
    "Bundle",
    "check_table",
    "get_objective",
    "load_bundle",
    "predict_runtime",
    "save_bundle",
    "temporal_split",
    "train",
]
