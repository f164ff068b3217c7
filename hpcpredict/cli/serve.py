"""``hpcpredict serve``: the prediction service."""

from __future__ import annotations

from pathlib import Path

import typer

from ..serve.limits import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, ServiceLimits
from ._common import handle_errors


@handle_errors
def serve(
    model: Path = typer.Argument(..., help="Model bundle folder.", show_default=False),
    jobs: Path | None = typer.Option(None, "--jobs", help="Jobs table giving users' history and the system state."),
    samples: Path | None = typer.Option(None, "--samples", help="Node monitoring samples (folder from `hpcpredict ingest ldms`), for models with system-state features."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port"),
    token_file: Path | None = typer.Option(None, "--token-file", help="File holding the bearer token clients must send."),
    max_batch: int = typer.Option(DEFAULT_MAX_BATCH, "--max-batch", help="Most jobs in one request."),
    max_body_bytes: int = typer.Option(DEFAULT_MAX_BODY_BYTES, "--max-body-bytes", help="Largest request body."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (where XGBoost predicts)."),
    read_timeout_s: float = typer.Option(ServiceLimits.read_timeout_s, "--read-timeout-s", help="Most seconds to receive a request's head, and again its body."),
    keep_alive_s: int = typer.Option(ServiceLimits.keep_alive_s, "--keep-alive-s", help="Seconds an idle keep-alive connection stays open."),
    max_connections: int = typer.Option(ServiceLimits.max_connections, "--max-connections", help="Connections served at once (more get 503 at once)."),
    refresh: float | None = typer.Option(None, "--refresh", help="Every so many minutes, rebuild the snapshot from --jobs (swapped in atomically)."),
    collect: bool = typer.Option(False, "--collect", help="With --refresh: run `hpcpredict collect` on --jobs first (the live Slurm)."),
    nodes: int | None = typer.Option(None, "--nodes", help="Machine size: requests may then ask for expected start times (\"start\": true)."),
) -> None:
    """Serve predictions over HTTP: POST /predict, GET /health, POST /admin/reload (OpenAPI at /docs).

    /admin/reload is off unless --token-file is given.
    """
    from ..serve import serve as run_service

    limits = ServiceLimits(read_timeout_s=read_timeout_s, keep_alive_s=keep_alive_s, max_connections=max_connections)
    run_service(model, jobs=jobs, samples=samples, host=host, port=port, token_file=token_file, max_batch=max_batch,
                max_body_bytes=max_body_bytes, device=device, limits=limits,
                refresh_s=refresh * 60 if refresh is not None else None, collect=collect, nodes=nodes)
