"""Training objectives, each named for the error it serves.

``absolute`` (the default) fits runtime in seconds under absolute error: measured on the SWF
traces, it beats the user's requested time limit on MAE and average accuracy, while a squared-error
fit of log runtime (``squared_log``) underestimates long jobs and loses to the limit on MAE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError

__all__ = ["OBJECTIVES", "Objective", "get_objective"]


@dataclass(frozen=True)
class Objective:
    """An XGBoost objective with the target transform it works on."""

    name: str
    xgb_objective: str
    eval_metric: str
    transform: str  # "none" or "log1p"
    description: str

    def forward(self, y: np.ndarray) -> np.ndarray:
        """Target → the space the model is fitted in."""
        return np.log1p(y) if self.transform == "log1p" else np.asarray(y, dtype=float)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Model output → target units."""
        return np.expm1(z) if self.transform == "log1p" else np.asarray(z, dtype=float)


OBJECTIVES = {
    o.name: o
    for o in (
        Objective("absolute", "reg:absoluteerror", "mae", "none", "absolute error in seconds (median regression)"),
        Objective("squared_log", "reg:squarederror", "rmse", "log1p", "squared error of log runtime (relative error)"),
    )
}


def get_objective(name: str) -> Objective:
    """The objective called ``name``; raises ParameterError naming the choices."""
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ParameterError("objective", f"one of {sorted(OBJECTIVES)}", name) from None
