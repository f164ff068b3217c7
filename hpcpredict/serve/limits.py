"""The service's default limits, importable without loading FastAPI (the CLI shows them in --help)."""

__all__ = ["DEFAULT_MAX_BATCH", "DEFAULT_MAX_BODY_BYTES"]

#: Most jobs in one ``/predict`` request.
DEFAULT_MAX_BATCH = 1000
#: Largest request body, bytes.
DEFAULT_MAX_BODY_BYTES = 1_000_000
