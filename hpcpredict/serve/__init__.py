"""The prediction service: an ASGI app (FastAPI) and :func:`serve` to run it with uvicorn."""

from __future__ import annotations

import importlib
import os

from .limits import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, ServiceLimits, server_config

__all__ = ["DEFAULT_MAX_BATCH", "DEFAULT_MAX_BODY_BYTES", "OnlinePredictor", "ServiceLimits", "create_app", "serve", "server_config"]


def serve(
    model: str | os.PathLike[str],
    *,
    jobs: str | os.PathLike[str] | None = None,
    samples: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    token_file: str | os.PathLike[str] | None = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    device: str = "cpu",
    limits: ServiceLimits = ServiceLimits(),
    refresh_s: float | None = None,
    collect: bool = False,
    nodes: int | None = None,
) -> None:
    """Serve ``model`` over HTTP until interrupted (see :func:`create_app`).

    ``samples`` (a samples folder) gives the system state for models with monitoring features:
    read once at start-up (and on each reload) for the moment of the snapshot.

    ``limits`` sets the read timeout (request head, and again the body), the keep-alive timeout
    and the connection cap (:class:`ServiceLimits`). Without ``token_file``, ``/predict`` is open
    and ``/admin/reload`` is off. ``refresh_s`` (with ``collect``) keeps the snapshot of history
    current from the jobs table (and the live Slurm); see :func:`create_app`.
    """
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
    from .app import create_app

    app = create_app(model, jobs=jobs, samples=samples, token=token, max_batch=max_batch, max_body_bytes=max_body_bytes,
                     read_timeout_s=limits.read_timeout_s, device=device, refresh_s=refresh_s, collect=collect, nodes=nodes)
    uvicorn.Server(server_config(app, host=host, port=port, limits=limits)).run()


def __getattr__(name: str):
    # FastAPI and XGBoost load when the service is built, not when its CLI options are listed.
    if name in ("create_app", "PendingJob", "PredictRequest"):
        return getattr(importlib.import_module(".app", __name__), name)
    if name == "OnlinePredictor":
        return importlib.import_module(".online", __name__).OnlinePredictor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
