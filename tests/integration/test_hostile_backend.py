"""Hostile backends on raw sockets, in both IntegrationModes: whatever bytes a backend sends, each client gets its own
request's answer or an explained error, within the deadline, and the next request on the same warm container gets
its own answer.

Each script (tests/support/hostile.py) answers the second request of a test; the first warms a pooled keep-alive
connection, so the script plays on a reused connection as in a warm Lambda. Every good answer carries its request's
id as its body, so an answer handed to the wrong request shows. h11 judges the same bytes in
tests/unit/test_h11_judge.py.
"""

import json
import socket
import time
from collections.abc import Iterator

import pytest

from local_gateway.model import MethodRequest, MethodResponse
from tests.support.chain import ConfigureProxy
from tests.support.engines import BothEngines
from tests.support.faults import FaultServer, read_request
from tests.support.hostile import SCRIPTS, TIMEOUT_SECONDS, HostileScript, Playbook, good_answer

# What the proxy may add to BackendTimeoutSeconds before its 504 is out; measured in milliseconds, the tests allow
# for a shared, loaded machine.
DEADLINE_SLACK_SECONDS = 0.5


@pytest.fixture
def faults(chain: BothEngines, configure_proxy: ConfigureProxy) -> Iterator[FaultServer]:
    with FaultServer() as server:
        configure_proxy(server.url, backend_timeout_seconds=str(TIMEOUT_SECONDS))
        yield server


def assert_own_answer(response: MethodResponse, method: str = "GET") -> None:
    assert response.status == 200
    assert response.body == (b"" if method == "HEAD" else response.request_id.encode())


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda script: script.name)
def test_a_hostile_answer_reaches_only_its_own_client_and_the_next_request_gets_its_own(
    chain: BothEngines, faults: FaultServer, script: HostileScript
) -> None:
    faults.script = Playbook(script)
    assert_own_answer(chain.handle(MethodRequest("GET", "/warm")))

    started = time.monotonic()
    response = chain.handle(MethodRequest(script.method, "/hostile"))
    elapsed = time.monotonic() - started
    time.sleep(script.pause_before_next)
    after = chain.handle(MethodRequest("GET", "/after"))

    assert response.status == script.status, response.body[:300]
    if script.status in (502, 504):
        answer = json.loads(response.body)
        assert answer["requestId"] == response.request_id
        assert script.says in answer["message"]
    else:
        assert response.body == script.body
        assert [name for name in script.absent_headers if response.header(name) is not None] == []
    assert elapsed < TIMEOUT_SECONDS + DEADLINE_SLACK_SECONDS
    assert_own_answer(after)


@pytest.mark.parametrize("integration_mode", ["PROXY"], indirect=True)  # the body is the same in both modes
def test_an_answer_sent_before_the_request_body_was_read_reaches_the_client_at_once(
    chain: BothEngines, faults: FaultServer
) -> None:
    """A backend that refuses a large upload answers 413 without reading it; the proxy stops sending and returns
    the 413 (RFC 9112 9.5) rather than a 504 once the socket buffers are full."""

    def refuse_uploads(connection: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += connection.recv(65536)
        if head.startswith(b"POST "):
            connection.sendall(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\n\r\ntoo big!")
            time.sleep(HOLD_BEFORE_CLOSE)  # reading nothing more
            return
        connection.sendall(good_answer(head))
        while request := read_request(connection):
            connection.sendall(good_answer(request))

    faults.script = refuse_uploads
    started = time.monotonic()
    response = chain.handle(MethodRequest("POST", "/upload", body=b"u" * 4_000_000))
    elapsed = time.monotonic() - started

    assert (response.status, response.body) == (413, b"too big!")
    assert elapsed < TIMEOUT_SECONDS / 2
    assert_own_answer(chain.handle(MethodRequest("GET", "/after")))


HOLD_BEFORE_CLOSE = 2.0
