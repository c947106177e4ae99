"""`python -m proxy.stream_runtime`: the function's runtime process when it streams its responses.

Lambda's python3.13 runtime cannot stream (its runtime client sends a handler's return value whole). In
IntegrationMode=STREAM, template.yaml sets AWS_LAMBDA_EXEC_WRAPPER to stream-wrapper, which starts this module with
the runtime's own interpreter instead of the runtime's bootstrap. Like the runtime's client it imports the handler
named by _HANDLER at init (reporting a failure as an init error), then serves one invocation at a time through the
Runtime API, with a Lambda context that Powertools reads and the X-Ray trace header in _X_AMZN_TRACE_ID.

A streaming handler returns a `StreamedResponse`: a content type and the body's chunks, each sent as soon as it is
produced. A failure before the first chunk is an invocation error, as a raised exception is in the managed runtime;
a failure after it ends the stream with the Runtime API's error trailers.
"""

import itertools
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import import_module
from typing import Any, NamedTuple

from proxy.runtime_api import FunctionError, Invocation, RuntimeApiClient

# API Gateway's and function URLs' format: JSON metadata (statusCode, headers, multiValueHeaders, cookies), eight NUL
# bytes, then the body as raw bytes (API Gateway developer guide, "Lambda proxy integration format for response
# streaming"; AWS's Node.js runtime client, src/HttpResponseStream.js).
HTTP_INTEGRATION_RESPONSE = "application/vnd.awslambda.http-integration-response"
PRELUDE_DELIMITER = b"\0" * 8
TRACE_ID_VARIABLE = "_X_AMZN_TRACE_ID"


class StreamedResponse(NamedTuple):
    content_type: str
    chunks: Iterable[bytes]


StreamingHandler = Callable[[Any, "InvocationContext"], StreamedResponse]


def prelude_chunk(prelude: Mapping[str, Any]) -> bytes:
    """The first chunk of an HTTP_INTEGRATION_RESPONSE: the metadata and the delimiter; the body's bytes follow."""
    return json.dumps(prelude, separators=(",", ":")).encode() + PRELUDE_DELIMITER  # JSON text holds no raw NUL


class ClientContext(NamedTuple):
    client: Any
    custom: Any
    env: Any


class CognitoIdentity(NamedTuple):
    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


class InvocationContext:
    """The Lambda context object, with the attributes and the values the python3.13 runtime's client gives it."""

    def __init__(self, invocation: Invocation, environ: Mapping[str, str]) -> None:
        self.aws_request_id = invocation.request_id
        self.invoked_function_arn = invocation.function_arn
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = _client_context(invocation.client_context)
        self.identity = _cognito_identity(invocation.cognito_identity)
        self._deadline_ms = invocation.deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - time.time_ns() // 1_000_000, 0)


class HandlerNameError(ValueError):
    """_HANDLER is not `module.function`."""


class ContextHeaderError(ValueError):
    """A client context or Cognito identity header that is not JSON (the runtime's LambdaContextUnmarshalError)."""


def main() -> int:
    # Lambda collects the process's stdout: each line must reach it when written, not when a buffer fills.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a TextIOWrapper
    client = RuntimeApiClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as error:
        report = _init_error(error)
        log("ERROR", "the handler could not be loaded", error=report, exception=error)
        client.post_init_error(report)
        return 1
    while True:
        serve(client, handler, client.next_invocation())


def load_handler(name: str) -> StreamingHandler:
    """`package.module.function`, imported as the runtime's client imports a handler."""
    module_name, _, function_name = name.rpartition(".")
    if not module_name or not function_name:
        raise HandlerNameError(f"Bad handler {name!r}: expected module.function")
    handler: StreamingHandler = getattr(import_module(module_name), function_name)
    return handler


def serve(client: RuntimeApiClient, handler: StreamingHandler, invocation: Invocation) -> None:
    _expose_trace_id(invocation.trace_id)
    try:
        event = json.loads(invocation.event)
        response = handler(event, InvocationContext(invocation, os.environ))
        if not isinstance(response, StreamedResponse):
            raise TypeError(f"a streaming handler returns a StreamedResponse, not {type(response).__name__}")
        chunks = iter(response.chunks)
        first = next(chunks, b"")
    except Exception as error:
        report = _invocation_error(error)
        log("ERROR", "the invocation failed before its response started", error=report, exception=error)
        client.post_invocation_error(invocation.request_id, report)
        return
    try:
        outcome = client.stream_response(invocation.request_id, response.content_type, itertools.chain([first], chunks))
    finally:
        _close(chunks)  # the handler's cleanup runs however the stream ended
    if outcome.failure is not None:
        report = FunctionError.from_exception(outcome.failure)
        log(
            "ERROR",
            "the response stream ended with an error",
            error=report,
            exception=outcome.failure,
            streamed_bytes=outcome.delivered_bytes,
        )
    elif not outcome.accepted:
        log(
            "ERROR",
            "the Runtime API did not accept the whole response",
            status=outcome.status,
            answer=outcome.answer[:300].decode("utf-8", "replace"),
            streamed_bytes=outcome.delivered_bytes,
        )


def log(
    level: str,
    message: str,
    *,
    error: FunctionError | None = None,
    exception: BaseException | None = None,
    **fields: Any,
) -> None:
    """One JSON line on stdout, which Lambda sends to the function's log group."""
    record: dict[str, Any] = {"level": level, "message": message, **fields}
    if error is not None:
        record |= {"errorType": error.error_type, "errorMessage": error.message}
    if exception is not None:
        record["stackTrace"] = traceback.format_exception(exception)
    print(json.dumps(record, default=str))


def _init_error(error: Exception) -> FunctionError:
    """The error types the python3.13 runtime's client reports for a handler it cannot load."""
    if isinstance(error, HandlerNameError):
        return FunctionError("Runtime.MalformedHandlerName", str(error))
    if isinstance(error, ImportError):
        return FunctionError("Runtime.ImportModuleError", f"Unable to import module: {error}")
    if isinstance(error, AttributeError):
        return FunctionError("Runtime.HandlerNotFound", str(error))
    if isinstance(error, SyntaxError):
        return FunctionError("Runtime.UserCodeSyntaxError", str(error))
    return FunctionError.from_exception(error)


def _invocation_error(error: Exception) -> FunctionError:
    if isinstance(error, json.JSONDecodeError):
        return FunctionError("Runtime.UnmarshalError", f"the event is not JSON: {error}")
    if isinstance(error, ContextHeaderError):
        return FunctionError("Runtime.LambdaContextUnmarshalError", str(error))
    return FunctionError.from_exception(error)


def _expose_trace_id(trace_id: str | None) -> None:
    """ "The runtime should set the _X_AMZN_TRACE_ID with the value of the header" (Lambda guide, runtime API)."""
    if trace_id:
        os.environ[TRACE_ID_VARIABLE] = trace_id
    else:
        os.environ.pop(TRACE_ID_VARIABLE, None)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _json_header(text: str | None, name: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise ContextHeaderError(f"Unable to parse {name} JSON") from None


def _client_context(text: str | None) -> ClientContext | None:
    parsed = _json_header(text, "Client Context")
    if not isinstance(parsed, dict):
        return None
    return ClientContext(client=parsed.get("client"), custom=parsed.get("custom"), env=parsed.get("env"))


def _cognito_identity(text: str | None) -> CognitoIdentity:
    parsed = _json_header(text, "Cognito Identity")
    if not isinstance(parsed, dict):
        return CognitoIdentity()
    return CognitoIdentity(parsed.get("cognitoIdentityId"), parsed.get("cognitoIdentityPoolId"))


if __name__ == "__main__":
    # `-m` ran this file as __main__; handlers import proxy.stream_runtime, a second copy whose StreamedResponse is
    # the one they return. Serve from that copy.
    from proxy.stream_runtime import main as imported_main

    sys.exit(imported_main())
