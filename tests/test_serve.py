"""The prediction service over a real socket on loopback."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn

from hpcpredict.queue import queued_features
from hpcpredict.model import load_model
from hpcpredict.serve import create_app

TOKEN = "s3cret-token"


class _Server:
    """uvicorn on 127.0.0.1 with a port the OS picks, in a thread; stopped at teardown."""

    def __init__(self, app):
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def service(pipeline):
    app = create_app(pipeline["model"], jobs=pipeline["jobs"], token=TOKEN, max_batch=50, max_body_bytes=20_000)
    with _Server(app) as url:
        yield url


def _post(url, body, token=TOKEN, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{url}/predict", json=body, headers=headers, timeout=30, **kw)


def test_health_and_openapi_schema(service):
    health = httpx.get(f"{service}/health").json()
    assert health["status"] == "ok" and health["features"] > 0
    schema = httpx.get(f"{service}/openapi.json").json()
    assert "/predict" in schema["paths"] and "PendingJob" in str(schema["components"])


def test_answers_match_the_offline_pipeline(service, pipeline):
    jobs = pd.read_parquet(pipeline["jobs"])
    users = list(jobs["user"].dropna().unique()[:5]) + ["somebody-new"]
    body = {"jobs": [{"job_id": f"q{i}", "user": u, "time_limit_s": 3600.0 * (i + 1), "req_cpus": 2 + i} for i, u in enumerate(users)]}
    answer = _post(service, body)
    assert answer.status_code == 200, answer.text
    got = answer.json()["predictions"]
    assert [p["job_id"] for p in got] == [j["job_id"] for j in body["jobs"]]
    bundle = load_model(pipeline["model"])
    snapshot = pd.Timestamp(httpx.get(f"{service}/health").json()["snapshot"])
    pending = pd.DataFrame(body["jobs"]).assign(submit_time=snapshot)
    rows, _ = queued_features(bundle, pending, jobs, at=snapshot)
    np.testing.assert_allclose([p["predicted_runtime_s"] for p in got], bundle.predict(rows), rtol=1e-5)
    assert all(len(p["reasons"]) == 3 for p in got)


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"jobs": [{"job_id": "x", "time_limit_s": -5}]}, 422, "greater than 0"),
        ({"jobs": [{"job_id": "x", "req_cpus": "many"}]}, 422, "req_cpus"),
        ({"jobs": [{"job_id": "x", "submit_time": "3024-01-01T00:00:00Z"}]}, 422, "between 1970 and 2100"),
        ({"jobs": [{"job_id": "x", "colour": "blue"}]}, 422, "colour"),
        ({"jobs": []}, 422, "at least 1"),
        ({"nothing": 1}, 422, "jobs"),
        ({"jobs": [{"job_id": f"j{i}"} for i in range(51)]}, 413, "at most 50 jobs"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_message_and_the_service_keeps_serving(service, body, status, words):
    answer = _post(service, body)
    assert answer.status_code == status
    assert words in answer.text
    assert _post(service, {"jobs": [{"job_id": "ok", "time_limit_s": 600}]}).status_code == 200


def test_malformed_json_and_oversized_bodies_are_refused(service):
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    assert httpx.post(f"{service}/predict", content=b"{not json", headers=headers).status_code == 422
    big = b'{"jobs": [' + b",".join([b'{"job_id": "%d"}' % i for i in range(3000)]) + b"]}"
    answer = httpx.post(f"{service}/predict", content=big, headers=headers)
    assert answer.status_code == 413 and "larger than" in answer.text
    assert _post(service, {"jobs": [{"job_id": "ok"}]}).status_code == 200


def test_a_missing_or_wrong_token_is_refused(service):
    assert _post(service, {"jobs": [{"job_id": "a"}]}, token=None).status_code == 401
    assert _post(service, {"jobs": [{"job_id": "a"}]}, token="guess").status_code == 401
    assert httpx.get(f"{service}/health").status_code == 200


def test_reload_drops_no_request(service):
    body = {"jobs": [{"job_id": "r", "time_limit_s": 1800, "req_cpus": 4}]}
    stop = threading.Event()
    statuses = []

    def hammer():
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                statuses.append(client.post(f"{service}/predict", json=body, headers={"Authorization": f"Bearer {TOKEN}"}).status_code)

    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(hammer) for _ in range(3)]
        time.sleep(0.3)
        reloads = [httpx.post(f"{service}/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) for _ in range(2)]
        time.sleep(0.3)
        stop.set()
        for f in futures:
            f.result()
    assert [r.status_code for r in reloads] == [200, 200]
    assert len(statuses) > 5 and set(statuses) == {200}
    bad = httpx.post(f"{service}/admin/reload", json={"model": "/nonexistent/bundle"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400 and "not a model bundle" in bad.text
    assert _post(service, body).status_code == 200


def test_serve_with_an_unknown_device_is_one_line_exit_2(pipeline):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "hpcpredict", "serve", str(pipeline["model"]), "--device", "gpu0", "--port", "0"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().startswith("error:") and "device" in out.stderr and "'gpu0'" in out.stderr
