"""BackendClient.stream(), the interface a streaming integration reads the backend through: the head checked on entry,
the body as it arrives, its idle and total limits, and the connection pooled only after an exact end."""

import socket
import time
from collections.abc import Iterator

import pytest

from proxy.backend import BackendClient
from proxy.config import load_config
from proxy.errors import BackendInvalidResponse, BackendTimeout
from proxy.http1 import BODY_READ_BYTES
from proxy.upstream import UpstreamRequest
from tests.support.faults import FaultServer, Script, read_request

REQUEST = UpstreamRequest("GET", "/download", [("Host", "backend")], b"")
HEAD_TIMEOUT_SECONDS = 1.0


def client_for(server: FaultServer) -> BackendClient:
    config = load_config({"BACKEND_URL": server.url, "BACKEND_TIMEOUT_SECONDS": str(HEAD_TIMEOUT_SECONDS)})
    return BackendClient(config, max_body_bytes=6_000_000)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as faults:
        yield faults


def chunks_every(pause: float, count: int) -> Script:
    """A chunked answer: `count` chunks `pause` seconds apart, then the last chunk; every later request gets the
    same answer on the same connection."""

    def script(connection: socket.socket) -> None:
        while read_request(connection):
            connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for number in range(count):
                time.sleep(pause)
                connection.sendall(b"2\r\n%02d\r\n" % number)
            connection.sendall(b"0\r\n\r\n")

    return script


def test_chunks_arrive_as_the_backend_sends_them_past_the_head_deadline(server: FaultServer) -> None:
    """The head deadline (BackendTimeoutSeconds) bounds the wait for the head; the body has its own limits."""
    server.script = chunks_every(0.4, 4)
    client = client_for(server)
    arrivals = []

    with client.stream(REQUEST, idle_seconds=1.0, total_seconds=5.0) as answer:
        started = time.monotonic()
        for chunk in answer.chunks():
            arrivals.append((round(time.monotonic() - started, 1), chunk))

    assert answer.status == 200
    assert [chunk for _, chunk in arrivals] == [b"00", b"01", b"02", b"03"]
    assert [moment for moment, _ in arrivals] == pytest.approx([0.4, 0.8, 1.2, 1.6], abs=0.15)


@pytest.mark.parametrize(
    ("pause", "idle", "total", "message", "ends_after"),
    [
        (1.0, 0.3, 5.0, "sent nothing for 0.3 s", 0.3),  # a backend that stops sending
        (0.1, 1.0, 0.5, "did not finish its response within 0.5 s", 0.5),  # one that keeps sending
    ],
    ids=["idle", "total"],
)
def test_the_idle_and_total_limits_end_a_stream(
    server: FaultServer, pause: float, idle: float, total: float, message: str, ends_after: float
) -> None:
    server.script = chunks_every(pause, 30)
    client = client_for(server)

    started = time.monotonic()
    with (
        pytest.raises(BackendTimeout, match=message),
        client.stream(REQUEST, idle_seconds=idle, total_seconds=total) as answer,
    ):
        list(answer.chunks())

    assert time.monotonic() - started == pytest.approx(ends_after, abs=0.2)


def test_a_body_read_to_its_end_leaves_the_connection_pooled_and_one_left_early_closes_it(
    server: FaultServer,
) -> None:
    server.script = chunks_every(0.0, 3)
    client = client_for(server)

    for _ in range(3):
        with client.stream(REQUEST) as answer:
            assert b"".join(answer.chunks()) == b"000102"
    with client.stream(REQUEST) as answer:
        next(iter(answer.chunks()))  # the caller stops early: the rest is unread
    with client.stream(REQUEST) as answer:
        assert b"".join(answer.chunks()) == b"000102"

    assert server.connections == 2


def test_a_large_body_comes_in_bounded_chunks(server: FaultServer) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB

    def script(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    server.script = script
    client = client_for(server)

    with client.stream(REQUEST) as answer:
        chunks = list(answer.chunks())

    assert answer.content_length == len(body)
    assert b"".join(chunks) == body
    assert max(len(chunk) for chunk in chunks) <= BODY_READ_BYTES


def test_an_invalid_head_raises_on_entry_and_a_body_cut_short_raises_while_reading(server: FaultServer) -> None:
    answers = iter([b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"])

    def script(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(next(answers))

    server.script = script
    client = client_for(server)

    with pytest.raises(BackendInvalidResponse, match="CR, LF or NUL"), client.stream(REQUEST):
        pass
    with (
        pytest.raises(BackendInvalidResponse, match="5 bytes into a body of 9"),
        client.stream(REQUEST) as answer,
    ):
        list(answer.chunks())


def test_a_2xx_to_connect_is_refused_rather_than_turned_into_a_tunnel(server: FaultServer) -> None:
    """Only a hand-made event can ask for CONNECT (API Gateway's ANY method does not include it)."""

    def script(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")

    server.script = script
    client = client_for(server)

    with pytest.raises(BackendInvalidResponse, match="tunnel"):
        client.send(UpstreamRequest("CONNECT", "/x", [("Host", "backend")], b""))
