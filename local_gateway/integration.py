"""One request through the REST API's non-proxy Lambda integration, as API Gateway runs it.

Method request -> request template (chosen by Content-Type, body per binaryMediaTypes/contentHandling)
-> Lambda -> response template (responseOverride, CONVERT_TO_BINARY) -> method response.
"""

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatch
from typing import Any

from local_gateway.gateway_responses import GatewayResponses, MethodResponse
from local_gateway.sam_template import ProxyIntegration, load_gateway_settings
from local_gateway.vtl import Input, render

__all__ = ["FunctionError", "IntegrationContext", "MethodRequest", "MethodResponse", "RestApiIntegration"]

# Lambda's synchronous invocation payload limits, request and response.
LAMBDA_PAYLOAD_LIMIT_BYTES = 6_291_456
LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556
DEFAULT_CONTENT_TYPE = "application/json"

LambdaInvoker = Callable[[dict[str, Any]], Any]


class FunctionError(Exception):
    """The function failed (raised, timed out, crashed): API Gateway selects the error integration response."""


@dataclass(frozen=True)
class MethodRequest:
    """What a client sent: the path without the stage, still percent-encoded; query values decoded."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class IntegrationContext:
    """Per-request values that only API Gateway knows."""

    request_id: str
    request_time_epoch_ms: int

    @classmethod
    def fresh(cls) -> "IntegrationContext":
        return cls(request_id=str(uuid.uuid4()), request_time_epoch_ms=int(time.time() * 1000))


class RestApiIntegration:
    def __init__(
        self,
        api: ProxyIntegration,
        invoke: LambdaInvoker,
        stage: str,
        api_id: str = "local",
        responses: GatewayResponses | None = None,
    ) -> None:
        """`responses`: the refusals API Gateway makes itself; by default template.yaml's gateway responses."""
        self._api = api
        self._invoke = invoke
        self._stage = stage
        self._api_id = api_id
        self._responses = responses or GatewayResponses(load_gateway_settings().gateway_response_templates, stage)

    def render_event(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None = None
    ) -> str | MethodResponse:
        """The Lambda event text the request template produces, or the gateway's own refusal.

        `authorizer` is what API Gateway exposes as $context.authorizer: principalId plus the authorizer's context.
        """
        content_type = _media_type(_last(request.headers, "content-type") or DEFAULT_CONTENT_TYPE)
        template = self._api.request_templates.get(content_type)
        if template is None:
            return self._responses.refuse("UNSUPPORTED_MEDIA_TYPE", context.request_id)
        resource, path_parameters = _match_resource(request.path)
        template_input = Input(
            body=self._template_body(request.body, content_type),
            path_parameters=path_parameters,
            query_parameters=dict(request.query),  # a repeated key keeps its last value, as on AWS
            header_parameters=dict(request.headers),
        )
        variables = self._context(request, resource, context) | {"authorizer": authorizer or {}}
        return render(template, template_input, variables, {}).output

    def handle(
        self,
        request: MethodRequest,
        context: IntegrationContext | None = None,
        authorizer: dict[str, Any] | None = None,
    ) -> MethodResponse:
        context = context or IntegrationContext.fresh()
        event_text = self.render_event(request, context, authorizer)
        if isinstance(event_text, MethodResponse):
            return event_text
        if len(event_text.encode("utf-8")) > LAMBDA_PAYLOAD_LIMIT_BYTES:
            return self._responses.refuse("REQUEST_TOO_LARGE", context.request_id)
        try:
            event = json.loads(event_text)
        except json.JSONDecodeError:
            return self._responses.refuse("DEFAULT_5XX", context.request_id)
        try:
            result = self._invoke(event)
            output = json.dumps(result)
            if len(output.encode("utf-8")) > LAMBDA_RESPONSE_LIMIT_BYTES:
                raise FunctionError("Response payload size exceeded maximum allowed payload size")
        except FunctionError as error:
            return self._function_error(request, context, str(error))
        return self._method_response(request, context, output)

    def _method_response(self, request: MethodRequest, context: IntegrationContext, output: str) -> MethodResponse:
        resource, _ = _match_resource(request.path)
        rendered = render(
            self._api.response_template, Input(body=output), self._context(request, resource, context), {}
        )
        body = rendered.output.encode("utf-8")
        if self._api.response_content_handling == "CONVERT_TO_BINARY":
            try:
                body = base64.b64decode(rendered.output, validate=True)
            except binascii.Error:
                return self._responses.refuse("DEFAULT_5XX", context.request_id)
        headers = list(rendered.header_overrides.items())
        return MethodResponse(rendered.status_override or 200, headers, body, context.request_id)

    def _function_error(self, request: MethodRequest, context: IntegrationContext, message: str) -> MethodResponse:
        resource, _ = _match_resource(request.path)
        rendered = render(
            self._api.error_response_template,
            Input(body=json.dumps({"errorMessage": message})),
            self._context(request, resource, context),
            {},
        )
        headers = [("Content-Type", "application/json")]
        return MethodResponse(self._api.error_status, headers, rendered.output.encode("utf-8"), context.request_id)

    def _template_body(self, body: bytes, content_type: str) -> str:
        binary = any(fnmatch(content_type, pattern) for pattern in self._api.binary_media_types)
        if binary and self._api.request_content_handling == "CONVERT_TO_TEXT":
            return base64.b64encode(body).decode("ascii")
        return body.decode("utf-8", "replace")

    def _context(self, request: MethodRequest, resource: str, context: IntegrationContext) -> dict[str, Any]:
        moment = datetime.fromtimestamp(context.request_time_epoch_ms / 1000, tz=UTC)
        return {
            "requestId": context.request_id,
            "extendedRequestId": context.request_id,
            "requestTime": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": context.request_time_epoch_ms,
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": f"/{self._stage}{request.path}",
            "stage": self._stage,
            "apiId": self._api_id,
            "accountId": "123456789012",
            "domainName": _last(request.headers, "host") or "localhost",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": request.source_ip, "userAgent": _last(request.headers, "user-agent")},
        }


def _match_resource(path: str) -> tuple[str, dict[str, str]]:
    if path == "/":
        return "/", {}
    return "/{proxy+}", {"proxy": path[1:]}


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _last(headers: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in headers if key.lower() == name]
    return values[-1] if values else None
