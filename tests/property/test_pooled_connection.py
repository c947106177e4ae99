"""Random sequences of good and bad answers over one warm container's pooled connection: no byte ever reaches the
wrong request.

The backend answers the requests in the order they arrive, each with the next answer of the drawn plan, whatever
connection it comes on. Good answers carry their own request's id; the bad ones also carry bytes another request
would take for its answer ("stale-..."). Each request must get its own answer or the explained error its kind
calls for; a connection is opened again exactly when the previous answer could not leave it reusable.
"""

import base64
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.chain import ConfigureProxy, invoke_handler
from tests.support.faults import FaultServer, read_request

# The stale answer a wrongly pooled connection would hand to the next request.
STALE = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nstale-bytes"


@dataclass(frozen=True)
class Kind:
    """One kind of answer: its bytes for a request id and method, what the client gets, and whether the connection
    can carry another exchange afterwards (the backend closes it when `closes`)."""

    answer: Callable[[bytes, bool], bytes]
    status: int
    keeps_connection: bool
    closes: bool = False


def _framed(request_id: bytes, head: bool, extra: bytes = b"", status: bytes = b"200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s%s" % (
        status,
        len(request_id),
        b"" if head else request_id,
        extra,
    )


def _chunked(request_id: bytes, head: bool) -> bytes:
    if head:
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    half = len(request_id) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (request_id[:half], request_id[half:]) if part)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\nX-Trailer: t\r\n\r\n"


KINDS: dict[str, Kind] = {
    "good": Kind(_framed, 200, keeps_connection=True),
    "chunked": Kind(_chunked, 200, keeps_connection=True),
    "early-hints": Kind(lambda rid, head: b"HTTP/1.1 103 Early Hints\r\n\r\n" + _framed(rid, head), 200, True),
    "continue": Kind(lambda rid, head: b"HTTP/1.1 100 Continue\r\n\r\n" + _framed(rid, head), 200, True),
    "extra-answer": Kind(lambda rid, head: _framed(rid, head, STALE), 200, keeps_connection=False),
    "body-after-204": Kind(lambda rid, head: b"HTTP/1.1 204 No Content\r\n\r\n" + STALE, 204, keeps_connection=False),
    "body-after-head": Kind(
        lambda rid, head: _framed(rid, head) + (b"" if not head else rid) + STALE, 200, keeps_connection=False
    ),
    "close-after-answer": Kind(
        lambda rid, head: b"HTTP/1.1 200 OK\r\nConnection: close\r\n" + _framed(rid, head)[17:],
        200,
        keeps_connection=False,
        closes=True,
    ),
    "until-close": Kind(
        lambda rid, head: b"HTTP/1.0 200 OK\r\n\r\n" + (b"" if head else rid),
        200,
        keeps_connection=False,
        closes=True,
    ),
    "101": Kind(lambda rid, head: b"HTTP/1.1 101 Switching Protocols\r\n\r\n" + STALE, 502, keeps_connection=False),
    "status-600": Kind(lambda rid, head: _framed(rid, head, STALE, b"600 X"), 502, keeps_connection=False),
    "bare-cr": Kind(
        lambda rid, head: b"HTTP/1.1 200 OK\r\nX-A: v\rX-B: w\r\n" + _framed(rid, head)[17:] + STALE,
        502,
        keeps_connection=False,
    ),
    "obs-fold": Kind(
        lambda rid, head: b"HTTP/1.1 200 OK\r\nX-A: v\r\n w\r\n" + _framed(rid, head)[17:] + STALE,
        502,
        keeps_connection=False,
    ),
    "te-and-length": Kind(
        lambda rid, head: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + _framed(rid, head)[17:] + STALE,
        502,
        keeps_connection=False,
    ),
    "cut-short": Kind(
        lambda rid, head: b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n" + (b"" if head else rid),
        200,  # a HEAD answer has no body to cut short
        keeps_connection=True,
        closes=True,
    ),
}


class PlannedBackend:
    """Answers each request, on whatever connection it arrives, with the next answer of `plan`."""

    def __init__(self) -> None:
        self.plan: list[str] = []
        # Whether the proxy holds a reusable connection after the previous example (examples share the container).
        self.proxy_holds_a_connection = False
        self._lock = threading.Lock()

    def __call__(self, connection: socket.socket) -> None:
        while request := read_request(connection):
            head = request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
            request_id = next(line.split(b":", 1)[1].strip() for line in head if line.startswith(b"X-Request-Id:"))
            with self._lock:
                kind = KINDS[self.plan.pop(0)]
            connection.sendall(kind.answer(request_id, head[0].startswith(b"HEAD ")))
            if kind.closes:
                return


@pytest.fixture
def planned(configure_proxy: ConfigureProxy) -> Iterator[tuple[PlannedBackend, FaultServer]]:
    backend = PlannedBackend()
    with FaultServer() as server:
        server.script = backend
        configure_proxy(server.url, backend_timeout_seconds="2")
        yield backend, server


def _expected(kind: Kind, head: bool) -> tuple[int, bool]:
    """(status, connection reusable afterwards) for a request of this method."""
    if kind is KINDS["cut-short"]:
        return (200, False) if head else (502, False)
    return kind.status, kind.keeps_connection and not kind.closes


@given(
    sequence=st.lists(
        st.tuples(st.sampled_from(sorted(KINDS)), st.sampled_from(["GET", "HEAD"])), min_size=1, max_size=8
    )
)
def test_no_answer_ever_reaches_another_request(
    planned: tuple[PlannedBackend, FaultServer], sequence: list[tuple[str, str]]
) -> None:
    backend, server = planned
    backend.plan = [kind for kind, _ in sequence]
    opened_before = server.connections
    expected_new_connections = 0 if backend.proxy_holds_a_connection else 1

    for number, (name, method) in enumerate(sequence):
        request_id = f"req-{opened_before}-{number}-{name}"
        event: dict[str, Any] = {"httpMethod": method, "path": "/p", "requestContext": {"requestId": request_id}}
        response = invoke_handler(event)
        body = base64.b64decode(response["body"]) if response["isBase64Encoded"] else response["body"].encode()
        status, reusable = _expected(KINDS[name], method == "HEAD")

        assert response["statusCode"] == status, (name, method, body[:200])
        if status < 300:
            assert body == (b"" if method == "HEAD" or status == 204 else request_id.encode()), name
        assert b"stale" not in body
        if not reusable and number < len(sequence) - 1:
            expected_new_connections += 1
        backend.proxy_holds_a_connection = reusable

    assert server.connections - opened_before == expected_new_connections
    assert backend.plan == []
