"""Subpackages that were once shadowed by a function of the same name stay callable, with a warning.

``hpcpredict.features`` is the subpackage (``import hpcpredict.features`` gives the module, as
Python means it to); the verbs live in :mod:`hpcpredict.api`. Code written when
``hpcpredict.features(...)`` was a function keeps working: calling one of these subpackages calls
its verb and emits a :class:`DeprecationWarning` naming the replacement.
"""

from __future__ import annotations

import sys
import types
import warnings

__all__ = ["make_callable"]


class _VerbModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        verb = self.__name__.rsplit(".", 1)[-1]
        warnings.warn(
            f"calling the subpackage hpcpredict.{verb}(...) is deprecated; use hpcpredict.api.{verb}(...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, verb)(*args, **kwargs)


def make_callable(name: str) -> None:
    """Let the already-imported module ``name`` be called as its verb (deprecated use)."""
    sys.modules[name].__class__ = _VerbModule
