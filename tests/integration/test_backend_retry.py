"""A pooled connection that went stale is retried once on a fresh one, only when that cannot repeat an effect.

Each backend here is a raw socket server whose connections follow a script by their number (1, 2, ...), and which
records the request line each connection received, so a test can tell a retry from a single delivery.
"""

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import urllib3.connectionpool

from local_gateway.model import MethodRequest, MethodResponse
from proxy import http1
from tests.integration.test_backend_faults import OK
from tests.support.chain import ConfigureProxy
from tests.support.engines import BothEngines
from tests.support.faults import FaultServer, read_request, reset
from tests.support.logs import LogLines

TIMEOUT_SECONDS = 1.0
IDEMPOTENT = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]
NOT_IDEMPOTENT = ["POST", "PATCH"]

# What a connection does after the requests it answers: its next request is read (or not), then...
Ending = Callable[[socket.socket], object]


def close(connection: socket.socket) -> None:
    connection.close()


def hold(seconds: float) -> Ending:
    def ending(connection: socket.socket) -> None:
        time.sleep(seconds)

    return ending


def later(seconds: float) -> Ending:
    """Closes after `seconds`."""

    def delayed(connection: socket.socket) -> None:
        time.sleep(seconds)
        connection.close()

    return delayed


class ScriptedBackend:
    """Connection n answers `answers[n-1]` requests with 200 ok, each `answer_after` seconds after it arrived (the
    last entry applies to all later connections), then reads one more request if `read_next`, then ends as
    `endings` says (same indexing)."""

    def __init__(
        self, answers: list[int], endings: list[Ending], read_next: bool = True, answer_after: float = 0.0
    ) -> None:
        self.received: list[tuple[int, str]] = []  # (connection number, request line)
        self.ended = threading.Event()
        self._answers = answers
        self._endings = endings
        self._read_next = read_next
        self._answer_after = answer_after
        self._lock = threading.Lock()
        self._opened = 0

    def __call__(self, connection: socket.socket) -> None:
        with self._lock:
            self._opened += 1
            number = self._opened
        for _ in range(self._answers[min(number, len(self._answers)) - 1]):
            line = self._receive(number, connection)
            time.sleep(self._answer_after)
            connection.sendall(OK.removesuffix(b"ok") if line.startswith("HEAD ") else OK)
        if self._read_next:
            self._receive(number, connection)
        self._endings[min(number, len(self._endings)) - 1](connection)
        self.ended.set()

    def _receive(self, number: int, connection: socket.socket) -> str:
        line = read_request(connection).split(b"\r\n", 1)[0].decode()
        with self._lock:
            self.received.append((number, line))
        return line


@pytest.fixture
def faults(chain: BothEngines, configure_proxy: ConfigureProxy) -> Iterator[FaultServer]:
    with FaultServer() as server:
        configure_proxy(server.url, backend_timeout_seconds=str(TIMEOUT_SECONDS))
        yield server


def _send(
    chain: BothEngines, method: str, path: str = "/x", query: list[tuple[str, str]] | None = None
) -> tuple[MethodResponse, float]:
    body = b'{"order": 1}' if method in ("POST", "PUT", "PATCH") else b""
    started = time.monotonic()
    response = chain.handle(MethodRequest(method, path, query=query or [], body=body))
    return response, time.monotonic() - started


@pytest.mark.parametrize("method", IDEMPOTENT + NOT_IDEMPOTENT)
def test_a_reused_connection_closed_after_taking_the_request_is_retried_only_if_idempotent(
    chain: BothEngines, faults: FaultServer, method: str
) -> None:
    backend = ScriptedBackend(answers=[1, 1_000], endings=[close])
    faults.script = backend
    assert _send(chain, "GET", "/warm")[0].status == 200

    response, elapsed = _send(chain, method)

    line = f"{method} /x HTTP/1.1"
    if method in IDEMPOTENT:
        assert response.status == 200
        assert backend.received == [(1, "GET /warm HTTP/1.1"), (1, line), (2, line)]
    else:
        assert response.status == 502
        assert set(json.loads(response.body)) == {"message", "requestId"}
        assert backend.received == [(1, "GET /warm HTTP/1.1"), (1, line)]
        assert faults.connections == 1
    assert elapsed < TIMEOUT_SECONDS


@pytest.fixture
def liveness_check_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend's close lands after both is-the-pooled-socket-still-open checks (the proxy's when the answer
    ends, urllib3's when the connection is taken again) and before the request is written: a window of
    microseconds in a rolling deploy, held open here so the test is not a race."""
    monkeypatch.setattr(http1, "byte_waiting", lambda sock: False)
    monkeypatch.setattr(urllib3.connectionpool, "is_connection_dropped", lambda connection: False)


@pytest.mark.usefixtures("liveness_check_passes")
@pytest.mark.parametrize("method", NOT_IDEMPOTENT)
def test_a_request_that_could_not_be_written_to_a_reset_connection_is_retried_whatever_its_method(
    chain: BothEngines, faults: FaultServer, proxy_logs: LogLines, method: str
) -> None:
    backend = ScriptedBackend(answers=[1, 1_000], endings=[reset], read_next=False)
    faults.script = backend
    assert _send(chain, "GET", "/warm")[0].status == 200
    assert backend.ended.wait(1)  # the RST is on its way back over loopback
    time.sleep(0.05)

    response, _ = _send(chain, method, "/x", [("token", "s3cret")])

    assert response.status == 200
    assert backend.received == [(1, "GET /warm HTTP/1.1"), (2, f"{method} /x?token=s3cret HTTP/1.1")]
    retries = [line for line in proxy_logs.records() if line["message"] == "retrying on a fresh connection"]
    assert [(line["method"], line["reason"]) for line in retries] == [
        (method, "reused connection closed before the request was written")
    ]
    assert retries[0]["correlation_id"] == response.request_id
    assert "s3cret" not in proxy_logs.text()


@pytest.mark.usefixtures("liveness_check_passes")
def test_a_post_written_to_a_connection_the_backend_had_just_closed_is_not_retried(
    chain: BothEngines, faults: FaultServer
) -> None:
    """The write succeeded and then the connection ended, which is also what a backend that took the request and
    crashed looks like: the proxy cannot tell them apart, so a POST is answered 502 rather than risked twice."""
    backend = ScriptedBackend(answers=[1, 1_000], endings=[close], read_next=False)
    faults.script = backend
    assert _send(chain, "GET", "/warm")[0].status == 200
    assert backend.ended.wait(1)
    time.sleep(0.05)

    response, _ = _send(chain, "POST")

    assert response.status == 502
    assert backend.received == [(1, "GET /warm HTTP/1.1")]
    assert faults.connections == 1


def answer_part(raw: bytes) -> Ending:
    """Sends the start of an answer, then closes."""

    def ending(connection: socket.socket) -> None:
        connection.sendall(raw)
        connection.close()

    return ending


@pytest.mark.parametrize("raw", [b"HTTP/1.1 2", b"SSH-2.0-OpenSSH_9.6\r\n"], ids=["half-a-status-line", "not-http"])
def test_a_reused_connection_that_began_to_answer_is_not_retried(
    chain: BothEngines, faults: FaultServer, raw: bytes
) -> None:
    faults.script = ScriptedBackend(answers=[1, 1_000], endings=[answer_part(raw)])
    assert _send(chain, "GET", "/warm")[0].status == 200

    response, _ = _send(chain, "GET")

    assert response.status == 502
    assert faults.connections == 1


def test_a_timeout_on_a_reused_connection_is_not_retried(chain: BothEngines, faults: FaultServer) -> None:
    faults.script = ScriptedBackend(answers=[1, 1_000], endings=[hold(3)])
    assert _send(chain, "GET", "/warm")[0].status == 200

    response, elapsed = _send(chain, "GET")

    assert response.status == 504
    assert elapsed < TIMEOUT_SECONDS + 0.3
    assert faults.connections == 1


def test_a_failure_on_a_fresh_connection_is_not_retried(chain: BothEngines, faults: FaultServer) -> None:
    backend = ScriptedBackend(answers=[0], endings=[reset])
    faults.script = backend

    response, _ = _send(chain, "GET")

    assert response.status == 502
    assert backend.received == [(1, "GET /x HTTP/1.1")]


def test_a_request_is_retried_at_most_once(chain: BothEngines, faults: FaultServer) -> None:
    backend = ScriptedBackend(answers=[1, 0], endings=[close])
    faults.script = backend
    assert _send(chain, "GET", "/warm")[0].status == 200

    response, _ = _send(chain, "GET")

    assert response.status == 502
    assert backend.received == [(1, "GET /warm HTTP/1.1"), (1, "GET /x HTTP/1.1"), (2, "GET /x HTTP/1.1")]


def test_the_retry_never_takes_another_pooled_connection(chain: BothEngines, faults: FaultServer) -> None:
    """Two warm connections to a backend that then closes both: the retry must not pick the second one (urllib3
    hands out the slot of the failed one first; the next test covers a pooled socket reaching the retry)."""
    backend = ScriptedBackend(answers=[1, 1, 1_000], endings=[close], answer_after=0.3)
    faults.script = backend
    warm_up = [threading.Thread(target=_send, args=(chain, "GET", path)) for path in ("/warm1", "/warm2")]
    for thread in warm_up:
        thread.start()  # both in flight at once: the pool opens two connections
    for thread in warm_up:
        thread.join()

    response, _ = _send(chain, "GET")

    assert response.status == 200
    assert [number for number, line in backend.received if line == "GET /x HTTP/1.1"] in ([1, 3], [2, 3])


def test_the_retry_gets_only_the_time_that_remains(chain: BothEngines, faults: FaultServer) -> None:
    faults.script = ScriptedBackend(answers=[1, 0], endings=[later(0.6), hold(3)])
    assert _send(chain, "GET", "/warm")[0].status == 200

    response, elapsed = _send(chain, "GET")

    assert response.status == 504
    assert TIMEOUT_SECONDS - 0.05 < elapsed < TIMEOUT_SECONDS + 0.25
    assert faults.connections == 2
