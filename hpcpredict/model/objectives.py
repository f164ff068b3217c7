"""Training objectives, each named for the error it serves.

``absolute`` (the default) fits runtime in seconds under absolute error (median regression):
measured on the SWF traces, it beats the user's requested time limit on MAE and average accuracy,
while a squared-error fit of log runtime (``squared_log``) underestimates long jobs and loses to the
limit on MAE.

================  ==============================  ===================================================
name              XGBoost objective               serves
================  ==============================  ===================================================
``absolute``      ``reg:absoluteerror``           MAE in target units (seconds); the default
``relative``      ``reg:absoluteerror`` on log    relative error, and average accuracy
                                                  mean(min(p, a) / max(p, a)) = mean(exp(-|log p/a|))
``squared_log``   ``reg:squarederror`` on log     squared relative error (mean of log runtime)
``underestimate`` ``reg:quantileerror`` on log    few underestimates: the ``quantile_alpha`` quantile
                                                  (0.9 unless given), so ~10% of jobs run longer
``aft``           ``survival:aft``                censored jobs (TIMEOUT: runtime >= limit) count as
                                                  "at least this long" instead of as exact runtimes
================  ==============================  ===================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError

__all__ = ["DEFAULT_OBJECTIVE", "OBJECTIVES", "Objective", "get_objective"]

DEFAULT_OBJECTIVE = "absolute"


@dataclass(frozen=True)
class Objective:
    """An XGBoost objective with the target transform it works on."""

    name: str
    xgb_objective: str
    eval_metric: str
    transform: str  # "none" or "log1p"
    description: str
    quantile_alpha: float | None = None
    censored: bool = False

    def forward(self, y: np.ndarray) -> np.ndarray:
        """Target → the space the model is fitted in."""
        return np.log1p(y) if self.transform == "log1p" else np.asarray(y, dtype=float)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Model output → target units."""
        return np.expm1(z) if self.transform == "log1p" else np.asarray(z, dtype=float)


OBJECTIVES = {
    o.name: o
    for o in (
        Objective("absolute", "reg:absoluteerror", "mae", "none", "absolute error in target units (median regression)"),
        Objective("relative", "reg:absoluteerror", "mae", "log1p", "absolute error of log target (relative error, average accuracy)"),
        Objective("squared_log", "reg:squarederror", "rmse", "log1p", "squared error of log target"),
        Objective("underestimate", "reg:quantileerror", "quantile", "log1p", "an upper quantile (0.9): few underestimates", quantile_alpha=0.9),
        Objective("aft", "survival:aft", "aft-nloglik", "none", "accelerated failure time: censored jobs are lower bounds", censored=True),
    )
}


def get_objective(name: str) -> Objective:
    """The objective called ``name``; raises ParameterError naming the choices.

    Examples
    --------
    >>> get_objective("relative").xgb_objective
    'reg:absoluteerror'
    """
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ParameterError("objective", f"one of {sorted(OBJECTIVES)}", name) from None
