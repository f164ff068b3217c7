"""Scheduling value of runtime predictions: a backfilling replay and start-time prediction."""

from .compare import compare_predictors
from .engine import ScheduleRun, replay_schedule
from .metrics import BOUNDED_SLOWDOWN_TAU_S, summarize_run
from .predictors import PREDICTORS, Prediction, predict_workload
from .profile import Profile
from .workload import Workload, load_workload, workload_from_jobs

__all__ = [
    "BOUNDED_SLOWDOWN_TAU_S",
    "PREDICTORS",
    "Prediction",
    "Profile",
    "ScheduleRun",
    "Workload",
    "compare_predictors",
    "load_workload",
    "predict_workload",
    "replay_schedule",
    "summarize_run",
    "workload_from_jobs",
]
