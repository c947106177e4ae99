"""Lambda entry point in IntegrationMode=STREAM (proxy.stream_handler.lambda_handler, which proxy/stream_runtime.py
runs): the answer goes to the client as the backend sends it.

The event is parsed, the request shaped and sent by the same modules as in the other modes. Once the backend's head
has arrived, the prelude (status, headers, every Set-Cookie) goes out, then each body chunk as soon as it is read;
no whole body is ever held. Before the prelude, every failure is the same JSON answer with the request id as in the
other modes; after it, a failure ends the stream with the Runtime API's error trailers.

Deadlines: the backend's head within BackendTimeoutSeconds (as in the other modes); then at most
BackendTimeoutSeconds between two reads of the body (the idle limit, below API Gateway's own idle timeouts: 5
minutes for Regional and private endpoints, 30 s for edge-optimized ones); and the whole answer by the function's
deadline (StreamTimeoutSeconds) less STREAM_MARGIN_SECONDS, so that the proxy, not Lambda, ends a stream that is too
long, and says why.
"""

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from proxy.backend import BackendClient
from proxy.config import load_config
from proxy.errors import ProxyError
from proxy.event import parse_event
from proxy.logs import InvocationLog
from proxy.response import LAMBDA_RESPONSE_LIMIT_BYTES, error_response
from proxy.stream_response import error_prelude_and_body, stream_prelude
from proxy.stream_runtime import HTTP_INTEGRATION_RESPONSE, StreamedResponse, prelude_chunk
from proxy.telemetry import (
    SERVICE,
    backend_call,
    metrics_per_stream,
    record_backend_answer,
    record_failure,
    record_stream,
    traced_stream,
)
from proxy.upstream import build_upstream_request

if TYPE_CHECKING:  # annotations only: the module is not loaded at init
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Time kept back from the function's deadline to end a stream that runs too long with an explained error.
STREAM_MARGIN_SECONDS = 1.0

logger = Logger(service=SERVICE)
LOG = InvocationLog(logger)
# Cold start: a bad setting fails the init here, loudly, instead of failing every request.
CONFIG = load_config(os.environ)
BACKEND = BackendClient(CONFIG, max_body_bytes=LAMBDA_RESPONSE_LIMIT_BYTES)  # the limit applies to buffered answers


# Never logs the event (it carries Authorization and Cookie headers), whatever POWERTOOLS_LOGGER_LOG_EVENT says.
@LOG.with_lambda_context
def lambda_handler(event: dict[str, Any], context: "LambdaContext") -> StreamedResponse:
    return StreamedResponse(HTTP_INTEGRATION_RESPONSE, _answer(event, context))


@traced_stream
@metrics_per_stream
def _answer(event: dict[str, Any], context: "LambdaContext") -> Iterator[bytes]:
    started = time.perf_counter()
    request_id = context.aws_request_id
    with ExitStack() as exchange:
        try:
            request = parse_event(event)
            request_id = request.request_id or request_id
            upstream = build_upstream_request(
                request, CONFIG.backend, withheld=CONFIG.withheld_headers, withheld_query=CONFIG.withheld_query
            )
            record_status = exchange.enter_context(backend_call(upstream.method))
            sent = time.perf_counter()
            answer = exchange.enter_context(
                BACKEND.stream(upstream, idle_seconds=CONFIG.timeout_seconds, total_seconds=_time_left(context))
            )
            record_status(answer.status)
        except ProxyError as error:
            yield from _refusal(error, request_id)
            return
        except Exception:
            record_failure("ProxyInternalError")
            logger.exception("unexpected failure while proxying")
            internal_error = error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error in the proxy", request_id)
            yield from _answer_with(internal_error)
            return
        record_backend_answer(answer.status, (time.perf_counter() - sent) * 1000)
        yield prelude_chunk(stream_prelude(answer.status, answer.headers, CONFIG.cors_allow_origin))
        first_byte_ms = (time.perf_counter() - started) * 1000
        streamed = 0
        try:
            for chunk in answer.chunks():
                streamed += len(chunk)
                yield chunk
        except ProxyError as error:
            record_failure(error.metric)
            logger.warning(
                f"the answer was cut off: {error.message}",
                extra={"failure": error.kind, "status": answer.status, "streamed_bytes": streamed},
            )
            raise
        except Exception:
            record_failure("ProxyInternalError")
            logger.exception("unexpected failure while streaming", extra={"streamed_bytes": streamed})
            raise
        finally:
            record_stream(streamed, first_byte_ms)
            fields = {
                "method": upstream.method,
                "status": answer.status,
                "handler_ms": round((time.perf_counter() - started) * 1000, 1),
                "first_byte_ms": round(first_byte_ms, 1),
                "streamed_bytes": streamed,
            }
            LOG.info_line("proxied", fields)


def _time_left(context: "LambdaContext") -> float:
    """Seconds until the stream must have ended: the function's deadline less the margin."""
    return max(context.get_remaining_time_in_millis() / 1000 - STREAM_MARGIN_SECONDS, 0.001)


def _refusal(error: ProxyError, request_id: str) -> Iterator[bytes]:
    record_failure(error.metric)
    logger.warning(error.message, extra={"failure": error.kind, "status": int(error.status)})
    yield from _answer_with(error_response(error.status, error.message, request_id))


def _answer_with(response: dict[str, Any]) -> Iterator[bytes]:
    prelude, body = error_prelude_and_body(response)
    yield prelude_chunk(prelude)
    yield body
