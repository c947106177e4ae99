"""Backend faults on raw sockets: each maps to the right status within the timeout, and the pool stays usable."""

import gzip
import json
import socket
import time
from collections.abc import Iterator

import pytest

from local_gateway.model import MethodRequest
from tests.support.chain import ConfigureProxy
from tests.support.engines import BothEngines
from tests.support.faults import FaultServer, Script, read_request, reset, silent_after_request

TIMEOUT_SECONDS = 1.0
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


def respond(raw: bytes, keep_open_seconds: float = 0.0) -> Script:
    def script(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(raw)
        time.sleep(keep_open_seconds)

    return script


def serve_keep_alive(connection: socket.socket) -> None:
    """A well-behaved keep-alive backend: answers every request on the connection with 200 ok."""
    while read_request(connection):
        connection.sendall(OK)


@pytest.fixture
def faults(chain: BothEngines, configure_proxy: ConfigureProxy) -> Iterator[FaultServer]:
    with FaultServer() as server:
        configure_proxy(server.url, backend_timeout_seconds=str(TIMEOUT_SECONDS))
        yield server


def _reset_after_headers(connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
    time.sleep(0.05)
    reset(connection)


def _slow_body(connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n")
    for _ in range(50):
        connection.sendall(b"x")
        time.sleep(0.1)


def _reset_before_answer(connection: socket.socket) -> None:
    read_request(connection)
    reset(connection)


FAULTS: dict[str, tuple[Script, int]] = {
    "reset-before-answer": (_reset_before_answer, 502),
    "reset-mid-body": (_reset_after_headers, 502),
    "truncated-body": (respond(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part"), 502),
    "not-http": (respond(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff garbage\r\n\r\n"), 502),
    "closed-without-answer": (read_request, 502),
    "slow-headers": (silent_after_request, 504),
    "slow-body": (_slow_body, 504),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_is_answered_within_the_timeout_and_the_next_request_works(
    chain: BothEngines, faults: FaultServer, fault: str
) -> None:
    script, status = FAULTS[fault]
    faults.script = script

    started = time.monotonic()
    response = chain.handle(MethodRequest("GET", "/fault"))
    elapsed = time.monotonic() - started

    assert response.status == status
    assert set(json.loads(response.body)) == {"message", "requestId"}
    assert elapsed < TIMEOUT_SECONDS + 0.5
    faults.script = serve_keep_alive
    after = chain.handle(MethodRequest("GET", "/after"))
    assert (after.status, after.body) == (200, b"ok")


def test_chunked_responses_are_reassembled(chain: BothEngines, faults: FaultServer) -> None:
    body = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (b"hello ", b"chunked ", b"world"))
    faults.script = respond(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n\r\n")

    response = chain.handle(MethodRequest("GET", "/chunked"))

    assert (response.status, response.body) == (200, b"hello chunked world")
    assert response.header("Transfer-Encoding") is None


@pytest.mark.parametrize("integration_mode", ["PROXY"], indirect=True)  # mapping templates return text only
def test_gzip_chunked_responses_pass_through_compressed(chain: BothEngines, faults: FaultServer) -> None:
    compressed = gzip.compress(b'{"n": ' + b"1" * 5000 + b"}")
    framed = f"{len(compressed):x}\r\n".encode() + compressed + b"\r\n0\r\n\r\n"
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    faults.script = respond(head + framed)

    response = chain.handle(MethodRequest("GET", "/gz", headers=[("Accept-Encoding", "gzip"), ("Accept", "*/*")]))

    assert response.body == compressed
    assert response.header("Content-Encoding") == "gzip"


def test_a_warm_container_keeps_one_connection_across_faultless_requests(
    chain: BothEngines, faults: FaultServer
) -> None:
    faults.script = serve_keep_alive

    statuses = [chain.handle(MethodRequest("GET", f"/{number}")).status for number in range(50)]

    assert statuses == [200] * 50
    assert faults.connections == 1
