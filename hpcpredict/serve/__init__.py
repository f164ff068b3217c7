"""The prediction service: an ASGI app (FastAPI) and :func:`serve` to run it with uvicorn."""

from __future__ import annotations

import os

from .app import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, create_app
from .online import OnlinePredictor

__all__ = ["DEFAULT_MAX_BATCH", "DEFAULT_MAX_BODY_BYTES", "OnlinePredictor", "create_app", "serve"]


def serve(
    model: str | os.PathLike[str],
    *,
    jobs: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    token_file: str | os.PathLike[str] | None = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    device: str = "cpu",
    nodes: int | None = None,
) -> None:
    """Serve ``model`` over HTTP until interrupted (see :func:`create_app`)."""
    import uvicorn

    from ..errors import InputFileError

    token = None
    if token_file is not None:
        try:
            token = open(token_file).read().strip()
        except OSError as exc:
            raise InputFileError(token_file, f"cannot read the token file ({exc.strerror})") from None
        if not token:
            raise InputFileError(token_file, "the token file is empty")
    app = create_app(model, jobs=jobs, token=token, max_batch=max_batch, max_body_bytes=max_body_bytes, device=device, nodes=nodes)
    uvicorn.run(app, host=host, port=port, log_level="info")
