"""One request through the REST API's Lambda integration, as API Gateway runs it.

Mapping templates (type AWS): method request -> request template (chosen by the Content-Type's MIME type, the
body converted per binaryMediaTypes/contentHandling) -> Lambda -> the integration response's contentHandling
applied to the Lambda's JSON answer -> response template (responseOverride) -> method response.
Lambda proxy (AWS_PROXY): method request -> REST proxy event -> Lambda -> its statusCode, headers and body, the
body decoded from base64 when the client's first Accept type is a binary media type. With responseTransferMode
STREAM the same event goes to a streaming function, and its answer to the client as it comes (streaming.py).

Sources: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
(the conversion tables) and ../shared/API-GATEWAY-NOTES.md for the facts behind each step.
"""

import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from local_gateway.gateway_responses import GatewayResponses, MethodResponse
from local_gateway.sam_template import (
    AWS_PROXY,
    STREAM,
    IntegrationResponse,
    MockIntegration,
    ProxyIntegration,
    load_gateway_settings,
)
from local_gateway.streaming import FunctionStream, read_stream
from local_gateway.vtl import Input, render

__all__ = [
    "Engine",
    "EngineFactory",
    "FunctionError",
    "IntegrationContext",
    "MethodRequest",
    "MethodResponse",
    "RestApiIntegration",
]

# Lambda's synchronous invocation payload limits, request and response.
LAMBDA_PAYLOAD_LIMIT_BYTES = 6_291_456
# What Lambda's Invoke API answers (413 RequestEntityTooLargeException) for a larger event: API Gateway hands it
# to the integration like any answer, not as a function error (LocalStack's model; which status AWS ends with is
# not yet verified).
_LAMBDA_REFUSED_PAYLOAD = json.dumps(
    {
        "Type": "User",
        "message": f"Request must be smaller than {LAMBDA_PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation",
    }
)
LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556
# "None: API Gateway defaults to application/json" (integration-passthrough-behaviors.html).
DEFAULT_CONTENT_TYPE = "application/json"
# What the Lambda service answers API Gateway with: "By default, the content type is application/json".
LAMBDA_RESULT_TYPE = "application/json"
# `$input.body` of an empty payload (validated against AWS by LocalStack's test_input_body_formatting).
EMPTY_TEMPLATE_BODY = "{}"
_PROXY_RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
# What AWS did with these headers in LocalStack's AWS-recorded test_apigateway_integrations.py::
# TestApiGatewayHeaderRemapping (AWS and AWS_PROXY, validated 2024-12-11): dropped from the request before any
# template or event sees it, and renamed x-amzn-Remapped-<name> in the integration's answer.
DROPPED_REQUEST_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "content-md5",
        "expect",
        "max-forwards",
        "proxy-authenticate",
        "server",
        "te",
        "transfer-encoding",
        "trailer",
        "upgrade",
        "www-authenticate",
    }
)
REMAPPED_PROXY_RESPONSE_HEADERS = frozenset({"connection", "content-length", "date", "server"})
REMAPPED_RESPONSE_HEADERS = REMAPPED_PROXY_RESPONSE_HEADERS | {
    "authorization",
    "content-md5",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "trailer",
    "upgrade",
    "user-agent",
    "www-authenticate",
}
# Set by API Gateway in an AWS_PROXY event (the same recording); values as LocalStack's pipeline sets them.
_PROXY_GATEWAY_HEADERS = frozenset({"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})

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

    @property
    def trace_id(self) -> str:
        """An X-Ray trace header for this request, derived from its id (X-Ray's Root=1-<epoch hex>-<24 hex>)."""
        epoch = f"{self.request_time_epoch_ms // 1000:08x}"
        return f"Root=1-{epoch}-{self.request_id.replace('-', '')[:24]};Parent={self.request_id[-16:]};Sampled=0"


class Engine(Protocol):
    """A REST API integration pipeline: ours (RestApiIntegration), or the tests' pair of engines."""

    @property
    def answers_preflight(self) -> bool: ...

    def handle(
        self,
        request: MethodRequest,
        context: IntegrationContext | None = None,
        authorizer: dict[str, Any] | None = None,
    ) -> MethodResponse: ...


EngineFactory = Callable[[LambdaInvoker], Engine]


class _ConfigurationError(Exception):
    """What AWS answers with its 500 "Internal server error": a conversion or template the API cannot apply."""


def is_binary_media_type(media_type: str | None, binary_media_types: Sequence[str]) -> bool:
    """Whether a MIME type is one of the API's binary media types; `*/*` "includes all content types"."""
    if not media_type:
        return False
    kind, _, subtype = _media_type(media_type).partition("/")
    for pattern in binary_media_types:
        pattern_kind, _, pattern_subtype = _media_type(pattern).partition("/")
        if pattern_kind == "*" and pattern_subtype == "*":
            return True
        if pattern_kind == kind and pattern_subtype in ("*", subtype):
            return True
    return False


def convert_payload(payload: bytes, binary: bool, content_handling: str | None, binary_when_unset: bool) -> str | bytes:
    """The documented conversion tables: text (str) or binary (bytes) after `contentHandling`.

    `binary`: the payload's type is a binary media type. Without contentHandling a request payload keeps its kind
    and a response payload takes the kind of the client's first Accept type: `binary_when_unset` says which.
    """
    to_binary = content_handling == "CONVERT_TO_BINARY" or (content_handling is None and binary_when_unset)
    if binary:
        return payload if to_binary else base64.b64encode(payload).decode("ascii")
    if to_binary:
        try:
            return base64.b64decode(payload, validate=True)
        except binascii.Error:
            raise _ConfigurationError("a text payload that is not base64 cannot be converted to binary") from None
    return payload.decode("utf-8", "replace")


class RestApiIntegration:
    def __init__(
        self,
        api: ProxyIntegration,
        invoke: LambdaInvoker,
        stage: str,
        api_id: str = "local",
        responses: GatewayResponses | None = None,
        *,
        context_path_prefix: str | None = None,
    ) -> None:
        """`responses`: the refusals API Gateway makes itself; by default template.yaml's gateway responses.

        `context_path_prefix`: what $context.path has before the path: "/<stage>" on the execute-api endpoint
        (the default), "" on a custom domain whose API mapping has an empty base path.
        """
        self._api = api
        self._invoke = invoke
        self._stage = stage
        self._context_path_prefix = f"/{stage}" if context_path_prefix is None else context_path_prefix
        self._api_id = api_id
        self._responses = responses or GatewayResponses(load_gateway_settings().gateway_responses, stage)

    @property
    def answers_preflight(self) -> bool:
        """An OPTIONS method of its own (the CORS mock) answers preflights without authorization."""
        return self._api.preflight is not None

    def handle(
        self,
        request: MethodRequest,
        context: IntegrationContext | None = None,
        authorizer: dict[str, Any] | None = None,
    ) -> MethodResponse:
        context = context or IntegrationContext.fresh()
        request = replace(
            request,
            headers=[(name, value) for name, value in request.headers if name.lower() not in DROPPED_REQUEST_HEADERS],
        )
        try:
            if request.method == "OPTIONS" and self._api.preflight is not None:
                return _as_method_response(self._mock(self._api.preflight, request, context), REMAPPED_RESPONSE_HEADERS)
            if self._api.type == AWS_PROXY:
                answer = self._lambda_stream if self._api.response_transfer_mode == STREAM else self._lambda_proxy
                return _as_method_response(answer(request, context, authorizer), REMAPPED_PROXY_RESPONSE_HEADERS)
            return _as_method_response(self._mapping_templates(request, context, authorizer), REMAPPED_RESPONSE_HEADERS)
        except _ConfigurationError:
            return self._refuse("DEFAULT_5XX", request, context)

    def render_event(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None = None
    ) -> str | MethodResponse:
        """The Lambda event text the request template produces, or the gateway's own refusal.

        `authorizer` is what API Gateway exposes as $context.authorizer: principalId plus the authorizer's context.
        """
        content_type = _media_type(_last(request.headers, "content-type") or DEFAULT_CONTENT_TYPE)
        template = self._api.request_templates.get(content_type)
        if template is None:
            return self._refuse("UNSUPPORTED_MEDIA_TYPE", request, context)
        resource, path_parameters = _match_resource(request.path)
        binary = self._is_binary(content_type)
        body = convert_payload(request.body, binary, self._api.request_content_handling, binary_when_unset=binary)
        if isinstance(body, bytes):
            raise _ConfigurationError("a mapping template cannot read a binary payload")
        template_input = Input(
            body=body or EMPTY_TEMPLATE_BODY,
            path_parameters=path_parameters,
            query_parameters=dict(request.query),  # a repeated key keeps its last value, as on AWS
            # which value of a repeated header: not documented; the first, as LocalStack's pipeline has it
            header_parameters=_first_values(request.headers),
        )
        variables = self._context(request, resource, context) | {"authorizer": authorizer or {}}
        return render(template, template_input, variables, {}).output

    def _mapping_templates(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> MethodResponse:
        event_text = self.render_event(request, context, authorizer)
        if isinstance(event_text, MethodResponse):
            return event_text
        try:
            event = json.loads(event_text)
        except json.JSONDecodeError:
            return self._refuse("DEFAULT_5XX", request, context)
        try:
            if len(event_text.encode("utf-8")) > LAMBDA_PAYLOAD_LIMIT_BYTES:
                payload, error_message = _LAMBDA_REFUSED_PAYLOAD, None
            else:
                payload, error_message = self._invoke_lambda(event), None
        except FunctionError as error:
            payload = json.dumps({"errorMessage": str(error), "errorType": "FunctionError"})
            error_message = str(error)
        selected = _select(self._api.responses, error_message)
        return self._integration_response(selected, payload.encode("utf-8"), LAMBDA_RESULT_TYPE, request, context)

    def _mock(self, mock: MockIntegration, request: MethodRequest, context: IntegrationContext) -> MethodResponse:
        resource, _ = _match_resource(request.path)
        rendered = render(
            mock.request_template, Input(body=EMPTY_TEMPLATE_BODY), self._context(request, resource, context), {}
        )
        status = str(json.loads(rendered.output)["statusCode"])
        selected = _select(mock.responses, status)
        return self._integration_response(selected, b"", LAMBDA_RESULT_TYPE, request, context)

    def _integration_response(
        self,
        selected: IntegrationResponse,
        payload: bytes,
        payload_type: str,
        request: MethodRequest,
        context: IntegrationContext,
    ) -> MethodResponse:
        """contentHandling first, then the template: the template reads what the conversion produced."""
        converted = convert_payload(
            payload,
            self._is_binary(payload_type),
            selected.content_handling,
            binary_when_unset=self._is_binary(_first_accept(request.headers)),
        )
        headers = list(selected.static_headers)
        if selected.template is None:
            body = converted if isinstance(converted, bytes) else converted.encode("utf-8")
            return MethodResponse(selected.status, headers, body, context.request_id)
        if isinstance(converted, bytes):
            raise _ConfigurationError("a response template cannot read a binary payload")
        resource, _ = _match_resource(request.path)
        rendered = render(selected.template, Input(body=converted), self._context(request, resource, context), {})
        headers += list(rendered.header_overrides.items())
        status = rendered.status_override or selected.status
        return MethodResponse(status, headers, rendered.output.encode("utf-8"), context.request_id)

    def _lambda_proxy(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> MethodResponse:
        event = self._proxy_event(request, context, authorizer)
        if len(json.dumps(event).encode("utf-8")) > LAMBDA_PAYLOAD_LIMIT_BYTES:
            return self._refuse("INTEGRATION_FAILURE", request, context)  # Lambda refused the invoke
        try:
            result = json.loads(self._invoke_lambda(event))
        except FunctionError:
            return self._refuse("INTEGRATION_FAILURE", request, context)
        if not isinstance(result, dict) or not result.keys() <= _PROXY_RESPONSE_KEYS:
            return self._refuse("INTEGRATION_FAILURE", request, context)  # a malformed proxy answer
        headers = _merged_proxy_headers(result.get("headers") or {}, result.get("multiValueHeaders") or {})
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.insert(0, ("Content-Type", LAMBDA_RESULT_TYPE))
        body = result.get("body") or ""
        if result.get("isBase64Encoded") and self._is_binary(_first_accept(request.headers)):
            try:
                content = base64.b64decode(body, validate=True)
            except binascii.Error:
                return self._refuse("DEFAULT_5XX", request, context)
        else:
            content = body.encode("utf-8")
        return MethodResponse(int(result.get("statusCode") or 200), headers, content, context.request_id)

    def _lambda_stream(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> MethodResponse:
        """The status and headers once the function's metadata prelude has arrived; the body streams after it."""
        deadline = time.monotonic() + self._api.timeout_ms / 1000
        event = self._proxy_event(request, context, authorizer)
        if len(json.dumps(event).encode("utf-8")) > LAMBDA_PAYLOAD_LIMIT_BYTES:
            return self._refuse("INTEGRATION_FAILURE", request, context)  # Lambda refused the invoke
        stream: FunctionStream = self._invoke(event)
        try:
            prelude, body = read_stream(stream, deadline)
        except TimeoutError:
            stream.close()
            return self._refuse("INTEGRATION_TIMEOUT", request, context)
        except Exception:  # the function failed before its prelude, or sent none: as a failed AWS_PROXY invoke
            stream.close()
            return self._refuse("INTEGRATION_FAILURE", request, context)
        headers = _merged_proxy_headers(prelude.get("headers") or {}, prelude.get("multiValueHeaders") or {})
        headers += [("Set-Cookie", str(cookie)) for cookie in prelude.get("cookies") or []]
        return MethodResponse(int(prelude.get("statusCode") or 200), headers, b"", context.request_id, stream=body)

    def _proxy_event(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The REST proxy (payload 1.0) event: single-value maps hold the last value of a repeated name."""
        resource, path_parameters = _match_resource(request.path)
        content_type = _last(request.headers, "content-type") or DEFAULT_CONTENT_TYPE
        binary = self._is_binary(content_type)
        request_context = self._context(request, resource, context) | {"authorizer": authorizer or None}
        forwarded_port = _last(request.headers, "x-forwarded-port") or "443"
        headers = [
            *[(name, value) for name, value in request.headers if name.lower() not in _PROXY_GATEWAY_HEADERS],
            ("X-Amzn-Trace-Id", context.trace_id),
            ("X-Forwarded-For", request.source_ip),
            ("X-Forwarded-Port", forwarded_port),
            ("X-Forwarded-Proto", "https"),  # "API Gateway ... expose[s] HTTPS endpoints only"
        ]
        return {
            "resource": resource,
            "path": request.path,
            "httpMethod": request.method,
            "headers": dict(headers),
            "multiValueHeaders": _grouped(headers),
            "queryStringParameters": dict(request.query) or None,
            "multiValueQueryStringParameters": _grouped(request.query) or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": (
                base64.b64encode(request.body).decode("ascii") if binary else request.body.decode("utf-8", "replace")
            )
            if request.body
            else None,
            "isBase64Encoded": binary and bool(request.body),
        }

    def _refuse(self, response_type: str, request: MethodRequest, context: IntegrationContext) -> MethodResponse:
        return self._responses.refuse(response_type, context.request_id, request.headers)

    def _invoke_lambda(self, event: dict[str, Any]) -> str:
        """The function's answer as the Lambda service returns it: JSON text within the response limit."""
        output = json.dumps(self._invoke(event))
        if len(output.encode("utf-8")) > LAMBDA_RESPONSE_LIMIT_BYTES:
            raise FunctionError("Response payload size exceeded maximum allowed payload size")
        return output

    def _is_binary(self, media_type: str | None) -> bool:
        return is_binary_media_type(media_type, self._api.binary_media_types)

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
            "path": f"{self._context_path_prefix}{request.path}",
            "stage": self._stage,
            "apiId": self._api_id,
            "accountId": "123456789012",
            "domainName": _last(request.headers, "host") or "localhost",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": request.source_ip, "userAgent": _last(request.headers, "user-agent")},
        }


def _as_method_response(response: MethodResponse, remapped: frozenset[str]) -> MethodResponse:
    """An integration's answer as the client gets it: headers API Gateway owns renamed, Transfer-Encoding dropped,
    and a Content-Type (application/json) when none was set. A gateway refusal passes unchanged (it has its
    Content-Type and none of those headers)."""
    headers = [
        (f"x-amzn-Remapped-{name}" if name.lower() in remapped else name, value)
        for name, value in response.headers
        if name.lower() != "transfer-encoding"
    ]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.insert(0, ("Content-Type", LAMBDA_RESULT_TYPE))
    return replace(response, headers=headers)


def _select(responses: Sequence[IntegrationResponse], selection_value: str | None) -> IntegrationResponse:
    """A Lambda error's message (or a mock's status) picks the response whose pattern matches it; else default."""
    if selection_value is not None:
        for response in responses:
            if response.selection_pattern is not None and re.fullmatch(response.selection_pattern, selection_value):
                return response
    defaults = [response for response in responses if response.selection_pattern is None]
    if not defaults:
        raise _ConfigurationError("no integration response matches and there is no default")
    return defaults[0]


def _merged_proxy_headers(headers: dict[str, Any], multi_value_headers: dict[str, list[Any]]) -> list[tuple[str, str]]:
    """ "If you specify values for both headers and multiValueHeaders, API Gateway merges them into a single list.
    If the same key-value pair is specified in both, only the values from multiValueHeaders will appear.\""""
    merged = [(name, str(value)) for name, values in multi_value_headers.items() for value in values]
    return merged + [(name, str(value)) for name, value in headers.items() if (name, str(value)) not in merged]


def _match_resource(path: str) -> tuple[str, dict[str, str]]:
    if path == "/":
        return "/", {}
    return "/{proxy+}", {"proxy": path[1:]}


def _media_type(content_type: str) -> str:
    """ "Only the MIME type is used from the Accept and Content-Type headers when selecting a mapping template"."""
    return content_type.split(";", 1)[0].strip().lower()


def _first_accept(headers: list[tuple[str, str]]) -> str | None:
    """ "API Gateway only honors the first Accept media type"."""
    accept = _last(headers, "accept")
    return accept.split(",", 1)[0] if accept else None


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    first: dict[str, str] = {}
    for name, value in pairs:
        first.setdefault(name, value)
    return first


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _last(headers: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in headers if key.lower() == name]
    return values[-1] if values else None
