"""One request through the REST API's Lambda integration, as API Gateway runs it.

Mapping templates (type AWS): method request -> request template (chosen by the Content-Type's MIME type, the
body converted per binaryMediaTypes/contentHandling) -> Lambda -> the integration response's contentHandling
applied to the Lambda's JSON answer -> response template (responseOverride) -> method response.
Lambda proxy (AWS_PROXY): method request -> REST proxy event -> Lambda -> its statusCode, headers and body, the
body decoded from base64 when the client's first Accept type is a binary media type. With responseTransferMode
STREAM the same event goes to a streaming function, and its answer to the client as it comes (streaming.py).

The types are in model.py, payload conversion in payloads.py, the header sets in headers.py. The AWS source of each
step is in docs/api-gateway-assumptions.md (or, where none exists yet, it says "not yet verified").
"""

import base64
import binascii
import json
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from local_gateway.gateway_responses import GatewayResponses
from local_gateway.headers import (
    DROPPED_REQUEST_HEADERS,
    PROXY_GATEWAY_HEADERS,
    REMAPPED_PROXY_RESPONSE_HEADERS,
    REMAPPED_RESPONSE_HEADERS,
    first_accept,
    first_values,
    grouped,
    has_header,
    last_value,
    merged_proxy_headers,
    remapped,
)
from local_gateway.model import (
    ACCOUNT_ID,
    API_ID,
    LAMBDA_REQUEST_LIMIT_BYTES,
    LAMBDA_REQUEST_TOO_LARGE,
    LAMBDA_RESPONSE_LIMIT_BYTES,
    LAMBDA_RESPONSE_TOO_LARGE,
    RESOURCE_ID,
    Engine,
    FunctionError,
    IntegrationContext,
    LambdaInvoker,
    MethodRequest,
    MethodResponse,
    lambda_refusal,
)
from local_gateway.payloads import (
    DEFAULT_CONTENT_TYPE,
    LAMBDA_RESULT_TYPE,
    ConfigurationError,
    convert_payload,
    is_binary_media_type,
    mime_type,
)
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

# `$input.body` of an empty payload (validated against AWS by LocalStack's test_input_body_formatting).
EMPTY_TEMPLATE_BODY = "{}"
_PROXY_RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


class RestApiIntegration(Engine):
    def __init__(
        self,
        api: ProxyIntegration,
        invoke: LambdaInvoker,
        stage: str,
        api_id: str = API_ID,
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

    def answer(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> MethodResponse:
        request = replace(
            request,
            headers=[(name, value) for name, value in request.headers if name.lower() not in DROPPED_REQUEST_HEADERS],
        )
        try:
            if request.method == "OPTIONS" and self._api.preflight is not None:
                return _as_method_response(self._mock(self._api.preflight, request, context), REMAPPED_RESPONSE_HEADERS)
            if self._api.type == AWS_PROXY:
                proxy = self._lambda_stream if self._api.response_transfer_mode == STREAM else self._lambda_proxy
                return _as_method_response(proxy(request, context, authorizer), REMAPPED_PROXY_RESPONSE_HEADERS)
            return _as_method_response(self._mapping_templates(request, context, authorizer), REMAPPED_RESPONSE_HEADERS)
        except ConfigurationError:
            return self._refuse("DEFAULT_5XX", request, context)

    def render_event(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None = None
    ) -> str | MethodResponse:
        """The Lambda event text the request template produces, or the gateway's own refusal.

        `authorizer` is what API Gateway exposes as $context.authorizer: principalId plus the authorizer's context.
        """
        content_type = mime_type(last_value(request.headers, "content-type") or DEFAULT_CONTENT_TYPE)
        template = self._api.request_templates.get(content_type)
        if template is None:
            return self._refuse("UNSUPPORTED_MEDIA_TYPE", request, context)
        resource, path_parameters = _match_resource(request.path)
        binary = self._is_binary(content_type)
        body = convert_payload(request.body, binary, self._api.request_content_handling, binary_when_unset=binary)
        if isinstance(body, bytes):
            raise ConfigurationError("a mapping template cannot read a binary payload")
        template_input = Input(
            body=body or EMPTY_TEMPLATE_BODY,
            path_parameters=path_parameters,
            query_parameters=dict(request.query),  # a repeated key keeps its last value, as on AWS
            # which value of a repeated header: not documented; the first, as LocalStack's pipeline has it
            header_parameters=first_values(request.headers),
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
            if len(event_text.encode("utf-8")) > LAMBDA_REQUEST_LIMIT_BYTES:
                # Lambda's refusal reaches the integration like any answer, not as a function error (LocalStack's
                # model; which status AWS ends with is not yet verified).
                payload, error_message = lambda_refusal(LAMBDA_REQUEST_TOO_LARGE), None
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
            binary_when_unset=self._is_binary(first_accept(request.headers)),
        )
        headers = list(selected.static_headers)
        if selected.template is None:
            body = converted if isinstance(converted, bytes) else converted.encode("utf-8")
            return MethodResponse(selected.status, headers, body, context.request_id)
        if isinstance(converted, bytes):
            raise ConfigurationError("a response template cannot read a binary payload")
        resource, _ = _match_resource(request.path)
        rendered = render(selected.template, Input(body=converted), self._context(request, resource, context), {})
        headers += list(rendered.header_overrides.items())
        status = rendered.status_override or selected.status
        return MethodResponse(status, headers, rendered.output.encode("utf-8"), context.request_id)

    def _lambda_proxy(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> MethodResponse:
        event = self._proxy_event(request, context, authorizer)
        if len(json.dumps(event).encode("utf-8")) > LAMBDA_REQUEST_LIMIT_BYTES:
            return self._refuse("INTEGRATION_FAILURE", request, context)  # Lambda refused the invoke
        try:
            result = json.loads(self._invoke_lambda(event))
        except FunctionError:
            return self._refuse("INTEGRATION_FAILURE", request, context)
        if not isinstance(result, dict) or not result.keys() <= _PROXY_RESPONSE_KEYS:
            return self._refuse("INTEGRATION_FAILURE", request, context)  # a malformed proxy answer
        headers = merged_proxy_headers(result.get("headers") or {}, result.get("multiValueHeaders") or {})
        if not has_header(headers, "content-type"):
            headers.insert(0, ("Content-Type", LAMBDA_RESULT_TYPE))
        body = result.get("body") or ""
        if result.get("isBase64Encoded") and self._is_binary(first_accept(request.headers)):
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
        if len(json.dumps(event).encode("utf-8")) > LAMBDA_REQUEST_LIMIT_BYTES:
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
        headers = merged_proxy_headers(prelude.get("headers") or {}, prelude.get("multiValueHeaders") or {})
        headers += [("Set-Cookie", str(cookie)) for cookie in prelude.get("cookies") or []]
        return MethodResponse(int(prelude.get("statusCode") or 200), headers, b"", context.request_id, stream=body)

    def _proxy_event(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The REST proxy (payload 1.0) event: single-value maps hold the last value of a repeated name."""
        resource, path_parameters = _match_resource(request.path)
        content_type = last_value(request.headers, "content-type") or DEFAULT_CONTENT_TYPE
        binary = self._is_binary(content_type)
        request_context = self._context(request, resource, context) | {"authorizer": authorizer or None}
        forwarded_port = last_value(request.headers, "x-forwarded-port") or "443"
        headers = [
            *[(name, value) for name, value in request.headers if name.lower() not in PROXY_GATEWAY_HEADERS],
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
            "multiValueHeaders": grouped(headers),
            "queryStringParameters": dict(request.query) or None,
            "multiValueQueryStringParameters": grouped(request.query) or None,
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
            raise FunctionError(LAMBDA_RESPONSE_TOO_LARGE)
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
            "resourceId": RESOURCE_ID,
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": f"{self._context_path_prefix}{request.path}",
            "stage": self._stage,
            "apiId": self._api_id,
            "accountId": ACCOUNT_ID,
            "domainName": last_value(request.headers, "host") or "localhost",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": request.source_ip, "userAgent": last_value(request.headers, "user-agent")},
        }


def _as_method_response(response: MethodResponse, remapped_names: frozenset[str]) -> MethodResponse:
    """An integration's answer as the client gets it (headers.remapped), with a Content-Type (application/json)
    when none was set. A gateway refusal passes unchanged (it has its Content-Type and none of those headers)."""
    headers = remapped(response.headers, remapped_names)
    if not has_header(headers, "content-type"):
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
        raise ConfigurationError("no integration response matches and there is no default")
    return defaults[0]


def _match_resource(path: str) -> tuple[str, dict[str, str]]:
    if path == "/":
        return "/", {}
    return "/{proxy+}", {"proxy": path[1:]}
