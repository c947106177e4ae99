"""The proxy in STREAM mode as Lambda runs it: stream-wrapper, the runtime client, proxy.stream_handler, a real
backend on 127.0.0.1.

Under aws-lambda-rie (AWS's emulator, from SAM CLI's package, no Docker): the bytes of the prelude, the delimiter and
the body for text, binary, an empty body, 204, HEAD and two cookies, and bodies up to the emulator's limit; past it,
the emulator's Function.ResponseSizeTooLarge; a bad setting failing the init with the variable's name.
Against our Runtime API, which records each chunk's arrival: a 150 MB answer byte for byte with the runtime's memory
flat, chunks arriving as the backend sends them, and the error trailers of an answer cut short.
"""

import base64
import hashlib
import itertools
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.stream_runtime import PRELUDE_DELIMITER
from tests.support.backend import RecordingBackend, Reply
from tests.support.faults import FaultServer, chunks_slowly
from tests.support.memory import peak_rss_bytes
from tests.support.runtime_api import FakeRuntimeApi
from tests.support.streaming_backends import generated_bodies, generated_chunks, serving
from tests.support.streaming_cases import ANSWERS, REQUEST_ID, proxy_event
from tests.support.streaming_runtime import Emulator, emulator, runtime_process
from tests.support.xray import xray_daemon

PROXY = "proxy.stream_handler.lambda_handler"
# The emulator's limit on a whole streamed response, prelude included (its Function.ResponseSizeTooLarge message).
EMULATOR_RESPONSE_LIMIT = 6_291_556


def split(raw: bytes) -> tuple[dict[str, object], bytes]:
    metadata, delimiter, body = raw.partition(PRELUDE_DELIMITER)
    assert delimiter == PRELUDE_DELIMITER, raw[:200]
    prelude: dict[str, object] = json.loads(metadata)
    return prelude, body


# ---- Under aws-lambda-rie ----


@pytest.fixture(scope="module")
def rie_backend() -> Iterator[RecordingBackend]:
    with RecordingBackend() as server:
        yield server


@pytest.fixture(scope="module")
def proxy_under_rie(tmp_path_factory: pytest.TempPathFactory, rie_backend: RecordingBackend) -> Iterator[Emulator]:
    with emulator(
        tmp_path_factory.mktemp("rie-proxy"),
        PROXY,
        BACKEND_URL=rie_backend.url,
        BACKEND_TIMEOUT_SECONDS="5",
        INTEGRATION_MODE="STREAM",
        POWERTOOLS_SERVICE_NAME="private-api-proxy",
    ) as running:
        yield running


@pytest.mark.parametrize(("method", "reply", "prelude", "body"), ANSWERS)
def test_under_the_emulator_the_caller_gets_prelude_delimiter_and_the_backends_bytes(
    proxy_under_rie: Emulator,
    rie_backend: RecordingBackend,
    method: str,
    reply: Reply,
    prelude: dict[str, object],
    body: bytes,
) -> None:
    rie_backend.responder = lambda _: reply

    answer = proxy_under_rie.invoke(proxy_event(method))

    assert answer.status == 200
    assert answer.body == json.dumps(prelude, separators=(",", ":")).encode() + PRELUDE_DELIMITER + body
    assert (rie_backend.last.method, rie_backend.last.header("X-Request-Id")) == (method, REQUEST_ID)


def test_under_the_emulator_a_body_up_to_its_limit_arrives_whole_and_past_it_the_emulator_refuses(
    proxy_under_rie: Emulator, rie_backend: RecordingBackend
) -> None:
    headers = [("Content-Type", "application/octet-stream")]
    prelude = b'{"statusCode":200,"headers":{"Content-Type":"application/octet-stream"}}' + PRELUDE_DELIMITER
    largest = EMULATOR_RESPONSE_LIMIT - len(prelude)
    body = b"".join(generated_chunks(largest, 1 << 20))

    rie_backend.responder = lambda _: Reply(200, headers, body)
    whole = proxy_under_rie.invoke(proxy_event())
    rie_backend.responder = lambda _: Reply(200, headers, body + b"!")
    too_large = proxy_under_rie.invoke(proxy_event())
    rie_backend.responder = lambda _: Reply(200, [], b"next")
    after = proxy_under_rie.invoke(proxy_event())

    assert whole.body == prelude + body
    assert json.loads(too_large.body)["errorType"] == "Function.ResponseSizeTooLarge"
    assert split(after.body)[1] == b"next"


def test_under_the_emulator_a_bad_setting_fails_the_init_naming_the_variable(tmp_path: Path) -> None:
    with emulator(tmp_path, PROXY, BACKEND_URL="ftp://10.0.0.1", INTEGRATION_MODE="STREAM") as running:
        answer = running.invoke(proxy_event())

    assert answer.status == 502
    assert json.loads(answer.body) == {
        "errorType": "ConfigError",
        "errorMessage": "BACKEND_URL must start with http:// or https://",
    }


# ---- Against our Runtime API ----


@pytest.fixture
def api() -> Iterator[FakeRuntimeApi]:
    with FakeRuntimeApi() as server:
        yield server


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def test_a_150_mb_answer_streams_byte_for_byte_and_the_runtimes_memory_stays_flat(
    api: FakeRuntimeApi, faults: FaultServer, tmp_path: Path
) -> None:
    size = 150 * 1024 * 1024
    faults.script = generated_bodies
    expected = hashlib.sha256(
        b'{"statusCode":200,"headers":{"Content-Type":"application/octet-stream"}}' + PRELUDE_DELIMITER
    )
    for chunk in generated_chunks(size, 1 << 20):
        expected.update(chunk)

    with runtime_process(
        api.address, PROXY, tmp_path / "log", BACKEND_URL=faults.url, INTEGRATION_MODE="STREAM"
    ) as runtime:
        api.invoke(proxy_event(path="/bytes/1048576")).wait()  # warm: imported, connected, one answer streamed
        warm_peak = peak_rss_bytes(runtime.pid)
        big = api.invoke(proxy_event(path=f"/bytes/{size}"), keep_body=False, timeout_seconds=300).wait(120)
        streaming_peak = peak_rss_bytes(runtime.pid)

    assert big.trailers == {}
    assert big.sha256 == expected.hexdigest()
    assert streaming_peak - warm_peak <= 16 * 1024 * 1024, f"peak RSS grew by {streaming_peak - warm_peak:,} bytes"


def test_chunks_reach_the_runtime_api_as_the_backend_sends_them(
    api: FakeRuntimeApi, faults: FaultServer, tmp_path: Path
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    faults.script = serving(head, chunks_slowly((b"one ", b"two ", b"three"), 0.4))

    with runtime_process(api.address, PROXY, tmp_path / "log", BACKEND_URL=faults.url, INTEGRATION_MODE="STREAM"):
        invocation = api.invoke(proxy_event()).wait()

    prelude, body = split(invocation.body)
    assert (prelude, body) == ({"statusCode": 200, "headers": {"Content-Type": "text/event-stream"}}, b"one two three")
    body_chunks = invocation.chunks[1:]
    assert [chunk.data for chunk in body_chunks] == [b"one ", b"two ", b"three"]
    assert all(later.at - earlier.at > 0.3 for earlier, later in itertools.pairwise(body_chunks))
    assert body_chunks[0].at - invocation.chunks[0].at < 0.2, "the prelude waited for the body"


def _cut_short(connection: socket.socket) -> None:
    connection.sendall(b"partial")
    connection.close()


def test_an_answer_cut_short_ends_with_the_error_trailers_naming_the_reason(
    api: FakeRuntimeApi, faults: FaultServer, tmp_path: Path
) -> None:
    faults.script = serving(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", _cut_short)

    with runtime_process(api.address, PROXY, tmp_path / "log", BACKEND_URL=faults.url, INTEGRATION_MODE="STREAM"):
        invocation = api.invoke(proxy_event()).wait()

    assert split(invocation.body) == ({"statusCode": 200, "headers": {}}, b"partial")
    assert invocation.trailers["Lambda-Runtime-Function-Error-Type"] == "BackendInvalidResponse"
    reported = json.loads(base64.b64decode(invocation.trailers["Lambda-Runtime-Function-Error-Body"]))
    assert reported["errorType"] == "BackendInvalidResponse"
    assert "backend" in reported["errorMessage"]


def test_xray_sees_a_stream_subsegment_lasting_to_the_last_byte_and_the_backend_call(
    api: FakeRuntimeApi, faults: FaultServer, tmp_path: Path
) -> None:
    faults.script = serving(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        chunks_slowly((b"secret-one ", b"secret-two ", b"secret-three"), 0.3),
    )
    with (
        xray_daemon() as daemon,
        runtime_process(
            api.address,
            PROXY,
            tmp_path / "log",
            BACKEND_URL=faults.url,
            INTEGRATION_MODE="STREAM",
            AWS_XRAY_DAEMON_ADDRESS=daemon.address,
        ),
    ):
        invocation = api.invoke(proxy_event()).wait()
        documents = daemon.received()

    assert split(invocation.body)[1] == b"secret-one secret-two secret-three"
    spans = {document["name"]: document for document in documents}
    assert {"## stream", "## backend"} <= spans.keys(), sorted(spans)
    stream = spans["## stream"]
    assert stream["end_time"] - stream["start_time"] > 0.8, "the subsegment ended before the last byte"
    assert stream["trace_id"] == "1-5bef4de7-ad49b0e87f6ef6c87fc2e700"  # from the invocation's trace header
    assert spans["## backend"]["annotations"] == {"method": "GET", "status": 200}
    assert "secret" not in "".join(daemon.packets)
