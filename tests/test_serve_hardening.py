"""The service under attack, on loopback: hostile values, slow clients, reload without a token."""

import json
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from hpcpredict.serve import ServiceLimits, create_app, server_config

TOKEN = "s3cret-token"
READ_TIMEOUT_S = 1.0


class Server:
    """uvicorn on 127.0.0.1 (a port the OS picks) in a thread, with the service's limits."""

    def __init__(self, app, limits):
        self.server = uvicorn.Server(server_config(app, host="127.0.0.1", port=0, limits=limits, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


LIMITS = ServiceLimits(read_timeout_s=READ_TIMEOUT_S, keep_alive_s=2, max_connections=40)


@pytest.fixture(scope="module")
def guarded(pipeline):
    app = create_app(pipeline["model"], jobs=pipeline["jobs"], token=TOKEN, max_batch=50, max_body_bytes=20_000, read_timeout_s=READ_TIMEOUT_S)
    with Server(app, LIMITS) as server:
        yield server


@pytest.fixture(scope="module")
def open_service(pipeline):
    with Server(create_app(pipeline["model"], max_body_bytes=20_000), LIMITS) as server:
        yield server


AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

#: Request bodies as raw JSON text: what Python's json module (and so FastAPI) accepts but no
#: well-formed request holds.
HOSTILE = [
    '{"jobs": [{"job_id": "a", "time_limit_s": NaN}]}',
    '{"jobs": [{"job_id": "a", "time_limit_s": Infinity}]}',
    '{"jobs": [{"job_id": "a", "req_mem_bytes": -Infinity}]}',
    '{"jobs": [{"job_id": "a", "time_limit_s": 1e999}]}',
    '{"jobs": [{"job_id": "a", "req_nodes": 1e308}]}',
    '{"jobs": [{"job_id": "a", "req_cpus": ' + "9" * 400 + "}]}",
    '{"jobs": [{"job_id": "a", "req_cpus": ' + "9" * 5000 + "}]}",
    '{"jobs": [{"job_id": "\\ud800"}]}',
    '{"jobs": [{"job_id": "a", "user": "x\\udfff"}]}',
    '{"jobs": [{"job_id": "a", "\\ud800": 1}]}',
    '{"jobs": [{"job_id": ["a"]}]}',
    '{"jobs": [{"job_id": {"$gt": ""}}]}',
    '{"jobs": [{"job_id": "a", "submit_time": "9999-12-31T23:59:59"}]}',
    '{"jobs": [{"job_id": "a", "submit_time": 1e20}]}',
    '{"jobs": [{"job_id": "a", "time_limit_s": true}]}',
    '{"jobs": {"job_id": "a"}}',
    '{"jobs": [null]}',
    "[]",
    "null",
    '"jobs"',
    "NaN",
    "{" * 5000,
    '{"jobs": [{"job_id": "a"}]' + " " * 30_000 + "}",
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_get_a_4xx_that_encodes_and_the_service_keeps_serving(guarded, body):
    answer = httpx.post(f"{guarded.url}/predict", content=body.encode("utf-8", "surrogatepass"), headers=AUTH, timeout=30)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    json.loads(answer.text)  # a valid JSON answer, whatever came in
    assert "NaN" not in answer.text and "Infinity" not in answer.text
    ok = httpx.post(f"{guarded.url}/predict", json={"jobs": [{"job_id": "ok", "time_limit_s": 600}]}, headers=AUTH, timeout=30)
    assert ok.status_code == 200


def test_reload_is_off_without_a_token_and_health_names_no_path(open_service, pipeline):
    off = httpx.post(f"{open_service.url}/admin/reload", json={"model": str(pipeline["model"])}, timeout=30)
    assert off.status_code == 403 and "--token-file" in off.text
    health = httpx.get(f"{open_service.url}/health").json()
    assert health["model"] == pipeline["model"].name and "/" not in json.dumps(health)
    answer = httpx.post(f"{open_service.url}/predict", json={"jobs": [{"job_id": "a"}]}, timeout=30).json()
    assert answer["model"] == pipeline["model"].name


def test_a_refused_reload_names_no_path(guarded, tmp_path):
    for given in (tmp_path / "secret-dir" / "bundle", "/etc"):
        bad = httpx.post(f"{guarded.url}/admin/reload", json={"model": str(given)}, headers=AUTH, timeout=30)
        assert bad.status_code == 400 and "not a model bundle" in bad.text
        assert str(tmp_path) not in bad.text and "/etc/" not in bad.text and "secret-dir" not in bad.text


def test_a_request_head_sent_byte_by_byte_is_cut(guarded):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as sock:
        closed = False
        for byte in b"POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40:
            try:
                sock.sendall(bytes([byte]))
                time.sleep(0.2)
                sock.setblocking(False)
                if sock.recv(1) == b"":
                    closed = True
                    break
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            finally:
                sock.setblocking(True)
    assert closed, "the slow head was never cut"
    assert time.monotonic() - started < READ_TIMEOUT_S + 3


def test_a_body_sent_byte_by_byte_gets_408(guarded):
    head = f"POST /predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = b""
        for _ in range(40):
            sock.setblocking(False)
            try:
                answer += sock.recv(4096)
            except BlockingIOError:
                pass
            sock.setblocking(True)
            if answer:
                break
            try:
                sock.sendall(b" ")
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.2)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < READ_TIMEOUT_S + 3
    assert httpx.get(f"{guarded.url}/health").status_code == 200
