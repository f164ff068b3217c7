"""The service under hostile requests and a bounded load, on loopback only (slow tier)."""

from __future__ import annotations

import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpcpredict.serve import ServiceLimits, create_app

from test_serve_hardening import AUTH, HOSTILE, TOKEN, Server

pytestmark = pytest.mark.slow

LOAD_THREADS, LOAD_REQUESTS, LOAD_SECONDS = 8, 1600, 90  # 8 clients, under the 40-connection cap

_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**18, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["\ud800", "x\udfff", "9999-12-31T23:59:59", "1e999", "NaN", "", "\x00"]),
)
_value = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)
_fields = st.sampled_from(["job_id", "user", "app", "account", "partition", "qos", "submit_time", "time_limit_s",
                           "req_nodes", "req_cpus", "req_mem_bytes", "colour"])
_job = st.dictionaries(_fields, _value, max_size=6)
_body = st.one_of(st.fixed_dictionaries({"jobs": st.lists(_job, min_size=1, max_size=4)}), _value)


def _dump(body) -> bytes:
    """JSON as Python writes it, NaN and Infinity included, lone surrogates as escapes."""
    return json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def service(pipeline):
    app = create_app(pipeline["model"], jobs=pipeline["jobs"], token=TOKEN, max_batch=50, max_body_bytes=20_000, read_timeout_s=5)
    with Server(app, ServiceLimits(read_timeout_s=5, keep_alive_s=2, max_connections=40)) as server:
        yield server


def test_hostile_requests_get_no_5xx_and_the_service_lives(service):
    statuses = {}
    with httpx.Client(timeout=30) as client:
        for body in HOSTILE + [b"x" * 30_000, b"\xff\xfe\x00", b'{"jobs": [' + b'{"job_id": "a"},' * 3000 + b"]}"]:
            content = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
            answer = client.post(f"{service.url}/predict", content=content, headers=AUTH)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            assert answer.status_code < 500, (body[:80], answer.status_code, answer.text[:200])

        @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(_body)
        def generated(body):
            answer = client.post(f"{service.url}/predict", content=_dump(body), headers=AUTH)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            assert answer.status_code < 500, (str(body)[:200], answer.status_code, answer.text[:200])
            json.loads(answer.text)

        generated()
        assert client.get(f"{service.url}/health").status_code == 200
    _report("service-hostile", {"requests": sum(statuses.values()), "statuses": {str(k): v for k, v in sorted(statuses.items())}})


def test_a_bounded_load_gets_no_5xx(service):
    body = {"jobs": [{"job_id": "load", "user": "u1", "time_limit_s": 3600, "req_cpus": 4}]}
    deadline = time.monotonic() + LOAD_SECONDS

    def client_loop(n):
        got = []
        with httpx.Client(timeout=30) as client:
            for _ in range(n):
                if time.monotonic() > deadline:
                    break
                got.append(client.post(f"{service.url}/predict", json=body, headers=AUTH).status_code)
        return got

    started = time.monotonic()
    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        statuses = [s for part in pool.map(client_loop, [LOAD_REQUESTS // LOAD_THREADS] * LOAD_THREADS) for s in part]
    took = time.monotonic() - started
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert httpx.get(f"{service.url}/health").status_code == 200
    _report("service-load", {"requests": len(statuses), "seconds": round(took, 1), "per_second": round(len(statuses) / took), "non_200": 0})
    assert math.isfinite(took)


def _report(name: str, counts: dict) -> None:
    folder = os.environ.get("HPCP_FUZZ_REPORT")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.json").write_text(json.dumps(counts, indent=2) + "\n")
