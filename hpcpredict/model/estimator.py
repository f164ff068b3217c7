"""``RuntimeModel``: a scikit-learn estimator around XGBoost (hist) for runtime or any numeric target."""

from __future__ import annotations

import copy as copy_module
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted, column_or_1d

from ..scale import check_device
from .combine import CLASS_COLUMNS, apply_combination, cap_at_limit, combination_columns, hidden_from_trees, history_classes, learn_rules, ratio_scale
from .encoding import EncodedRows, encode_frame, encode_rows
from .intervals import INTERVAL_QUANTILES, calibrate_intervals, interval_values
from .objectives import DEFAULT_OBJECTIVE, get_objective

# cap_at_limit, encode_frame and the interval functions live in .combine, .encoding and .intervals
__all__ = ["INTERVAL_QUANTILES", "RuntimeModel", "calibrate_intervals", "cap_at_limit", "encode_frame", "interval_values"]

def default_threads() -> int:
    """XGBoost threads when ``n_jobs`` is not given: ``OMP_NUM_THREADS`` when set, else the CPUs
    this process may run on. Honouring the variable matters when several processes share the
    cores (``pytest -n 2``, Dask workers): OpenMP threads spin-wait, and oversubscribed they run
    many times slower."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class RuntimeModel(RegressorMixin, BaseEstimator):
    """Gradient-boosted trees (XGBoost ``hist``) that predict runtime, or any positive numeric target.

    The objective follows the metric the user cares about (see
    :mod:`hpcpredict.model.objectives`); the default, ``"absolute"``, minimises absolute error in
    target units. Categorical columns of a DataFrame (dtype ``category``, ``object``, ``string``,
    ``bool``) are kept native (``enable_categorical``); categories not seen in training become
    missing values. Early stopping watches the last ``validation_fraction`` of the training rows
    *in time* (pass ``time=`` to :meth:`fit`, else rows are taken in the order given), so the
    number of trees is chosen on jobs that come after the rest, as the future will.

    Parameters
    ----------
    objective : str
        ``"absolute"`` (default), ``"relative"``, ``"squared_log"``, ``"underestimate"`` or ``"aft"``.
    quantile_alpha : float, optional
        The quantile fitted by ``"underestimate"`` (default 0.9).
    intervals : bool
        Also fit p10/p50/p90 with a multi-quantile booster (``reg:quantileerror``); see
        :meth:`predict_interval`.
    n_estimators, early_stopping_rounds : int
        Most boosting rounds, and patience on the validation slice (``None``: no early stopping).
    validation_fraction : float
        Share of the latest training rows held for early stopping (0.2: a tenth of a trace's
        latest jobs is often one user's burst, and the trees chosen on it overfit that burst).
    min_trees : int
        Early stopping never keeps fewer trees (capped at ``n_estimators``): on a lopsided
        validation slice (NREL Eagle: one user's 453 jobs of one second) the best iteration can
        be the second, a model that has learnt nothing.
    learning_rate, max_depth, subsample, colsample_bytree, min_child_weight :
        XGBoost tree parameters.
    aft_distribution : {"normal", "logistic", "extreme"}
        Error distribution of ``"aft"``; ``aft_sigma`` its scale.
    device : {"cpu", "cuda"}
        Passed to XGBoost.
    n_jobs : int, optional
        Threads (default: all cores).
    random_state : int
        Seed of the row and column subsampling.
    limit_feature : str, optional
        The feature holding each job's time limit (:func:`~hpcpredict.model.train` sets
        ``"time_limit_s"`` for a runtime model). With it, :meth:`fit` learns from the training jobs
        whether to cap at the limit and, with ``combine``, how to blend the trees with a scheduler
        heuristic (:mod:`hpcpredict.model.combine`).
    ratio_target : bool
        With ``limit_feature`` and the ``absolute`` objective, fit runtime / limit with weight =
        limit (the same absolute error in seconds, while the trees split in ratio space, which
        carries over between limits) and answer ratio x limit.
    combine : bool
        Choose that blend on the validation slice (``False``: the trees alone).

    Attributes
    ----------
    booster_ : xgboost.Booster
        The fitted model, cut at the best iteration.
    interval_booster_ : xgboost.Booster or None
        The p10/p50/p90 model when ``intervals=True``.
    interval_calibration_ : dict or None
        The conformal shifts of p10 and p90 measured on the validation slice
        (:func:`calibrate_intervals`); None without intervals or validation rows.
    feature_names_in_ : ndarray of str
        Column names seen in :meth:`fit` (``x0, x1, ...`` are used internally for arrays).
    feature_kinds_ : dict
        Column → ``"numeric"`` or ``"categorical"``.
    categories_ : dict
        Categorical column → sorted categories seen in training.
    best_iteration_ : int
        Index of the last tree kept.
    limit_rule_, combination_ : dict or None
        Whether predictions are capped at the limit, and the blend with a heuristic, each with the
        training evidence (:mod:`hpcpredict.model.combine`); None without ``limit_feature``.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"limit_s": np.arange(200.0), "queue": ["a", "b"] * 100})
    >>> y = 10 + X["limit_s"] / 2
    >>> model = RuntimeModel(n_estimators=50).fit(X, y)
    >>> model.predict(X.iloc[:2]).round(0).tolist()  # doctest: +SKIP
    [13.0, 13.0]
    """

    def __init__(
        self,
        objective: str = DEFAULT_OBJECTIVE,
        *,
        quantile_alpha: float | None = None,
        intervals: bool = False,
        n_estimators: int = 2000,
        early_stopping_rounds: int | None = 50,
        validation_fraction: float = 0.2,
        min_trees: int = 50,
        learning_rate: float = 0.05,
        max_depth: int = 6,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 5.0,
        aft_distribution: str = "normal",
        aft_sigma: float = 1.0,
        device: str = "cpu",
        n_jobs: int | None = None,
        random_state: int = 0,
        limit_feature: str | None = None,
        ratio_target: bool = True,
        combine: bool = True,
    ) -> None:
        self.objective = objective
        self.quantile_alpha = quantile_alpha
        self.intervals = intervals
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.min_trees = min_trees
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.aft_distribution = aft_distribution
        self.aft_sigma = aft_sigma
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.limit_feature = limit_feature
        self.ratio_target = ratio_target
        self.combine = combine

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, *, time=None, censored=None, sample_weight=None, client=None) -> RuntimeModel:
        """Fit on ``X`` (DataFrame or array) and target ``y``.

        Parameters
        ----------
        time : array-like, optional
            When each row happened (e.g. submit time); the latest ``validation_fraction`` of rows
            become the early-stopping slice. Without it the last rows in the given order are used.
        censored : array-like of bool, optional
            Rows whose ``y`` is only a lower bound (a job killed at its time limit). Used by the
            ``"aft"`` objective; other objectives treat them as exact values.
        sample_weight : array-like, optional
            Per-row weights.
        client : distributed.Client, optional
            Train with ``xgboost.dask`` on this client's workers (rows split into partitions
            across them) instead of in this process; same parameters, same early stopping.
        """
        obj = get_objective(self.objective)
        check_device(self.device)
        if y is None:
            raise ValueError("RuntimeModel requires y to be passed, but the target y is None")
        frame = self._validate_X(X, fitting=True)
        yv = column_or_1d(check_array(np.asarray(y), ensure_2d=False, dtype="numeric", input_name="y"), warn=True).astype(float)
        if len(yv) != len(frame):
            raise ValueError(f"y must have one value per row of X ({len(frame)}); got {len(yv)}")
        if obj.transform == "log1p" or self.intervals:
            if np.any(yv <= -1):
                raise ValueError(f"objective {obj.name!r} fits log(1 + y) and needs y > -1")
        if obj.censored and np.any(yv <= 0):
            raise ValueError("the 'aft' objective needs a positive target")
        cens = np.zeros(len(yv), bool) if censored is None else np.asarray(censored, bool)
        weight = None
        if sample_weight is not None:
            weight = _check_sample_weight(sample_weight, frame, ensure_non_negative=True)
            if not np.any(weight > 0):
                raise ValueError("Sample weights must contain at least one non-zero number.")

        order = np.arange(len(frame)) if time is None else np.argsort(np.asarray(time), kind="stable")
        n_valid = int(len(frame) * self.validation_fraction) if self.early_stopping_rounds else 0
        n_valid = n_valid if n_valid >= 5 and len(frame) - n_valid >= 5 else 0
        fit_rows, valid_rows = order[: len(order) - n_valid], order[len(order) - n_valid :]

        self._client = client
        self._codes, self.manifest_, self.n_train_, self.n_valid_ = _codes_of(self.categories_), None, len(fit_rows), len(valid_rows)
        self.xgb_params_ = self._params(obj)
        # the trees fit the combination's own inputs as missing: they never split on them
        hidden = hidden_from_trees(self._names)
        trees_frame = frame.assign(**{n: np.nan for n in hidden}) if hidden else frame
        try:
            scale = self._ratio_scale(obj, frame)  # a runtime/limit target: MAE-optimal in seconds with weight = limit
            # weights = limit / its median: proportional (the fit stays MAE-optimal), and
            # min_child_weight counts jobs of the usual limit (with raw limits any leaf would pass
            # it; over the mean, one 2-day limit among minutes let no leaf of short jobs pass it)
            y_main, w_main = (yv, weight) if scale is None else (yv / scale, scale / np.median(scale) * (1.0 if weight is None else weight))
            self.booster_, self.best_iteration_ = self._boost(obj, trees_frame, y_main, cens, w_main, fit_rows, valid_rows)
            self.interval_booster_ = None
            self.interval_transform_ = None
            self.interval_calibration_ = None
            if self.intervals:
                self.interval_transform_ = "log1p" if np.all(yv >= 0) else "none"
                q = get_objective("underestimate")
                qobj = type(q)("intervals", q.xgb_objective, q.eval_metric, self.interval_transform_, "p10/p50/p90", quantile_alpha=None)
                self.interval_booster_, _ = self._boost(qobj, trees_frame, yv, cens, weight, fit_rows, valid_rows, alphas=list(INTERVAL_QUANTILES))
                self.interval_calibration_ = None
                if len(valid_rows):
                    held = self.interval_booster_.predict(xgb.DMatrix(trees_frame.iloc[valid_rows], enable_categorical=True, missing=np.nan))
                    held = np.sort(np.asarray(held).reshape(len(valid_rows), -1), axis=1)
                    self.interval_calibration_ = calibrate_intervals(held, qobj.forward(yv[valid_rows]))
            self._learn_rules(obj, frame, yv, valid_rows, scale)
        finally:
            del self._client  # a client is not part of the fitted model (nor picklable)
        return self

    def _ratio_scale(self, obj, frame: pd.DataFrame) -> np.ndarray | None:
        """Each row's limit when the trees fit runtime / limit (see :func:`.combine.ratio_scale`), else None."""
        if not self.ratio_target or obj.name != "absolute" or self.limit_feature not in frame.columns:
            return None
        scale, self._fallback_limit = ratio_scale(frame[self.limit_feature].to_numpy(float))
        return scale

    def _learn_rules(self, obj, frame: pd.DataFrame, y: np.ndarray, valid_rows: np.ndarray, scale: np.ndarray | None) -> None:
        """The cap (from all training jobs) and the combination (on the validation slice); see :mod:`.combine`."""
        self.limit_rule_ = self.combination_ = None
        if self.limit_feature is not None and self.limit_feature in frame.columns:
            held = frame.iloc[valid_rows]
            trees = obj.inverse(self.booster_.predict(xgb.DMatrix(held, enable_categorical=True, missing=np.nan))) if len(valid_rows) else np.zeros(0)
            trees = trees if scale is None else trees * scale[valid_rows]
            self.limit_rule_, self.combination_ = learn_rules(frame, y, valid_rows, trees, self._names, self.limit_feature, combine=self.combine)
        if self.limit_rule_ is not None:
            self.limit_rule_.update(ratio_target=scale is not None, fallback_limit=None if scale is None else self._fallback_limit)

    def _params(self, obj, alphas=None) -> dict:
        params = {
            "tree_method": "hist",
            "objective": obj.xgb_objective,
            "eval_metric": obj.eval_metric,
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "max_cat_to_onehot": 1,
            "device": self.device,
            "seed": self.random_state,
            "nthread": self.n_jobs or default_threads(),
        }
        if obj.xgb_objective == "reg:quantileerror":
            params["quantile_alpha"] = alphas if alphas is not None else (self.quantile_alpha or obj.quantile_alpha)
        if obj.censored:
            params["aft_loss_distribution"] = self.aft_distribution
            params["aft_loss_distribution_scale"] = self.aft_sigma
        return params

    def _matrix(self, frame, y, cens, weight, rows, obj) -> xgb.DMatrix:
        part = frame.iloc[rows]
        w = None if weight is None else weight[rows]
        if obj.censored:
            m = xgb.DMatrix(part, enable_categorical=True, missing=np.nan, weight=w)
            lower = y[rows]
            m.set_float_info("label_lower_bound", lower)
            m.set_float_info("label_upper_bound", np.where(cens[rows], np.inf, lower))
            return m
        return xgb.DMatrix(part, label=obj.forward(y[rows]), enable_categorical=True, missing=np.nan, weight=w)

    def _dask_matrix(self, frame, y, cens, weight, rows, obj):
        from xgboost import dask as dxgb

        from ..scale import dask_frame

        # Label, bounds and weight travel as extra columns of one frame, so their partitions
        # line up with the features' by construction.
        part = frame.iloc[rows].reset_index(drop=True)
        extra = {"__weight": None if weight is None else weight[rows]}
        if obj.censored:
            extra["__lower"] = y[rows]
            extra["__upper"] = np.where(cens[rows], np.inf, y[rows])
        else:
            extra["__label"] = obj.forward(y[rows])
        extra = {k: v for k, v in extra.items() if v is not None}
        both = dask_frame(part.assign(**extra), self._client)
        cols = {k[2:]: both[k] for k in extra}
        kwargs = {"label_lower_bound": cols.get("lower"), "label_upper_bound": cols.get("upper")} if obj.censored else {"label": cols["label"]}
        return dxgb.DaskDMatrix(self._client, both[list(part.columns)], weight=cols.get("weight"), enable_categorical=True, missing=np.nan, **kwargs)

    def _boost(self, obj, frame, y, cens, weight, fit_rows, valid_rows, alphas=None):
        client = getattr(self, "_client", None)
        matrix = self._matrix if client is None else self._dask_matrix
        dtrain = matrix(frame, y, cens, weight, fit_rows, obj)
        evals, stop = [], None
        if len(valid_rows):
            evals, stop = [(matrix(frame, y, cens, weight, valid_rows, obj), "validation")], self.early_stopping_rounds
        params = self._params(obj, alphas)
        if client is None:
            booster = xgb.train(params, dtrain, num_boost_round=self.n_estimators, evals=evals, early_stopping_rounds=stop, verbose_eval=False)
        else:
            from xgboost import dask as dxgb

            params.pop("nthread")  # each worker uses its own threads
            booster = dxgb.train(client, params, dtrain, num_boost_round=self.n_estimators, evals=evals, early_stopping_rounds=stop, verbose_eval=False)["booster"]
        best = int(booster.best_iteration) if stop else self.n_estimators - 1
        if stop:  # XGBoost boosted best + early_stopping_rounds rounds: the floor is among them when below that
            best = max(best, min(self.min_trees, booster.num_boosted_rounds()) - 1)
        return booster[: best + 1], best

    # -------------------------------------------------------------- predict
    def encode(self, X) -> EncodedRows:
        """``X`` as this model's input: a float32 matrix in its column order (see :mod:`.encoding`).

        ``X`` is a DataFrame or a mapping of column → values holding at least the model's features
        (categoricals as their labels), an array of numbers for a model fitted on arrays, or rows
        already encoded (returned as they are). For a runtime model the rows' ``time_limit_s``
        travels along, to cap the predictions.
        """
        if isinstance(X, EncodedRows):
            return X
        if not hasattr(self, "booster_"):  # check_is_fitted's answer, at a tenth of its cost per request
            check_is_fitted(self, "booster_")
        if isinstance(X, pd.DataFrame) and any(not isinstance(c, str) for c in X.columns):
            X = X.rename(columns=str)
        if not isinstance(X, (pd.DataFrame, Mapping)):
            X = self._validate_X(X, fitting=False)
        limit = "time_limit_s" if self.target == "runtime_s" else None
        return encode_rows(X, self._names, self.feature_kinds_, self._category_codes(), limit_column=limit)

    def predict(self, X, *, device: str | None = None) -> np.ndarray:
        """Predicted target for each row, in target units.

        A runtime model (one trained by :func:`~hpcpredict.model.train` on ``runtime_s``) answers
        the trees' ratio x the row's limit (runtime/limit target), blends it with the stored
        heuristic (``combination_``), caps it at the row's ``time_limit_s`` where the training jobs
        show the limit enforced (``limit_rule_``) and floors it at one second
        (:mod:`hpcpredict.model.combine`). ``device`` (``"cpu"`` or ``"cuda"``) is where XGBoost
        runs; default: as loaded.
        """
        rows = self.encode(X)
        pred = get_objective(self.objective).inverse(self._raw(self.booster_, rows, device)) * self.output_scale(rows)
        rule = getattr(self, "combination_", None)
        used = combination_columns(rule)
        if used:
            classes = None if "all" in rule["parts"] else history_classes(*(self._column(rows, n) for n in CLASS_COLUMNS))
            pred = apply_combination(pred, rule, {n: self._column(rows, n) for n in used}, self._column(rows, self.limit_feature), classes)
        return self._bounded(pred, rows)

    def output_scale(self, X) -> np.ndarray | float:
        """What the trees' output is multiplied by: each row's limit for a runtime/limit target
        (the training median where a row has none), else 1."""
        rule = getattr(self, "limit_rule_", None)
        if not rule or not rule.get("ratio_target"):
            return 1.0
        limit = self._column(self.encode(X), self.limit_feature)
        return np.where(np.isfinite(limit) & (limit > 0), limit, rule["fallback_limit"])

    def _column(self, rows: EncodedRows, name: str) -> np.ndarray:
        return rows.matrix[:, self._names.index(name)].astype(float)

    def predict_interval(self, X, *, device: str | None = None) -> np.ndarray:
        """p10, p50 and p90 of the target for each row, shape ``(n, 3)``, sorted along each row.

        Capped like :meth:`predict`. Raises ``ValueError`` when the model was fitted with
        ``intervals=False`` (see :attr:`has_intervals`).
        """
        if getattr(self, "interval_booster_", None) is None:
            check_is_fitted(self, "booster_")
            raise ValueError("this RuntimeModel was fitted without intervals; use intervals=True")
        rows = self.encode(X)
        values = interval_values(self._raw(self.interval_booster_, rows, device), self.interval_transform_, self.interval_calibration_)
        return self._bounded(values, rows)

    def contributions(self, X, *, device: str | None = None, interactions: bool = False) -> np.ndarray:
        """Exact TreeSHAP values of the rows (XGBoost ``pred_contribs``), bias in the last column;
        with ``interactions``, ``pred_interactions`` (rows x (features+1) x (features+1)). For a
        runtime/limit target they are multiplied by each row's limit: seconds that add up to the
        trees' prediction (before the combination and the cap)."""
        rows = self.encode(X)
        kind = {"pred_interactions": True} if interactions else {"pred_contribs": True}
        values = self._raw(self.booster_, rows, device, **kind)
        scale = np.asarray(self.output_scale(rows), float)
        return values * scale.reshape((-1,) + (1,) * (values.ndim - 1)) if scale.ndim else values

    def margin(self, X, *, device: str | None = None) -> np.ndarray:
        """The trees' raw output for the rows (log space for a log-target objective; seconds, the
        ratio times the limit, for a runtime/limit target)."""
        rows = self.encode(X)
        return self._raw(self.booster_, rows, device, output_margin=True) * self.output_scale(rows)

    def dmatrix(self, X) -> xgb.DMatrix:
        """The rows as an ``xgboost.DMatrix`` with the model's feature names and types."""
        types = ["c" if self.feature_kinds_[n] == "categorical" else "float" for n in self._names]
        return xgb.DMatrix(self.encode(X).matrix, feature_names=self._names, feature_types=types, enable_categorical=True, missing=np.nan)

    @property
    def has_intervals(self) -> bool:
        """Whether the model predicts p10/p50/p90 (fitted with ``intervals=True``)."""
        return getattr(self, "interval_booster_", None) is not None

    def _raw(self, booster: xgb.Booster, rows: EncodedRows, device: str | None, **kind) -> np.ndarray:
        """One place where XGBoost is asked: ``inplace_predict`` on the float32 matrix (no DMatrix,
        ~0.2 ms for one row), a DMatrix for SHAP and margins, a copy of the booster for another device."""
        if device is not None and check_device(device) != "cpu":
            booster = booster.copy()
            booster.set_param({"device": device})
        if kind or device not in (None, "cpu"):
            return booster.predict(self.dmatrix(rows), **kind)
        return booster.inplace_predict(rows.matrix)

    def _bounded(self, pred: np.ndarray, rows: EncodedRows) -> np.ndarray:
        if self.target != "runtime_s":
            return pred
        rule = getattr(self, "limit_rule_", None)
        return cap_at_limit(pred, rows.limit if rule is None or rule["enforced"] else None)

    def _category_codes(self) -> dict[str, dict[str, int]]:
        return self._codes

    def for_serving(self, *, device: str = "cpu") -> RuntimeModel:
        """A copy whose boosters predict with one thread on ``device``: concurrent one-row calls
        slowed to 11–27 ms with two threads each, against ~0.2 ms with one (DESIGN, measured)."""
        copy = copy_module.copy(self)
        for name in ("booster_", "interval_booster_"):
            booster = getattr(self, name)
            if booster is not None:
                booster = booster.copy()
                booster.set_param({"nthread": 1, "device": check_device(device)})
                setattr(copy, name, booster)
        return copy

    # ------------------------------------------------------- the fitted model
    @property
    def target(self) -> str | None:
        """The column predicted (from the manifest); None for a model fitted without :func:`train`."""
        manifest = getattr(self, "manifest_", None)
        return None if manifest is None else manifest.target

    @property
    def feature_names(self) -> list[str]:
        """Feature names, in the model's column order."""
        check_is_fitted(self, "booster_")
        return list(self._names)

    @property
    def families(self) -> dict[str, str]:
        """Feature → family (``"table"`` for a model fitted without feature specs)."""
        manifest = getattr(self, "manifest_", None)
        return manifest.families if manifest is not None else {n: "table" for n in self.feature_names}

    @property
    def horizon(self) -> str:
        """The horizon of the model's features (``"table"`` for a bring-your-own table)."""
        manifest = getattr(self, "manifest_", None)
        return manifest.horizon if manifest is not None else "table"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``model.ubj`` + ``manifest.json`` (+ ``intervals.ubj``) to the folder ``path`` atomically.

        A model fitted directly (not by :func:`~hpcpredict.model.train`) gets a manifest describing
        the estimator alone: target ``"y"``, horizon ``"table"``.

        Examples
        --------
        >>> import numpy as np, pandas as pd, tempfile
        >>> X = pd.DataFrame({"nodes": np.arange(100.0), "queue": ["a", "b"] * 50})
        >>> model = RuntimeModel(n_estimators=5, early_stopping_rounds=None).fit(X, 1 + X["nodes"])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     back = RuntimeModel.load(model.save(tmp + "/m"))
        ...     bool(np.allclose(back.predict(X), model.predict(X))), back.manifest_.n_trees
        (True, 5)
        """
        from .describe import describe_fit
        from .persist import write_parts

        check_is_fitted(self, "booster_")
        manifest = getattr(self, "manifest_", None) or describe_fit(self)
        self.manifest_ = write_parts(path, manifest, self.booster_, self.interval_booster_)
        self.path_ = Path(path)
        return self.path_

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RuntimeModel:
        """The fitted model saved at ``path``, after checking its manifest and model files.

        Raises
        ------
        InputFileError, BundleMismatchError
            One line naming the file and the problem (see :func:`hpcpredict.model.persist.load_parts`).
        """
        from .persist import load_parts

        manifest, booster, intervals = load_parts(path)
        known = cls().get_params()
        model = cls(**{k: v for k, v in manifest.hyperparameters.items() if k in known})
        model.booster_, model.interval_booster_, model.manifest_, model.path_ = booster, intervals, manifest, Path(path)
        model._names = manifest.feature_names
        model.feature_names_in_ = np.asarray(model._names, dtype=object)
        model.n_features_in_ = len(model._names)
        model.feature_kinds_ = {f.name: f.kind for f in manifest.features}
        model.categories_ = {name: list(cats) for name, cats in manifest.categories.items()}
        model._codes = _codes_of(model.categories_)
        model.best_iteration_ = manifest.n_trees - 1
        model.interval_transform_ = manifest.interval_transform
        model.interval_calibration_ = manifest.interval_calibration
        model.limit_rule_, model.combination_ = manifest.limit_rule, manifest.combination
        return model

    def probe(self) -> np.ndarray:
        """Predict one all-missing row with each booster and check the shapes (a loaded model works)."""
        from .persist import nan_row

        row = EncodedRows(nan_row(len(self._names)))
        main = np.asarray(self._raw(self.booster_, row, None)).reshape(-1)
        if main.shape != (1,) or not np.all(np.isfinite(main)):
            raise ValueError(f"the model answered {main.tolist()} for one row, expected one finite number")
        if self.interval_booster_ is not None and np.asarray(self._raw(self.interval_booster_, row, None)).size != len(INTERVAL_QUANTILES):
            raise ValueError("the intervals model does not answer three quantiles per row")
        return main

    # ------------------------------------------------------------- encoding
    def _validate_X(self, X, *, fitting: bool) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            if fitting:
                if X.shape[1] == 0 or X.shape[0] == 0:
                    raise ValueError(f"Found array with {X.shape[0]} sample(s) and {X.shape[1]} feature(s) while a minimum of 1 is required.")
                names = [str(c) for c in X.columns]
                self.feature_names_in_ = np.asarray(names, dtype=object)
                self.n_features_in_ = len(names)
                self.feature_kinds_ = {n: _kind(X[c]) for n, c in zip(names, X.columns)}
                self.categories_ = {
                    n: sorted(map(str, X[c].dropna().astype(str).unique()))
                    for n, c in zip(names, X.columns)
                    if self.feature_kinds_[n] == "categorical"
                }
                self._names = names
            frame = X.rename(columns=str)
            missing = [n for n in self._names if n not in frame.columns]
            if missing:
                raise ValueError(f"X is missing the columns {missing} seen in fit")
            return encode_frame(frame, self._names, self.feature_kinds_, self.categories_)
        arr = check_array(X, dtype="numeric", ensure_all_finite="allow-nan", input_name="X")
        if fitting:
            self.n_features_in_ = arr.shape[1]
            self.feature_kinds_ = {f"x{i}": "numeric" for i in range(arr.shape[1])}
            self.categories_ = {}
            self._names = list(self.feature_kinds_)
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif arr.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {arr.shape[1]} features, but RuntimeModel is expecting {self.n_features_in_} features as input.")
        return pd.DataFrame(arr.astype("float32"), columns=self._names)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def _codes_of(categories: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """Category → code (its position in the training categories), per categorical feature."""
    return {name: {c: i for i, c in enumerate(cats)} for name, cats in categories.items()}


def _kind(col: pd.Series) -> str:
    if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col) or pd.api.types.is_bool_dtype(col):
        return "categorical"
    return "numeric"
