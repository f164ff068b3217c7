"""Evaluate a model beside baselines computed on the same jobs, under temporal and other splits."""

from .baselines import BASELINES, baseline_predictions
from .evaluation import evaluate, held_out_rows, split_predictions
from .metrics import METRICS, average_accuracy, interval_coverage, score
from .result import EvaluationResult
from .splits import SPLITS

__all__ = ["BASELINES", "METRICS", "SPLITS", "EvaluationResult", "average_accuracy", "baseline_predictions", "evaluate", "held_out_rows", "interval_coverage", "score", "split_predictions"]

from .._verbs import make_callable  # noqa: E402  (last: the module must be complete)

make_callable(__name__)
