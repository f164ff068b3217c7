"""Per-job features, each with a family and a horizon (see :mod:`.registry`)."""

from .build import KEY_COLUMNS, build_features, feature_specs, features, read_features
from .registry import HORIZONS, OPTIONAL, REGISTRY, FeatureSpec, available, register

__all__ = [
    "HORIZONS",
    "KEY_COLUMNS",
    "OPTIONAL",
    "REGISTRY",
    "FeatureSpec",
    "available",
    "build_features",
    "feature_specs",
    "features",
    "read_features",
    "register",
]

from .._verbs import make_callable  # noqa: E402  (last: the module must be complete)

make_callable(__name__)
