"""Queued-job prediction: read the queue, rebuild the state at a moment, predict with reasons."""

from .formats import QUEUE_FORMATS, read_queue
from .predict import predict_queued, queued_features
from .reasons import reasons_from_contributions, top_reasons
from .replay import replay
from .state import as_of, latest_time

__all__ = [
    "QUEUE_FORMATS",
    "as_of",
    "latest_time",
    "predict_queued",
    "queued_features",
    "read_queue",
    "reasons_from_contributions",
    "replay",
    "top_reasons",
]
