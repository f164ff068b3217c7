"""examples/slurm/cli_filter.lua in the live Slurm: a real ``sbatch`` shows the service's prediction,
hostile job names run nothing, and the plugin never blocks or changes a submission."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from live.conftest import running_service

pytestmark = pytest.mark.slurm

HOSTILE = [
    "x'; touch INJECTED; echo '",
    "$(touch INJECTED)",
    "`touch INJECTED`",
    'quote " and \\ backslash',
    "semi; touch INJECTED",
    "new\nline",
    "pipe|name",
]


@pytest.fixture(scope="module")
def service(pipeline, tmp_path_factory):
    """``hpcpredict serve`` with a token, as a site runs it for the plugin."""
    folder = tmp_path_factory.mktemp("service")
    token = folder / "token"
    token.write_text("s3cret-token\n")
    token.chmod(0o644)  # the plugin runs as the submitting user
    with running_service(pipeline["model"], "--jobs", pipeline["jobs"], "--token-file", token) as base:
        yield {"url": f"{base}/predict", "token": token}


def _sbatch(args: list[str], *, cwd: Path, url: str, token: Path | None = None, extra_env=None):
    env = {k: v for k, v in os.environ.items() if k != "SLURM_JOB_ID"}
    env.update({"HPCPREDICT_URL": url, **(extra_env or {})})
    if token is not None:
        env["HPCPREDICT_TOKEN_FILE"] = str(token)
    started = time.monotonic()
    done = subprocess.run(["sbatch", "--parsable", "--hold", "-o", "/dev/null", *args, "--wrap", "true"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    job_id = done.stdout.strip().split(";")[0]
    if job_id:
        subprocess.run(["scancel", job_id], check=False)
    return done, elapsed


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_name_runs_nothing_and_the_user_sees_the_prediction(service, tmp_path, name):
    done, _ = _sbatch(["-J", name, "-t", "30"], cwd=tmp_path, url=service["url"], token=service["token"])
    assert done.returncode == 0, done.stderr
    assert "hpcpredict: this job will probably run about" in done.stderr
    assert not list(tmp_path.iterdir())  # no INJECTED file, nothing at all


def test_a_job_without_time_gets_a_prediction(service, tmp_path):
    done, _ = _sbatch(["-J", "no-time"], cwd=tmp_path, url=service["url"], token=service["token"])
    assert done.returncode == 0 and "hpcpredict: this job will probably run about" in done.stderr


def test_a_wrong_token_or_a_dead_service_leaves_the_submission_alone(service, tmp_path):
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    for url, token in ((service["url"], wrong), ("http://127.0.0.1:9/predict", service["token"])):
        done, elapsed = _sbatch(["-J", "quiet"], cwd=tmp_path, url=url, token=token)
        assert done.returncode == 0 and done.stdout.strip()
        assert "hpcpredict" not in done.stderr
        assert elapsed < 10


def test_a_hanging_service_costs_at_most_the_timeout(tmp_path):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/predict"
        done, elapsed = _sbatch(["-J", "hang"], cwd=tmp_path, url=url)
    assert done.returncode == 0 and done.stdout.strip()
    assert elapsed < 6  # TIMEOUT_S = 2, plus sbatch itself


def test_inside_an_allocation_the_plugin_stays_quiet(service, tmp_path):
    done, _ = _sbatch(["-J", "inside"], cwd=tmp_path, url=service["url"], token=service["token"],
                      extra_env={"SLURM_JOB_ID": "1"})
    assert done.returncode == 0 and "hpcpredict" not in done.stderr
