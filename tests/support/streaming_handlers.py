"""Streaming handlers that do what their event asks, for testing the runtime client (proxy/stream_runtime.py) apart
from the proxy: each runs in the runtime process that stream-wrapper starts, as _HANDLER names it."""

import base64
import itertools
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools import Logger

from proxy.stream_runtime import HTTP_INTEGRATION_RESPONSE, StreamedResponse, prelude_chunk
from tests.support.streaming_backends import generated_chunks

logger = Logger(service="streaming-test")


class Deliberate(RuntimeError):
    """The failure a scripted event asks for."""


def scripted(event: dict[str, Any], context: Any) -> StreamedResponse:
    """The prelude the event gives, then its `chunks` (base64 text each), or `size` bytes in chunks of
    `chunk_size`. `pause_before_body` and `pause` (between chunks) are seconds; `fail_before_prelude` raises before
    anything is sent, `fail_after` raises once that many chunks are out."""
    if event.get("fail_before_prelude"):
        raise Deliberate("failed before the prelude")
    prelude: dict[str, Any] = {
        key: event[key] for key in ("statusCode", "headers", "multiValueHeaders", "cookies") if key in event
    }
    return StreamedResponse(HTTP_INTEGRATION_RESPONSE, itertools.chain([prelude_chunk(prelude)], _chunks(event)))


def _chunks(event: dict[str, Any]) -> Iterator[bytes]:
    time.sleep(event.get("pause_before_body", 0))
    if "size" in event:
        pieces = generated_chunks(event["size"], event.get("chunk_size", 65536))
    else:
        pieces = (base64.b64decode(chunk) for chunk in event.get("chunks", []))
    for index, piece in enumerate(pieces):
        if index == event.get("fail_after"):
            raise Deliberate(f"failed after {index} chunks")
        if index and event.get("pause"):
            time.sleep(event["pause"])
        yield piece


@logger.inject_lambda_context(log_event=False)
def context_report(event: Any, context: Any) -> StreamedResponse:
    """The context the runtime built, as the handler and Powertools see it, as a JSON body."""
    logger.info("context seen")
    report = {
        "aws_request_id": context.aws_request_id,
        "invoked_function_arn": context.invoked_function_arn,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_context_custom": context.client_context.custom if context.client_context else None,
        "cognito_identity_id": context.identity.cognito_identity_id,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "interpreter_options": sys._xoptions,
        "event": event,
    }
    return StreamedResponse(
        HTTP_INTEGRATION_RESPONSE, [prelude_chunk({"statusCode": 200}), json.dumps(report).encode()]
    )


def returns_a_dict(event: Any, context: Any) -> dict[str, Any]:
    """A buffered-mode handler by mistake."""
    return {"statusCode": 200, "body": "not streamed"}
