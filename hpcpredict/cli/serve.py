"""``hpcpredict serve``: the prediction service."""

from __future__ import annotations

from pathlib import Path

import typer

from ..serve import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES
from ..serve import serve as run_service
from ._common import handle_errors


@handle_errors
def serve(
    model: Path = typer.Argument(..., help="Model bundle folder.", show_default=False),
    jobs: Path | None = typer.Option(None, "--jobs", help="Jobs table giving users' history and the system state."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port"),
    token_file: Path | None = typer.Option(None, "--token-file", help="File holding the bearer token clients must send."),
    max_batch: int = typer.Option(DEFAULT_MAX_BATCH, "--max-batch", help="Most jobs in one request."),
    max_body_bytes: int = typer.Option(DEFAULT_MAX_BODY_BYTES, "--max-body-bytes", help="Largest request body."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (where XGBoost predicts)."),
    nodes: int | None = typer.Option(None, "--nodes", help="Machine size: requests may then ask for expected start times (\"start\": true)."),
) -> None:
    """Serve predictions over HTTP: POST /predict, GET /health, POST /admin/reload (OpenAPI at /docs)."""
    run_service(model, jobs=jobs, host=host, port=port, token_file=token_file, max_batch=max_batch, max_body_bytes=max_body_bytes, device=device, nodes=nodes)
