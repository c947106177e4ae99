"""The proxy's streaming entry point (proxy.stream_handler) in process, against real backends on 127.0.0.1: the
prelude and body bytes, failures before and after the prelude, the three deadlines, timing, logs and metrics.

The same handler under AWS's emulator and through the runtime client is in test_stream_proxy_runtime.py.
"""

import itertools
import json
import socket
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from local_gateway.lambda_context import lambda_context
from proxy import stream_handler
from proxy.errors import BackendInvalidResponse, BackendTimeout
from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import ConfigureStream
from tests.support.faults import FaultServer, read_request, silent_after_request
from tests.support.logs import LogLines, captured
from tests.support.streaming_cases import ANSWERS, BINARY, REQUEST_ID, proxy_event, stream


@pytest.fixture
def stream_logs() -> Iterator[LogLines]:
    with captured(stream_handler.logger) as lines:
        yield lines


@pytest.mark.parametrize(("method", "reply", "prelude", "body"), ANSWERS)
def test_the_prelude_and_body_are_the_backends_answer(
    stream_backend: RecordingBackend, method: str, reply: Reply, prelude: dict[str, Any], body: bytes
) -> None:
    stream_backend.responder = lambda _: reply

    streamed = stream(proxy_event(method))

    assert streamed.prelude == prelude
    assert streamed.body == body
    assert streamed.failure is None
    assert (stream_backend.last.method, stream_backend.last.target) == (method, "/files/report.csv")
    assert stream_backend.last.header("X-Request-Id") == REQUEST_ID


def _hangs_up(connection: socket.socket) -> None:
    connection.close()


def _sends_an_invalid_head(connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"HTTP/1.1 999 Odd\r\n\r\n")


@pytest.mark.parametrize(
    ("script", "status", "message"),
    [
        (_hangs_up, 502, "the backend closed the connection without answering"),
        (silent_after_request, 504, "did not answer within 1 s"),
        (_sends_an_invalid_head, 502, "status"),
    ],
    ids=["hangs up", "no head in time", "invalid head"],
)
def test_a_failure_before_the_prelude_is_the_json_error_of_the_other_modes(
    stream_faults: FaultServer, script: Callable[[socket.socket], object], status: int, message: str
) -> None:
    stream_faults.script = script

    streamed = stream(proxy_event())

    assert streamed.prelude == {"statusCode": status, "headers": {"Content-Type": "application/json"}}
    answer = json.loads(streamed.body)
    assert answer["requestId"] == REQUEST_ID
    assert message in answer["message"]
    assert streamed.failure is None


def test_a_refused_connection_is_a_502_before_any_prelude(configure_stream: ConfigureStream) -> None:
    configure_stream("http://127.0.0.1:9")

    streamed = stream(proxy_event())

    assert streamed.prelude["statusCode"] == 502
    assert json.loads(streamed.body)["requestId"] == REQUEST_ID


def _head_then(
    body_script: Callable[[socket.socket], None], length: int | None = None
) -> Callable[[socket.socket], None]:
    def script(connection: socket.socket) -> None:
        read_request(connection)
        framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
        connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n{framing}\r\n\r\n".encode())
        body_script(connection)

    return script


def test_a_body_cut_short_after_the_prelude_ends_the_stream_with_an_error(
    stream_faults: FaultServer, stream_logs: LogLines
) -> None:
    stream_faults.script = _head_then(lambda connection: connection.sendall(b"only ten b"), length=1000)

    streamed = stream(proxy_event())

    assert streamed.prelude["statusCode"] == 200
    assert streamed.body == b"only ten b"
    assert isinstance(streamed.failure, BackendInvalidResponse)
    warning = stream_logs.at_level("WARNING")[-1]
    assert (warning["failure"], warning["streamed_bytes"]) == ("backend_invalid_response", 10)


def _chunked(pieces: list[bytes], pause: float, *, end: bool = True) -> Callable[[socket.socket], None]:
    def send(connection: socket.socket) -> None:
        for index, piece in enumerate(pieces):
            if index:
                time.sleep(pause)
            connection.sendall(b"%x\r\n%b\r\n" % (len(piece), piece))
        if end:
            connection.sendall(b"0\r\n\r\n")
        else:
            time.sleep(5)

    return send


def test_a_backend_silent_for_longer_than_the_idle_limit_ends_the_stream(stream_faults: FaultServer) -> None:
    stream_faults.script = _head_then(_chunked([b"first "], 0, end=False))

    started = time.monotonic()
    streamed = stream(proxy_event())
    elapsed = time.monotonic() - started

    assert streamed.body == b"first "
    assert isinstance(streamed.failure, BackendTimeout)
    assert "sent nothing for 1 s" in streamed.failure.message
    assert 0.9 < elapsed < 2.5


def test_the_stream_ends_a_second_before_the_functions_deadline_however_busy_the_backend(
    stream_faults: FaultServer,
) -> None:
    stream_faults.script = _head_then(_chunked([b"tick "] * 40, 0.1))  # never idle, 4 s in all

    started = time.monotonic()
    streamed = stream(proxy_event(), timeout_ms=2500)
    elapsed = time.monotonic() - started

    assert isinstance(streamed.failure, BackendTimeout)
    assert "did not finish its response within" in streamed.failure.message
    assert 1.3 < elapsed < 2.2, elapsed
    assert streamed.body.startswith(b"tick tick ")


def test_the_prelude_goes_out_with_the_head_and_each_chunk_as_it_is_read(stream_faults: FaultServer) -> None:
    def late_body(connection: socket.socket) -> None:
        time.sleep(0.5)
        _chunked([b"one ", b"two ", b"three"], 0.3)(connection)

    stream_faults.script = _head_then(late_body)
    started = time.monotonic()

    streamed = stream(proxy_event())

    assert streamed.prelude_at - started < 0.3, "the prelude waited for the body"
    arrivals = [at for at, _ in streamed.chunks]
    assert arrivals[0] - streamed.prelude_at > 0.4
    assert all(later - earlier > 0.25 for earlier, later in itertools.pairwise(arrivals))
    assert streamed.body == b"one two three"


def test_each_stream_logs_one_proxied_line_and_metrics_with_bytes_and_time_to_first_byte(
    stream_backend: RecordingBackend, stream_logs: LogLines, capsys: pytest.CaptureFixture[str]
) -> None:
    stream_backend.responder = lambda _: Reply(200, [("Content-Type", "application/octet-stream")], BINARY)
    capsys.readouterr()

    stream(proxy_event())

    [line] = [record for record in stream_logs.records() if record["message"] == "proxied"]
    assert (line["method"], line["status"], line["streamed_bytes"]) == ("GET", 200, len(BINARY))
    assert 0 < line["first_byte_ms"] <= line["handler_ms"]
    assert line["correlation_id"] == REQUEST_ID
    emf = [json.loads(text) for text in capsys.readouterr().out.splitlines() if '"_aws"' in text]
    assert len(emf) == 1
    assert emf[0]["StreamedBytes"] == [len(BINARY)]
    assert emf[0]["BackendStatus2xx"] == [1.0]
    assert {"TimeToFirstByte", "BackendLatency"} <= emf[0].keys()


def test_a_complete_stream_keeps_the_connection_and_a_stream_left_early_closes_it(
    stream_backend: RecordingBackend,
) -> None:
    stream_backend.responder = lambda _: Reply(200, [("Content-Type", "application/octet-stream")], BINARY * 8)

    stream(proxy_event())
    stream(proxy_event())
    assert stream_backend.connections_opened == 1

    response = stream_handler.lambda_handler(proxy_event(), lambda_context("proxy", timeout_ms=300_000))
    chunks = response.chunks
    assert isinstance(chunks, Generator)
    next(chunks), next(chunks)
    chunks.close()  # as the runtime client does when the Runtime API stops reading
    stream(proxy_event())
    assert stream_backend.connections_opened == 2
