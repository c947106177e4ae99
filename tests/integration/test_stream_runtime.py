"""The streaming runtime client (proxy/stream_runtime.py, started through proxy_fn/stream-wrapper) against a Runtime
API of ours that records when each chunk arrives: streaming, trailers, errors, the Lambda context, large sizes.

What AWS's own emulator makes of the same runtime is in test_stream_runtime_rie.py.
"""

import base64
import hashlib
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.stream_runtime import HTTP_INTEGRATION_RESPONSE, PRELUDE_DELIMITER
from tests.support.memory import peak_rss_bytes
from tests.support.runtime_api import FakeRuntimeApi, RecordedInvocation
from tests.support.streaming_backends import generated_chunks
from tests.support.streaming_runtime import runtime_process

SCRIPTED = "tests.support.streaming_handlers.scripted"


@pytest.fixture
def api() -> Iterator[FakeRuntimeApi]:
    with FakeRuntimeApi() as server:
        yield server


@pytest.fixture
def runtime_log(tmp_path: Path) -> Path:
    return tmp_path / "runtime.log"


@pytest.fixture
def scripted_runtime(api: FakeRuntimeApi, runtime_log: Path) -> Iterator[FakeRuntimeApi]:
    with runtime_process(api.address, SCRIPTED, runtime_log):
        yield api


def prelude_of(invocation: RecordedInvocation) -> dict[str, object]:
    metadata, delimiter, _ = (
        invocation.chunks[0].data.partition(PRELUDE_DELIMITER) if invocation.chunks[0].data else (b"", b"", b"")
    )
    assert delimiter == PRELUDE_DELIMITER, invocation.chunks[0]
    prelude: dict[str, object] = json.loads(metadata)
    return prelude


def text_chunks(*texts: str) -> list[str]:
    return [base64.b64encode(text.encode()).decode() for text in texts]


def test_the_prelude_goes_out_before_the_body_and_each_chunk_as_it_is_produced(
    scripted_runtime: FakeRuntimeApi,
) -> None:
    invocation = scripted_runtime.invoke(
        {
            "statusCode": 201,
            "cookies": ["a=1", "b=2"],
            "chunks": text_chunks("one ", "two ", "three"),
            "pause_before_body": 0.4,
            "pause": 0.3,
        }
    ).wait()

    assert invocation.response_headers["Lambda-Runtime-Function-Response-Mode"] == "streaming"
    assert invocation.response_headers["Transfer-Encoding"] == "chunked"
    assert invocation.response_headers["Content-Type"] == HTTP_INTEGRATION_RESPONSE
    assert (
        invocation.response_headers["Trailer"]
        == "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
    )
    assert invocation.body == b'{"statusCode":201,"cookies":["a=1","b=2"]}' + b"\0" * 8 + b"one two three"
    assert [chunk.data for chunk in invocation.chunks[1:]] == [b"one ", b"two ", b"three"]
    arrivals = [chunk.at for chunk in invocation.chunks]
    assert arrivals[1] - arrivals[0] >= 0.35, "the prelude waited for the body"
    assert min(later - earlier for earlier, later in itertools.pairwise(arrivals[1:])) >= 0.25, "chunks were held back"
    assert invocation.trailers == {}


def test_a_failure_after_the_prelude_ends_the_stream_with_the_error_trailers(
    scripted_runtime: FakeRuntimeApi, runtime_log: Path
) -> None:
    failed = scripted_runtime.invoke(
        {"chunks": text_chunks("kept ", "kept too ", "never sent"), "fail_after": 2}
    ).wait()

    assert failed.body.split(PRELUDE_DELIMITER, 1)[1] == b"kept kept too "
    assert failed.trailers["Lambda-Runtime-Function-Error-Type"] == "Deliberate"
    reported = json.loads(base64.b64decode(failed.trailers["Lambda-Runtime-Function-Error-Body"]))
    assert reported == {"errorType": "Deliberate", "errorMessage": "failed after 2 chunks"}
    assert failed.error is None
    # The runtime goes on with the next invocation.
    assert scripted_runtime.invoke({"chunks": text_chunks("next")}).wait().body.endswith(b"next")
    logged = [json.loads(line) for line in runtime_log.read_text().splitlines() if line.startswith("{")]
    assert [(line["message"], line["errorType"], line["streamed_bytes"]) for line in logged] == [
        ("the response stream ended with an error", "Deliberate", len(failed.body))
    ]


def test_a_failure_before_the_prelude_is_an_invocation_error(scripted_runtime: FakeRuntimeApi) -> None:
    failed = scripted_runtime.invoke({"fail_before_prelude": True})
    deadline = time.monotonic() + 30
    while failed.error is None and time.monotonic() < deadline:
        time.sleep(0.02)

    assert failed.error_type_header == "Deliberate"
    assert failed.error == {"errorType": "Deliberate", "errorMessage": "failed before the prelude"}
    assert failed.chunks == []
    assert scripted_runtime.invoke({"chunks": text_chunks("next")}).wait().body.endswith(b"next")


def test_an_event_that_is_not_json_is_an_unmarshal_error(scripted_runtime: FakeRuntimeApi) -> None:
    failed = scripted_runtime.invoke(b"{not json")
    deadline = time.monotonic() + 30
    while failed.error is None and time.monotonic() < deadline:
        time.sleep(0.02)

    assert failed.error_type_header == "Runtime.UnmarshalError"
    assert failed.chunks == []


def test_the_context_carries_the_invocations_headers_for_the_handler_and_powertools(
    api: FakeRuntimeApi, runtime_log: Path
) -> None:
    with runtime_process(api.address, "tests.support.streaming_handlers.context_report", runtime_log):
        traced = api.invoke(
            {"n": 1},
            timeout_seconds=120,
            client_context=json.dumps({"custom": {"tenant": "acme"}, "env": {}, "client": {}}),
            cognito_identity=json.dumps({"cognitoIdentityId": "eu-west-1:abc", "cognitoIdentityPoolId": "pool"}),
        ).wait()
        untraced = api.invoke({"n": 2}, trace_id=None).wait()

    report = json.loads(traced.body.split(PRELUDE_DELIMITER, 1)[1])
    assert report["aws_request_id"] == traced.request_id
    assert report["invoked_function_arn"] == traced.headers["Lambda-Runtime-Invoked-Function-Arn"]
    assert (report["function_name"], report["function_version"]) == ("proxy", "$LATEST")
    assert report["memory_limit_in_mb"] == "512"  # a string, as the python3.13 runtime's own client gives it
    assert (report["log_group_name"], report["log_stream_name"]) == (
        "/aws/lambda/proxy",
        "2026/11/22/[$LATEST]0123456789abcdef",
    )
    assert 110_000 < report["remaining_ms"] <= 120_000
    assert report["client_context_custom"] == {"tenant": "acme"}
    assert report["cognito_identity_id"] == "eu-west-1:abc"
    assert report["trace_id"] == traced.headers["Lambda-Runtime-Trace-Id"]
    assert report["interpreter_options"] == {"frozen_modules": "off"}, "the wrapper dropped the runtime's options"
    assert report["event"] == {"n": 1}
    assert json.loads(untraced.body.split(PRELUDE_DELIMITER, 1)[1])["trace_id"] is None
    powertools = [json.loads(line) for line in runtime_log.read_text().splitlines() if '"context seen"' in line]
    assert [(line["function_request_id"], line["cold_start"]) for line in powertools] == [
        (traced.request_id, True),
        (untraced.request_id, False),
    ]
    assert powertools[0]["xray_trace_id"] == "1-5bef4de7-ad49b0e87f6ef6c87fc2e700"
    assert powertools[0]["function_arn"] == traced.headers["Lambda-Runtime-Invoked-Function-Arn"]


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        ("tests.support.no_such_module.handler", "Runtime.ImportModuleError"),
        ("tests.support.streaming_handlers.no_such_function", "Runtime.HandlerNotFound"),
        ("handler_without_a_module", "Runtime.MalformedHandlerName"),
    ],
)
def test_a_handler_that_cannot_be_loaded_is_an_init_error(
    api: FakeRuntimeApi, runtime_log: Path, handler: str, error_type: str
) -> None:
    with runtime_process(api.address, handler, runtime_log) as process:
        assert process.wait(timeout=30) == 1
    assert [reported for reported, _ in api.init_errors] == [error_type]
    assert api.init_errors[0][1]["errorType"] == error_type


def test_a_handler_that_does_not_stream_is_told_so(api: FakeRuntimeApi, runtime_log: Path) -> None:
    with runtime_process(api.address, "tests.support.streaming_handlers.returns_a_dict", runtime_log):
        failed = api.invoke({})
        deadline = time.monotonic() + 30
        while failed.error is None and time.monotonic() < deadline:
            time.sleep(0.02)

    assert failed.error == {
        "errorType": "TypeError",
        "errorMessage": "a streaming handler returns a StreamedResponse, not dict",
    }


def test_150_mb_arrive_whole_and_the_runtimes_memory_stays_flat(api: FakeRuntimeApi, runtime_log: Path) -> None:
    size, chunk_size = 150 * 1024 * 1024, 256 * 1024
    expected = hashlib.sha256(b"{}" + PRELUDE_DELIMITER)
    for chunk in generated_chunks(size, chunk_size):
        expected.update(chunk)

    with runtime_process(api.address, SCRIPTED, runtime_log) as process:
        api.invoke({"size": chunk_size, "chunk_size": chunk_size}).wait()  # warm: everything imported and used once
        warm_peak = peak_rss_bytes(process.pid)
        invocation = api.invoke({"size": size, "chunk_size": chunk_size}, keep_body=False).wait(120)
        streaming_peak = peak_rss_bytes(process.pid)

    assert invocation.size == len(b"{}" + PRELUDE_DELIMITER) + size
    assert invocation.sha256 == expected.hexdigest()
    assert len(invocation.chunks) == 1 + size // chunk_size
    assert invocation.trailers == {}
    assert streaming_peak - warm_peak <= 8 * 1024 * 1024, f"peak RSS grew by {streaming_peak - warm_peak:,} bytes"
