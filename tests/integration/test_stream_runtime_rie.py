"""The streaming runtime under AWS's own Runtime Interface Emulator (aws-lambda-rie, the binary SAM CLI ships), on this
machine without Docker: the emulator starts a stand-in of the python3.13 runtime's bootstrap, which execs
proxy_fn/stream-wrapper, which starts proxy/stream_runtime.py.

What the emulator shows: the bytes of a streamed response (prelude, delimiter, body), init and invocation errors, and
its response size limit. What it cannot show, it buffers: when chunks arrive (test_stream_runtime.py measures that
against a Runtime API of ours), and the error trailers (it returns the bytes sent before them, with status 200).
"""

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.stream_runtime import PRELUDE_DELIMITER
from tests.support.streaming_backends import generated_chunks
from tests.support.streaming_runtime import Emulator, emulator

SCRIPTED = "tests.support.streaming_handlers.scripted"
# The emulator's limit on a streamed response (bytes, prelude included), from its own error message; Lambda streams
# up to 200 MB ("response streaming functions can return payloads up to 200 MB", Lambda guide).
EMULATOR_RESPONSE_LIMIT = 6_291_556


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with emulator(tmp_path_factory.mktemp("rie"), SCRIPTED) as running:
        yield running


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_streamed_response_reaches_the_caller_as_prelude_delimiter_and_raw_body(scripted: Emulator) -> None:
    binary = bytes(range(256))
    answer = scripted.invoke(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/octet-stream"},
            "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
            "chunks": [b64(b"caf\xc3\xa9 "), b64(binary), b64(b"\0\0end")],
        }
    )

    assert answer.status == 200
    metadata, delimiter, body = answer.body.partition(PRELUDE_DELIMITER)
    assert json.loads(metadata) == {
        "statusCode": 201,
        "headers": {"Content-Type": "application/octet-stream"},
        "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
    }
    assert delimiter == PRELUDE_DELIMITER
    assert body == b"caf\xc3\xa9 " + binary + b"\0\0end"


def test_an_empty_body_is_the_prelude_and_delimiter_alone(scripted: Emulator) -> None:
    assert scripted.invoke({"statusCode": 204}).body == b'{"statusCode":204}' + PRELUDE_DELIMITER


def test_the_emulator_takes_a_stream_up_to_its_limit_refuses_more_and_the_runtime_goes_on(scripted: Emulator) -> None:
    prelude_size = len(b"{}" + PRELUDE_DELIMITER)
    largest = EMULATOR_RESPONSE_LIMIT - prelude_size

    whole = scripted.invoke({"size": largest, "chunk_size": 262144})
    too_large = scripted.invoke({"size": largest + 1, "chunk_size": 262144})
    after = scripted.invoke({"chunks": [b64(b"still serving")]})

    assert whole.body == b"{}" + PRELUDE_DELIMITER + b"".join(generated_chunks(largest, 262144))
    assert json.loads(too_large.body)["errorType"] == "Function.ResponseSizeTooLarge"
    assert after.body.endswith(PRELUDE_DELIMITER + b"still serving")


def test_after_the_prelude_the_emulator_returns_what_was_sent_before_the_error_and_drops_the_trailers(
    scripted: Emulator,
) -> None:
    answer = scripted.invoke({"chunks": [b64(b"sent "), b64(b"never")], "fail_after": 1})

    assert (answer.status, answer.body) == (200, b"{}" + PRELUDE_DELIMITER + b"sent ")


def test_a_failure_before_the_prelude_is_the_function_error_the_caller_gets(scripted: Emulator) -> None:
    answer = scripted.invoke({"fail_before_prelude": True})

    assert json.loads(answer.body) == {"errorType": "Deliberate", "errorMessage": "failed before the prelude"}


def test_a_handler_that_cannot_be_loaded_fails_the_init_with_its_error_type(tmp_path: Path) -> None:
    with emulator(tmp_path, "tests.support.streaming_handlers.missing") as running:
        answer = running.invoke({})

    assert answer.status == 502
    assert json.loads(answer.body) == {
        "errorType": "Runtime.HandlerNotFound",
        "errorMessage": "module 'tests.support.streaming_handlers' has no attribute 'missing'",
    }
