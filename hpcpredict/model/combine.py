"""After the trees: the time-limit cap and the combination with the user's own recent behaviour.

A runtime model learns two small rules from its training jobs, both stored in the manifest and
applied by the one prediction path (:meth:`RuntimeModel.predict`: ``predict``, ``evaluate``, the
queue and the service):

- **The cap at the limit, only where the limit is enforced** (:func:`limit_rule`). A scheduler that
  kills jobs at their limit makes "never predict past the limit" free accuracy; where limits are
  advisory (39% of one real trace's jobs ran past theirs, median 1.5x) the cap costs accuracy.
- **A combination with a scheduler heuristic** (:func:`choose_combination`). Absolute error makes
  the trees predict a conditional median, which serves MAE; average accuracy
  mean(exp(-|log p - log a|)) rewards the mode of a user's runtimes, which the ALEA heuristic (the
  job's limit times the user's recent runtime/limit ratio) lands on. On the time-ordered validation
  slice — the training jobs nearest the future, which the trees were not fitted on — the model
  picks, for each class of history (below), ``w x model + (1 - w) x heuristic`` (arithmetic or
  geometric mean, w in 0, 0.1, ..., 1, heuristic among the ALEA history features and the limit)
  that together serve both metrics at once: they maximise (best heuristic MAE / MAE) x (AA / best
  heuristic AA) in the worse of the slice's two halves. ``w = 1`` is the trees alone, ``w = 0`` a
  heuristic alone; it is chosen afresh at every refit.

The classes of history are read from the user's **repeats of the same request** (the earlier jobs
with the job's time limit and CPUs, :data:`~hpcpredict.features.history.REPEAT_FEATURES`): a user
resubmitting a request whose last two runs ended at the same share of the limit is repeating a
job, where the last ratio is the best guess; a request the user never made before is a new job,
where the user's other jobs say less. The repeat features are inputs of this combination only:
the trees never see them (:func:`hidden_from_trees`; measured, they make the trees worse).
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLEND_WEIGHTS", "CLASS_COLUMNS", "CLASS_NAMES", "FORMS", "MIN_CLASS_JOBS", "apply_combination", "blend", "blend_options", "cap_at_limit", "choose_combination", "combination_columns", "heuristic_columns", "heuristic_values", "hidden_from_trees", "history_classes", "learn_rules", "limit_rule", "ratio_scale"]

#: Weights of the model tried by :func:`choose_combination`.
BLEND_WEIGHTS = tuple(round(w, 1) for w in np.linspace(0.0, 1.0, 11))

#: How a blend averages the model and the heuristic: in seconds or in log space.
FORMS = ("arithmetic", "geometric")

#: A limit counts as enforced when this share of the training jobs with a limit ended within
#: ``_GRACE`` x their limit (schedulers allow grace periods and accounting adds seconds).
_ENFORCED_SHARE, _GRACE = 0.98, 1.05

#: History classes of :func:`history_classes`, the features they are read from (the user's last two
#: runtime/limit ratios, then those of the user's jobs with the same request), and how close the
#: last two ratios of a request must be for the user to count as repeating a job.
CLASS_NAMES = ("no_history", "consistent", "varied", "new_request")
CLASS_COLUMNS = ("user_ratio_last2_max", "user_ratio_last2_mean", "repeat_ratio_last2_max", "repeat_ratio_last2_mean")
CONSISTENT_WITHIN = 0.05

#: A class with fewer validation jobs than this takes the best single blend for all jobs, not one of
#: its own: a choice on a handful of jobs is noise (a 21-job class of one real trace chose a
#: heuristic that was off by 25x on the next week's burst of one user's jobs).
MIN_CLASS_JOBS = 30


def hidden_from_trees(names) -> list[str]:
    """The features the trees must not split on: the combination's own inputs (the repeats of a
    request), which the estimator fits as missing.

    Examples
    --------
    >>> hidden_from_trees(["req_cpus", "repeat_ratio_last2_max", "user_ratio_last2_max"])
    ['repeat_ratio_last2_max']
    """
    from ..features.history import REPEAT_FEATURES

    return [n for n in names if n in REPEAT_FEATURES]


def cap_at_limit(pred: np.ndarray, limit: np.ndarray | None) -> np.ndarray:
    """Runtime predictions ``pred`` (n,) or (n, k) capped at each job's ``limit`` (n,; NaN = no limit)
    — the scheduler ends a job there — and floored at one second.

    Examples
    --------
    >>> cap_at_limit(np.array([0.2, 50.0, 7200.0]), np.array([np.nan, 60.0, 3600.0])).tolist()
    [1.0, 50.0, 3600.0]
    """
    pred = np.asarray(pred, float)
    if limit is not None:
        limit = np.asarray(limit, float).reshape((-1,) + (1,) * (pred.ndim - 1))
        pred = np.where(np.isfinite(limit) & (limit > 0), np.minimum(pred, limit), pred)
    return np.maximum(pred, 1.0)


def limit_rule(runtime: np.ndarray, limit: np.ndarray) -> dict:
    """Whether the training jobs show the limit enforced, with the evidence.

    Returns ``{"enforced": bool, "within_limit": share, "jobs_with_limit": n}``: enforced when at
    least 98% of the jobs with a limit ended within 1.05x of it (or when no job has a limit: the
    cap then changes nothing).

    Examples
    --------
    >>> limit_rule(np.array([50.0, 100.0, 300.0]), np.array([100.0, 100.0, 100.0]))
    {'enforced': False, 'within_limit': 0.667, 'jobs_with_limit': 3}
    """
    runtime, limit = np.asarray(runtime, float), np.asarray(limit, float)
    known = np.isfinite(limit) & (limit > 0) & np.isfinite(runtime)
    if not known.any():
        return {"enforced": True, "within_limit": None, "jobs_with_limit": 0}
    share = float(np.mean(runtime[known] <= _GRACE * limit[known]))
    return {"enforced": share >= _ENFORCED_SHARE, "within_limit": round(share, 3), "jobs_with_limit": int(known.sum())}


def heuristic_columns(names: list[str], limit_feature: str) -> list[str]:
    """The features a runtime model may combine with: the ALEA history features and the limit.

    Examples
    --------
    >>> heuristic_columns(["time_limit_s", "user_alea_last2_max_s", "req_cpus"], "time_limit_s")
    ['user_alea_last2_max_s', 'time_limit_s']
    """
    from ..features.history import alea_source

    return [n for n in names if alea_source(n) is not None] + [limit_feature]


def blend(model: np.ndarray, heuristic: np.ndarray, weight: float, form: str) -> np.ndarray:
    """``weight`` x ``model`` + (1 - ``weight``) x ``heuristic`` (``form`` ``"geometric"``: in log space);
    the model where the heuristic has no value."""
    model = np.maximum(np.asarray(model, float), 1.0)
    h = np.where(np.isfinite(heuristic), np.maximum(heuristic, 1.0), model)
    if form == "geometric":
        return np.exp(weight * np.log(model) + (1.0 - weight) * np.log(h))
    return weight * model + (1.0 - weight) * h


def heuristic_values(values: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """A heuristic feature as the scheduler heuristic: the limit where the user has no history.

    Examples
    --------
    >>> heuristic_values(np.array([50.0, np.nan]), np.array([100.0, 600.0])).tolist()
    [50.0, 600.0]
    """
    values = np.asarray(values, float)
    return np.where(np.isfinite(values), values, limit)


def _accuracy(pred: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Each job's accuracy min(p, a) / max(p, a): the terms of the evaluation's average accuracy."""
    from ..evaluate.metrics import accuracy  # here: the evaluate package imports the model package

    return accuracy(pred, actual)


def _scores(pred: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """MAE and average accuracy (the evaluation's own metric)."""
    return float(np.mean(np.abs(pred - actual))), float(np.mean(_accuracy(pred, actual)))


def blend_options(heuristics) -> list[tuple[str | None, str, float]]:
    """Every blend :func:`choose_combination` considers for one class, as ``(heuristic, form,
    weight)``: the trees alone first (so that a tie keeps them), then each heuristic in each form
    at each weight of the model below 1.

    Examples
    --------
    >>> options = blend_options(["time_limit_s"])
    >>> len(options), options[0], options[1][:2], float(options[1][2])
    (21, (None, 'arithmetic', 1.0), ('time_limit_s', 'arithmetic'), 0.0)
    """
    return [(None, "arithmetic", 1.0)] + [(h, f, w) for h in heuristics for f in FORMS for w in BLEND_WEIGHTS if w < 1.0]


def history_classes(user_max: np.ndarray | None, user_mean: np.ndarray | None, repeat_max: np.ndarray | None = None, repeat_mean: np.ndarray | None = None) -> np.ndarray:
    """Each job's class of history, by how reliable "as the user's last jobs" is for it:
    0 — the user has no earlier job with a limit; 1 — the user made this request (time limit and
    CPUs) before and its last two runtime/limit ratios are within :data:`CONSISTENT_WITHIN` of
    each other (a user repeating a job); 2 — further apart; 3 — a request the user never made
    before. The arguments are the max and mean of the last two ratios of the user's jobs, then of
    the user's jobs with the same request.

    Examples
    --------
    >>> nan = np.nan
    >>> history_classes(np.array([nan, 0.5, 0.5, 0.5]), np.array([nan, 0.5, 0.5, 0.5]),
    ...                 np.array([nan, 0.5, 0.9, nan]), np.array([nan, 0.49, 0.5, nan])).tolist()
    [0, 1, 2, 3]
    """
    if user_max is None or user_mean is None or repeat_max is None or repeat_mean is None:
        return np.zeros(0 if user_max is None else len(user_max), int)
    user = np.isfinite(np.asarray(user_max, float) - np.asarray(user_mean, float))
    spread = 2.0 * (np.asarray(repeat_max, float) - np.asarray(repeat_mean, float))  # |r1 - r2| of the last two
    return np.where(~user, 0, np.where(~np.isfinite(spread), 3, np.where(spread <= CONSISTENT_WITHIN, 1, 2)))


def choose_combination(
    model: np.ndarray, actual: np.ndarray, heuristics: dict[str, np.ndarray], limit: np.ndarray, *, cap: bool, classes: np.ndarray | None = None
) -> dict | None:
    """For each class of history, the blend of the model with one heuristic that, together,
    beat the best heuristic on MAE and average accuracy by the largest margin, measured on
    ``actual`` (the validation slice, in time order).

    The margin of a combination is log((best heuristic MAE / MAE) x (AA / best heuristic AA)):
    relative gains on the two metrics count alike, so a large lead in MAE is not traded for a small
    one in accuracy (nor the reverse). It is taken on the earlier and the later half of the slice
    separately and the smaller counts: a combination that wins in one burst of jobs and loses in
    the other is not chosen for the future. Nor is a combination worse than the trees alone on both
    metrics over the whole slice.

    Each class of history (:func:`history_classes`) gets its own heuristic, form and model
    weight: where a user repeats a job, the last job's ratio may be the best guess; where the
    user's jobs vary, a mean over five jobs or the trees. The search starts from every single
    blend for all classes and improves one class at a time (two rounds); a class with fewer than
    :data:`MIN_CLASS_JOBS` validation jobs takes the best single blend for all jobs instead of a
    choice of its own. The MAE and accuracy
    of each blend are summed per class and half once, so a step is a few array operations.

    Parameters
    ----------
    model : ndarray
        The trees' predictions of the validation jobs (seconds).
    actual : ndarray
        Their runtimes.
    heuristics : dict
        Feature name → its values on those jobs (:func:`heuristic_columns`).
    limit : ndarray
        Their time limits (NaN = none).
    cap : bool
        Whether predictions are capped at the limit (:func:`limit_rule`).
    classes : ndarray of int, optional
        Each job's history class; None: one blend for all.

    Returns
    -------
    dict or None
        ``{"parts", "validation"}``: ``parts`` maps a class name (:data:`CLASS_NAMES`;
        ``"all"`` without classes) to ``{"heuristic", "form",
        "weight"}`` (heuristic None: the trees alone); ``validation`` the scores behind the choice.
        None for fewer than 20 jobs.

    Examples
    --------
    >>> a = np.array([100.0, 900.0] * 20)                        # users run to 90% of their limit
    >>> rule = choose_combination(np.full(40, 500.0), a, {"alea": 0.9 * np.array([111.0, 1000.0] * 20)}, np.array([111.0, 1000.0] * 20), cap=True)
    >>> rule["parts"]
    {'all': {'heuristic': 'alea', 'form': 'arithmetic', 'weight': 0.0}}
    """
    actual = np.asarray(actual, float)
    if len(actual) < 20:
        return None
    limit = np.asarray(limit, float)
    codes = np.zeros(len(actual), int) if classes is None else np.asarray(classes, int)
    names = ("all",) if classes is None else CLASS_NAMES
    bound = (lambda p: cap_at_limit(p, limit)) if cap else (lambda p: np.maximum(p, 1.0))
    candidates = {name: heuristic_values(values, limit) for name, values in heuristics.items()}
    halves = np.arange(len(actual)) < len(actual) // 2  # the slice is in time order: its earlier and later half
    parts = (np.ones(len(actual), bool), halves, ~halves)
    # the best heuristic on each metric, on the whole slice and on each half, as the scheduler (and
    # the evaluation's baselines) apply them: capped at the limit
    scored = [[_scores(p[rows], actual[rows]) for rows in parts] for p in (cap_at_limit(np.where(np.isfinite(h), h, model), limit) for h in candidates.values())]
    bars = np.array([(min(s[i][0] for s in scored), max(s[i][1] for s in scored)) for i in range(len(parts))])
    best_mae, best_aa = bars[0]

    # every blend (the trees alone first, so that a tie keeps them), its summed absolute error and
    # accuracy per (class, part of the slice)
    options = blend_options(candidates)
    cell = codes[:, None] * len(parts) + np.arange(len(parts))[None, :]  # (job, part) → class x part
    inside = np.stack(parts, axis=1)
    size = len(names) * len(parts)
    err, acc = np.empty((len(options), len(names), len(parts))), np.empty((len(options), len(names), len(parts)))
    for i, (h, form, w) in enumerate(options):
        pred = bound(model if h is None else blend(model, candidates[h], w, form))
        e, a = np.abs(pred - actual), _accuracy(pred, actual)
        err[i] = np.bincount(cell[inside], np.repeat(e[:, None], len(parts), 1)[inside], size).reshape(len(names), len(parts))
        acc[i] = np.bincount(cell[inside], np.repeat(a[:, None], len(parts), 1)[inside], size).reshape(len(names), len(parts))
    counts = inside.sum(axis=0).astype(float)

    def margins(e: np.ndarray, a: np.ndarray) -> np.ndarray:
        """The margin (the smaller of the two halves') of summed errors/accuracies ``(..., parts)``."""
        mae, aa = e / counts, a / counts
        both = np.log((bars[:, 0] + 1.0) / (mae + 1.0)) + np.log(aa / np.maximum(bars[:, 1], 1e-12))
        return np.minimum(both[..., 1], both[..., 2])

    def total(choice: list[int]) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(names))
        return err[choice, rows].sum(axis=0), acc[choice, rows].sum(axis=0)

    trees_e, trees_a = err[0, :, 0].sum(), acc[0, :, 0].sum()
    def worse_than_trees(e: np.ndarray, a: np.ndarray) -> bool:
        """Worse than the trees alone on both metrics over the whole slice: a worse-half margin won
        by chance in one half (seen on 73 validation jobs of the simulated demo)."""
        return bool(e[0] > trees_e + 1e-9 and a[0] < trees_a - 1e-12)

    # a class with too few validation jobs for a choice of its own takes the best blend for all jobs
    present = [c for c in range(len(names)) if np.sum(codes == c) >= MIN_CLASS_JOBS]
    shared = max((i for i in range(len(options)) if not worse_than_trees(err[i].sum(axis=0), acc[i].sum(axis=0))),
                 key=lambda i: float(margins(err[i].sum(axis=0), acc[i].sum(axis=0))))
    best_choice, best_margin = [shared] * len(names), -np.inf
    for start in range(len(options)):
        choice = [start if c in present else shared for c in range(len(names))]
        for _ in range(2 if len(present) > 1 else 0):
            for c in present:
                e, a = total(choice)
                rest_e, rest_a = e - err[choice[c], c], a - acc[choice[c], c]
                choice[c] = int(np.argmax(margins(rest_e + err[:, c], rest_a + acc[:, c])))
        e, a = total(choice)
        if worse_than_trees(e, a):
            continue
        m = float(margins(e, a))
        if m > best_margin + 1e-12:
            best_choice, best_margin = choice, m
    e, a = total(best_choice)
    mae, aa = e[0] / counts[0], a[0] / counts[0]
    trees_mae, trees_aa = trees_e / counts[0], trees_a / counts[0]
    validation = {"jobs": int(len(actual)), "mae": round(float(mae), 1), "average_accuracy": round(float(aa), 4), "trees_mae": round(float(trees_mae), 1),
                  "trees_average_accuracy": round(float(trees_aa), 4), "best_heuristic_mae": round(float(best_mae), 1), "best_heuristic_average_accuracy": round(float(best_aa), 4)}
    if classes is not None:
        validation["jobs_by_class"] = {n: int(np.sum(codes == i)) for i, n in enumerate(names)}
    chosen = {n: dict(zip(("heuristic", "form", "weight"), options[i])) for n, i in zip(names, best_choice)}
    return {"parts": {n: {**p, "weight": float(p["weight"])} for n, p in chosen.items()}, "validation": validation}


def ratio_scale(limit: np.ndarray) -> tuple[np.ndarray | None, float | None]:
    """What a runtime/limit target divides each training runtime by: the job's limit, the median
    limit for a job without one; ``(None, None)`` when under 90% of the jobs have a limit.

    Fitting r = runtime / limit under absolute error with sample weight proportional to the limit
    (the estimator divides it by its median) minimises exactly the absolute error in seconds of
    r x limit, while the trees split in ratio space, where what is learnt from one limit carries
    over to the others.

    Examples
    --------
    >>> ratio_scale(np.array([3600.0, np.nan, 7200.0, 600.0]))
    (None, None)
    >>> scale, fallback = ratio_scale(np.array([3600.0] * 9 + [np.nan]))
    >>> fallback, float(scale[-1])
    (3600.0, 3600.0)
    """
    limit = np.asarray(limit, float)
    known = np.isfinite(limit) & (limit > 0)
    if not len(limit) or known.mean() < 0.9:
        return None, None
    fallback = float(np.median(limit[known]))
    return np.where(known, limit, fallback), fallback


def learn_rules(frame, y: np.ndarray, valid_rows: np.ndarray, trees: np.ndarray, names: list[str], limit_feature: str, *, combine: bool) -> tuple[dict, dict | None]:
    """The limit rule from all training rows of ``frame`` and, with ``combine``, the combination
    chosen on the validation rows from the trees' predictions of them (``trees``, seconds)."""
    limit = frame[limit_feature].to_numpy(float)
    rule = limit_rule(y, limit)
    if not combine or not len(valid_rows):
        return rule, None
    held = frame.iloc[valid_rows]
    columns = {n: held[n].to_numpy(float) for n in heuristic_columns(names, limit_feature)}
    classes = history_classes(*(held[n].to_numpy(float) for n in CLASS_COLUMNS)) if set(CLASS_COLUMNS) <= set(names) else None
    return rule, choose_combination(trees, y[valid_rows], columns, limit[valid_rows], cap=rule["enforced"], classes=classes)


def combination_columns(rule: dict | None) -> list[str]:
    """The heuristic features a stored combination reads (none for the trees alone).

    Examples
    --------
    >>> combination_columns({"parts": {"consistent": {"heuristic": "user_alea_last2_max_s", "form": "arithmetic", "weight": 0.0},
    ...                                "varied": {"heuristic": None, "form": "arithmetic", "weight": 1.0}}})
    ['user_alea_last2_max_s']
    """
    if not rule:
        return []
    return list(dict.fromkeys(p["heuristic"] for p in rule["parts"].values() if p["heuristic"] is not None))


def apply_combination(model: np.ndarray, rule: dict | None, columns: dict[str, np.ndarray], limit: np.ndarray | None, classes: np.ndarray | None = None) -> np.ndarray:
    """The stored combination applied to the trees' predictions ``model``: each job blended with its
    history class's heuristic (``columns``: feature name → values); ``model`` unchanged without one.

    Examples
    --------
    >>> rule = {"parts": {"all": {"heuristic": "time_limit_s", "form": "geometric", "weight": 0.5}}}
    >>> apply_combination(np.array([100.0]), rule, {"time_limit_s": np.array([400.0])}, np.array([400.0])).round(6).tolist()
    [200.0]
    """
    model = np.asarray(model, float)
    if not combination_columns(rule):
        return model
    limit = np.full(len(model), np.nan) if limit is None else np.asarray(limit, float)
    parts = rule["parts"]
    codes = np.zeros(len(model), int) if "all" in parts else np.asarray(classes, int)
    names = ("all",) if "all" in parts else CLASS_NAMES
    out = model.copy()
    for code, name in enumerate(names):
        part, rows = parts[name], codes == code
        if part["heuristic"] is not None and rows.any():
            out[rows] = blend(model[rows], heuristic_values(columns[part["heuristic"]][rows], limit[rows]), part["weight"], part["form"])
    return out
