"""The feature registry: every feature's family and horizon, the earliest moment its inputs exist.

A feature built for horizon ``submit`` may only use what is known when the job is submitted;
``start`` adds what is known when it starts (wait, placement); ``end`` adds counters recorded
during the run (post-mortem analysis only). :func:`available` answers which features a model of a
given horizon may see; the manifest of a trained model records them.

A few features are built only on request (:data:`OPTIONAL`, ``hpcpredict features --with GROUP``):
measured on the real traces they help one and cost a little on the others (docs/models.md), so
they are not part of a default model. A model trained with them names them, and every prediction
path builds what the model names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import ParameterError

__all__ = ["HORIZONS", "OPTIONAL", "FeatureSpec", "REGISTRY", "available", "check_horizon", "check_optional", "register", "spec"]

#: Horizons in time order.
HORIZONS = ("submit", "start", "end")


@dataclass(frozen=True)
class FeatureSpec:
    """What one feature is and when it exists.

    Attributes
    ----------
    name : str
        Column name, with its unit where it has one (``user_last2_mean_s``).
    family : str
        Group used by explanations: request, calendar, history, queue, system_fs, system_net,
        system_cpu, placement, job_fs, job_net, job_cpu, ...
    horizon : str
        One of :data:`HORIZONS`.
    description : str
        One line a user understands; used in per-job reasons.
    kind : str
        ``"numeric"`` or ``"categorical"``.
    """

    name: str
    family: str
    horizon: str
    description: str
    kind: str = "numeric"

    def to_dict(self) -> dict[str, str]:
        """The spec as plain JSON-able values."""
        return asdict(self)


REGISTRY: dict[str, FeatureSpec] = {}

#: Groups of features built only when asked for, group name -> feature names.
OPTIONAL: dict[str, tuple[str, ...]] = {}


def check_horizon(horizon: str) -> str:
    """Return ``horizon`` if it is one of :data:`HORIZONS`, else raise ParameterError."""
    if horizon not in HORIZONS:
        raise ParameterError("horizon", f"one of {', '.join(map(repr, HORIZONS))}", horizon)
    return horizon


def check_optional(groups) -> tuple[str, ...]:
    """Return ``groups`` (one name or several) as a tuple if each is a group of :data:`OPTIONAL`,
    else raise ParameterError.

    Examples
    --------
    >>> from hpcpredict.features import available  # registers every feature
    >>> check_optional("user-activity")
    ('user-activity',)
    """
    groups = (groups,) if isinstance(groups, str) else tuple(groups)
    unknown = [g for g in groups if g not in OPTIONAL]
    if unknown:
        raise ParameterError("optional (--with)", f"one of {', '.join(map(repr, sorted(OPTIONAL)))}", unknown[0])
    return groups


def register(name: str, family: str, horizon: str, description: str, *, kind: str = "numeric", optional: str | None = None) -> FeatureSpec:
    """Add a feature to :data:`REGISTRY` and return its spec; ``optional`` names the group of
    :data:`OPTIONAL` it belongs to, for a feature built only when asked for."""
    check_horizon(horizon)
    if kind not in ("numeric", "categorical"):
        raise ParameterError("kind", "'numeric' or 'categorical'", kind)
    feature = FeatureSpec(name, family, horizon, description, kind)
    REGISTRY[name] = feature
    if optional is not None:
        OPTIONAL[optional] = (*OPTIONAL.get(optional, ()), name)
    return feature


def spec(name: str) -> FeatureSpec:
    """The registered spec of ``name``."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ParameterError("name", "a registered feature", name) from None


def available(horizon: str, optional=()) -> list[FeatureSpec]:
    """Features whose inputs exist at ``horizon`` (those of earlier horizons included), with those
    of the :data:`OPTIONAL` groups named in ``optional`` (``"all"`` for every group).

    Examples
    --------
    >>> from hpcpredict.features import available
    >>> {f.horizon for f in available("submit")}
    {'submit'}
    >>> "user_since_last_submit_s" in {f.name for f in available("submit", ["user-activity"])}
    True
    """
    limit = HORIZONS.index(check_horizon(horizon))
    groups = OPTIONAL if optional == "all" else check_optional(optional)
    left_out = {name for group, names in OPTIONAL.items() if group not in groups for name in names}
    return [f for f in REGISTRY.values() if HORIZONS.index(f.horizon) <= limit and f.name not in left_out]
