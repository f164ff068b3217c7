"""The HTTP JSON service: ``POST /predict``, ``GET /health``, ``POST /admin/reload``.

The model is loaded once; a reload builds the new predictor beside the old one and swaps a single
reference, so requests in flight finish on the model they started with and none is dropped.
Malformed or out-of-range input gets a 4xx answer with a message, never a 500: NaN, Infinity,
numbers past float range and lone surrogates included (the answer never echoes the input, which
JSON could not always encode). ``/admin/reload`` is off unless a token is set; answers and errors
name a bundle by its folder name, never by its path.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import pandas as pd
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from .._version import __version__
from ..errors import HpcPredictError
from ..model import RuntimeModel
from ..model.persist import probe_in_child, verify_files
from .online import OnlinePredictor
from .refresh import refresh_forever

__all__ = ["DEFAULT_MAX_BATCH", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_READ_TIMEOUT_S", "PendingJob", "PredictRequest", "create_app"]

from .limits import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, DEFAULT_READ_TIMEOUT_S
_EARLIEST, _LATEST = datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)
_log = logging.getLogger("hpcpredict.serve")


def _encodable(value: str) -> str:
    """Refuse text that UTF-8 cannot carry (a lone surrogate from a ``\\udXXX`` escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


#: Text that can be encoded back into an answer.
Text = Annotated[str, AfterValidator(_encodable)]


class PendingJob(BaseModel):
    """One job waiting in the queue, as the scheduler knows it at submission."""

    model_config = ConfigDict(extra="forbid")

    job_id: Text = Field(min_length=1, max_length=128, description="Scheduler job id.")
    user: Text | None = Field(None, max_length=256)
    app: Text | None = Field(None, max_length=256, description="Application or job name.")
    account: Text | None = Field(None, max_length=256)
    partition: Text | None = Field(None, max_length=256)
    qos: Text | None = Field(None, max_length=256)
    submit_time: datetime | None = Field(None, description="Submission time (ISO 8601); default now.")
    time_limit_s: float | None = Field(None, gt=0, le=366 * 86400, description="Requested time limit, seconds.")
    req_nodes: int | None = Field(None, ge=1, le=10_000_000)
    req_cpus: int | None = Field(None, ge=1, le=1_000_000_000)
    req_mem_bytes: float | None = Field(None, ge=0, le=1e18)

    @field_validator("time_limit_s", "req_nodes", "req_cpus", "req_mem_bytes", "submit_time", mode="before")
    @classmethod
    def _not_a_boolean(cls, value):
        if isinstance(value, bool):
            raise ValueError("must be a number or time, not true/false")
        return value

    @field_validator("submit_time")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        if not _EARLIEST <= value < _LATEST:
            raise ValueError("must lie between 1970 and 2100")
        return value


class PredictRequest(BaseModel):
    """One or many pending jobs."""

    model_config = ConfigDict(extra="forbid")
    jobs: list[PendingJob] = Field(min_length=1)
    start: bool = Field(False, description="Also each job's expected start, planned behind the snapshot's running and pending jobs (needs serve --nodes).")


class Prediction(BaseModel):
    job_id: str
    predicted_runtime_s: float
    predicted_p10_s: float | None = None
    predicted_p90_s: float | None = None
    predicted_end_if_started_now: datetime
    expected_start: datetime | None = None
    reasons: list[str]


class ReloadRequest(BaseModel):
    """Which bundle to load; default the current one, re-read."""

    model_config = ConfigDict(extra="forbid")
    model: Text | None = Field(None, max_length=4096, description="New bundle folder; default: the current one, re-read.")


class PredictResponse(BaseModel):
    model: str
    predictions: list[Prediction]


def create_app(
    model: str | os.PathLike[str],
    *,
    jobs: str | os.PathLike[str] | None = None,
    samples=None,
    token: str | None = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
    device: str = "cpu",
    refresh_s: float | None = None,
    collect: bool = False,
    nodes: int | None = None,
) -> FastAPI:
    """Build the ASGI application serving ``model``.

    Parameters
    ----------
    model : path
        Model bundle folder.
    jobs : path, optional
        Jobs table (Parquet) giving users' history and the system state at load time.
    samples : optional
        Node samples, for models with system-state features.
    token : str, optional
        When set, ``/predict`` and ``/admin/reload`` need ``Authorization: Bearer <token>``.
        Without it ``/admin/reload`` is off (403): nobody may make the service load files.
    max_batch, max_body_bytes : int
        Largest number of jobs in one request, and largest request body.
    read_timeout_s : float
        Most seconds to receive a request body (408 after); the request head's deadline is the
        server's (:func:`~hpcpredict.serve.limits.server_config`).
    device : {"cpu", "cuda"}
        Where XGBoost predicts (see :class:`OnlinePredictor`); a reload keeps it.
    refresh_s : float, optional
        Rebuild the snapshot from the ``jobs`` table every so many seconds, and swap it in
        atomically (:mod:`hpcpredict.serve.refresh`).
    collect : bool
        With ``refresh_s``: run ``hpcpredict collect`` on the table first (new accounting from
        the live Slurm).
    nodes : int, optional
        Machine size: requests may then ask for expected start times (``"start": true``),
        planned behind the snapshot's running and pending jobs
        (:class:`hpcpredict.schedule.snapshot.SnapshotPlanner`).
    """
    if refresh_s is not None and (jobs is None or refresh_s <= 0):
        from ..errors import ParameterError

        raise ParameterError("refresh_s", "a positive number of seconds, with a jobs table to refresh from", refresh_s)
    jobs_df = pd.read_parquet(jobs) if jobs is not None else None
    first = OnlinePredictor(RuntimeModel.load(model), jobs_df, samples, device=device)
    state = {"predictor": first, "planner": _planner(first, nodes), "model": str(model),
             "loaded": datetime.now(timezone.utc), "jobs_df": jobs_df}
    reload_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        task = None
        if refresh_s is not None:
            task = asyncio.create_task(refresh_forever(state, reload_lock, jobs=jobs, every_s=refresh_s, collect=collect,
                                                       samples=samples, device=device, plan=lambda p: _planner(p, nodes)))
        yield
        if task is not None:
            task.cancel()

    app = FastAPI(title="hpcpredict", version=__version__, description="Runtime predictions for jobs waiting in the queue.",
                  lifespan=lifespan)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own answer echoes each bad input, and cannot encode NaN or a lone surrogate
        # (a 500): say where and what, never the value.
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "invalid")), "type": str(e.get("type", ""))} for e in exc.errors()]
        return _json({"detail": errors}, 422)

    too_large = f"request body larger than {max_body_bytes} bytes"

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body_bytes):
            return _json({"detail": too_large}, 413)
        if request.method == "POST":
            try:
                body = await asyncio.wait_for(_read_body(request, max_body_bytes), read_timeout_s)
            except asyncio.TimeoutError:
                return _json({"detail": f"request body not received within {read_timeout_s:g} s"}, 408)
            if body is None:
                return _json({"detail": too_large}, 413)
            request._body = body  # the stream is consumed; hand the bytes on
        return await call_next(request)

    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        if token is None:
            return
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(status_code=401, detail="missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    @app.get("/health")
    def health() -> dict:
        predictor = state["predictor"]
        return {
            "status": "ok",
            "version": __version__,
            "model": Path(state["model"]).name,
            "loaded": state["loaded"].isoformat(),
            "snapshot": predictor.at.isoformat(),
            "features": len(predictor.names),
        }

    @app.post("/predict", response_model=PredictResponse, dependencies=[Depends(authorised)])
    async def predict(request: PredictRequest) -> dict:
        if len(request.jobs) > max_batch:
            raise HTTPException(status_code=413, detail=f"at most {max_batch} jobs per request, got {len(request.jobs)}")
        predictor, planner = state["predictor"], state["planner"]  # a reload mid-request does not affect them
        if request.start and planner is None:
            raise HTTPException(status_code=400, detail="start times need the service started with --nodes (the machine size)")
        jobs = [job.model_dump() for job in request.jobs]
        try:
            # A few jobs take about a millisecond: answer on the event loop rather than pay for a
            # thread hop; a large batch goes to a worker thread so /health stays responsive.
            out = predictor.predict(jobs) if len(jobs) <= 16 else await asyncio.to_thread(predictor.predict, jobs)
        except HpcPredictError as exc:
            raise HTTPException(status_code=400, detail=_without_paths(str(exc))) from None
        if request.start:
            for answer, start in zip(out, planner.expected_starts(jobs, [a["predicted_runtime_s"] for a in out])):
                answer["expected_start"] = start.to_pydatetime()
        return {"model": Path(state["model"]).name, "predictions": out}

    def reload_allowed() -> None:
        if token is None:
            raise HTTPException(status_code=403, detail="reload is off: start the service with --token-file to allow it")

    @app.post("/admin/reload", dependencies=[Depends(reload_allowed), Depends(authorised)])
    async def reload(request: ReloadRequest | None = None) -> dict:
        path = (request.model if request and request.model else None) or state["model"]
        async with reload_lock:
            try:
                predictor = await asyncio.to_thread(_load_predictor, Path(path), state["jobs_df"], samples, device)
            except HpcPredictError as exc:
                _log.warning("reload of %s refused: %s", path, exc)
                raise HTTPException(status_code=400, detail=_without_paths(str(exc))) from None
            planner = await asyncio.to_thread(_planner, predictor, nodes)
            state.update(predictor=predictor, planner=planner, model=str(path), loaded=datetime.now(timezone.utc))
        return {"status": "reloaded", "model": Path(path).name}

    return app


def _planner(predictor: OnlinePredictor, nodes: int | None):
    """Start-time planning over the predictor's snapshot, when the machine size is known."""
    if nodes is None:
        return None
    from ..schedule.snapshot import SnapshotPlanner

    return SnapshotPlanner(predictor, nodes)


def _load_predictor(path: Path, jobs_df, samples, device: str) -> OnlinePredictor:
    """A predictor for the bundle at ``path``, loaded here only after a child process loaded and ran
    it: XGBoost's loader can crash on a tampered model file, and that must not take the service down."""
    verify_files(path)  # missing files, an edited manifest: refused at once, without a process
    probe_in_child(path)
    return OnlinePredictor(RuntimeModel.load(path), jobs_df, samples, device=device)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The whole body, or None once it passes ``limit`` bytes."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return body


def _json(document: dict, status: int) -> Response:
    """A JSON answer that any text can travel in (ASCII escapes, no NaN)."""
    return Response(json.dumps(document, ensure_ascii=True, allow_nan=False), status_code=status, media_type="application/json")


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s:'\"]+)+[\\/]?")


def _without_paths(message: str) -> str:
    """``message`` with each file path cut to its last part, so errors reveal no layout.

    Examples
    --------
    >>> _without_paths("/srv/models/v2/manifest.json: missing: /srv/models/v2 is not a model bundle")
    'manifest.json: missing: v2 is not a model bundle'
    """
    return _PATH.sub(lambda m: m.group(0).rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1], message)
