"""Errors a user can act on.

Every error hpcpredict raises for bad input derives from :class:`HpcPredictError`. The CLI
prints such an error as one line on stderr and exits with status 2; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

from os import PathLike

__all__ = ["HpcPredictError", "InputFileError", "BundleMismatchError", "OutputPathError", "ParameterError"]


class HpcPredictError(Exception):
    """Base class of the errors that describe bad input rather than a bug."""


class ParameterError(HpcPredictError, ValueError):
    """A parameter has a value outside what the function accepts.

    The message follows one template: which parameter, what was expected, what came.

    Examples
    --------
    >>> str(ParameterError("horizon", "one of 'submit', 'start', 'end'", "later"))
    "The 'horizon' parameter must be one of 'submit', 'start', 'end'. Got 'later' instead."
    """

    def __init__(self, name: str, expected: str, got: object) -> None:
        super().__init__(f"The {name!r} parameter must be {expected}. Got {got!r} instead.")


class InputFileError(HpcPredictError):
    """A file cannot be read as the format it claims to be.

    Parameters
    ----------
    path : path-like
        The file at fault.
    message : str
        What is wrong, in words.
    line : int, optional
        1-based line number, when the fault is on one line.
    field : str, optional
        The field (column) at fault.

    Examples
    --------
    >>> str(InputFileError("log.swf", "expected 18 fields, found 17", line=30))
    'log.swf:30: expected 18 fields, found 17'
    """

    def __init__(
        self,
        path: str | PathLike[str],
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        where = self.path if line is None else f"{self.path}:{line}"
        what = message if field is None else f"field {field!r}: {message}"
        super().__init__(f"{where}: {what}")


class BundleMismatchError(HpcPredictError):
    """A model bundle does not fit the data or the code it is used with."""


class OutputPathError(HpcPredictError):
    """An output path would destroy something hpcpredict did not write, or one of the inputs.

    Examples
    --------
    >>> str(OutputPathError("thesis", "it is a folder hpcpredict did not write"))
    'refusing to write thesis: it is a folder hpcpredict did not write'
    """

    def __init__(self, path: str | PathLike[str], reason: str) -> None:
        self.path = str(path)
        super().__init__(f"refusing to write {self.path}: {reason}")
