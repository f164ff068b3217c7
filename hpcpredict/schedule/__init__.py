"""Scheduling value of runtime predictions: a backfilling replay and start-time prediction."""

from .compare import compare_predictors
from .engine import ScheduleRun, replay_schedule
from .metrics import BOUNDED_SLOWDOWN_TAU_S, summarize_run
from .predictors import PREDICTORS, Prediction, predict_workload
from .profile import Profile
from .start_accuracy import evaluate_start_predictions, score_starts
from .starts import plan_starts, queue_start_times
from .workload import Workload, job_sizes, load_workload, workload_from_jobs

__all__ = [
    "BOUNDED_SLOWDOWN_TAU_S",
    "PREDICTORS",
    "Prediction",
    "Profile",
    "ScheduleRun",
    "Workload",
    "compare_predictors",
    "evaluate_start_predictions",
    "plan_starts",
    "queue_start_times",
    "score_starts",
    "load_workload",
    "predict_workload",
    "replay_schedule",
    "summarize_run",
    "job_sizes",
    "workload_from_jobs",
]
