"""Lambda entry point: parse the event, forward it to the backend, map every failure to a JSON answer."""

import os
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from proxy.backend import BackendClient
from proxy.config import IntegrationMode, load_config
from proxy.errors import ProxyError
from proxy.event import parse_event
from proxy.logs import InvocationLog
from proxy.response import (
    LAMBDA_RESPONSE_LIMIT_BYTES,
    LambdaResponse,
    error_response,
    set_cookie_values,
    to_lambda_response,
)
from proxy.telemetry import (
    SERVICE,
    backend_call,
    metrics_per_invocation,
    record_backend_answer,
    record_dropped_cookies,
    record_failure,
    traced,
)
from proxy.upstream import build_upstream_request

if TYPE_CHECKING:  # annotations only: the module is not loaded at init
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service=SERVICE)
LOG = InvocationLog(logger)
# Cold start: a bad setting fails the init here, loudly, instead of failing every request.
CONFIG = load_config(os.environ)
BACKEND = BackendClient(CONFIG, max_body_bytes=LAMBDA_RESPONSE_LIMIT_BYTES)


@traced
# Never logs the event (it carries Authorization and Cookie headers), whatever POWERTOOLS_LOGGER_LOG_EVENT says.
@LOG.with_lambda_context
@metrics_per_invocation
def lambda_handler(event: dict[str, Any], context: "LambdaContext") -> LambdaResponse:
    request_id = context.aws_request_id
    started = time.perf_counter()
    try:
        request = parse_event(event)
        request_id = request.request_id or request_id
        mapping_templates = CONFIG.integration_mode is IntegrationMode.VTL
        upstream = build_upstream_request(
            request,
            CONFIG.backend,
            text_only=mapping_templates,
            withheld=CONFIG.withheld_headers,
            withheld_query=CONFIG.withheld_query,
        )
        with backend_call(upstream.method) as record_status:
            sent = time.perf_counter()
            backend_response = BACKEND.send(upstream)
            record_status(backend_response.status)
        record_backend_answer(backend_response.status, (time.perf_counter() - sent) * 1000)
        response = to_lambda_response(backend_response, CONFIG.cors_allow_origin, text_only=mapping_templates)
        if mapping_templates:
            _report_dropped_cookies(response)
    except ProxyError as error:
        record_failure(error.metric)
        logger.warning(error.message, extra={"failure": error.kind, "status": int(error.status)})
        return error_response(error.status, error.message, request_id)
    except Exception:
        record_failure("ProxyInternalError")
        logger.exception("unexpected failure while proxying")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error in the proxy", request_id)
    fields = {
        "method": upstream.method,
        "status": response["statusCode"],
        "handler_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    LOG.info_line("proxied", fields)
    return response


def _report_dropped_cookies(response: LambdaResponse) -> None:
    """A mapping-template response carries one value per header: only the first Set-Cookie reaches the client."""
    cookies = set_cookie_values(response)
    if len(cookies) > 1:
        record_dropped_cookies(len(cookies) - 1)
        logger.warning(
            "Set-Cookie headers beyond the first were dropped (IntegrationMode=PROXY returns every one)",
            extra={"dropped_set_cookie": len(cookies) - 1, "cookie_names": [_cookie_name(c) for c in cookies[1:]]},
        )


def _cookie_name(cookie: str) -> str:
    """The name of `name=value; attributes`; a cookie without '=' is all value (RFC 6265bis 5.6): no name."""
    pair = cookie.split(";", 1)[0]
    return pair.split("=", 1)[0].strip()[:64] if "=" in pair else ""
