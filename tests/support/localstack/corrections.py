"""Every place where LocalStack 2026.3.0's REST API pipeline contradicts AWS's documentation, corrected in one place.

Each correction quotes the sentence of AWS's documentation it follows. Where LocalStack has AWS-validated
behaviour (its tests/aws/services/apigateway/*.snapshot.json), it is kept, even when the documentation is vague.

The run-time corrections are installed once, when this module is imported, as thin wrappers around LocalStack's
own functions; each wrapper runs LocalStack's original unless its correction is in the set made `active()` (a
ContextVar, so another thread running LocalStack as shipped is unaffected). The adapter activates the set its
deployment was built with; tests leave one correction out to show what LocalStack does without it. The two
import-time corrections are applied by `complete_import` when the adapter builds the deployment.
"""

import contextlib
import functools
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from tests.support.localstack.runtime import (
    LOCALSTACK_AIRSPEED,
    RestApiContainer,
    aws,
    gateway_exception,
    gateway_responses,
    helpers,
    integration_request,
    integration_response,
    parse,
    template_mapping,
)


@dataclass(frozen=True)
class Correction:
    name: str
    source: str
    quote: str


_ACTIVE: ContextVar[frozenset[Correction]] = ContextVar("localstack_corrections_active", default=frozenset())


@contextlib.contextmanager
def active(corrections: Collection[Correction]) -> Iterator[None]:
    """Runs the block with these corrections on and every other one off (LocalStack as shipped there)."""
    token = _ACTIVE.set(frozenset(corrections))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def _documented(name: str, source: str, quote: str) -> Correction:
    correction = Correction(name, source, quote)
    CORRECTIONS.append(correction)
    return correction


CORRECTIONS: list[Correction] = []

_DEVELOPER_GUIDE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/"


def _corrects(
    correction: Correction, owner: Any, attribute: str, *, static: bool = False
) -> Callable[[Callable[..., Any]], None]:
    """Replaces owner.attribute by the decorated function (given LocalStack's original first) while the correction
    is active."""

    def install(corrected: Callable[..., Any]) -> None:
        original = getattr(owner, attribute)

        @functools.wraps(original)
        def switch(*args: Any, **kwargs: Any) -> Any:
            if correction in _ACTIVE.get():
                return corrected(original, *args, **kwargs)
            return original(*args, **kwargs)

        setattr(owner, attribute, staticmethod(switch) if static else switch)

    return install


# --- 1. binaryMediaTypes "*/*" ----------------------------------------------------------------------------------------

BINARY_WILDCARD = _documented(
    "binaryMediaTypes */* matches every media type",
    _DEVELOPER_GUIDE + "api-gateway-payload-encodings.html",
    "You can use the wildcard character (*) to cover multiple media types. For example, */* includes all "
    "content types.",
)
# LocalStack skips every entry whose type is "*". For "*/test" that is AWS-validated (test_apigateway_lambda.py::
# test_aws_proxy_binary_response: "wildcard on the left is not supported"), so only "*/*" itself is corrected.


def _matches_binary_media_types(
    original: Callable[..., bool], mime_type: str | None, binary_media_types: list[str]
) -> bool:
    if original(mime_type, binary_media_types):
        return True
    if not mime_type or "*/*" not in (entry.split(";")[0].strip() for entry in binary_media_types):
        return False
    # Same parsing as LocalStack's: the first media type of a list, without parameters, must be "type/subtype".
    return len(mime_type.split(",")[0].split(";")[0].split("/")) == 2


# The handlers import the function by name, so each module's binding is replaced.
for _module in (helpers, integration_request, integration_response, aws):
    _corrects(BINARY_WILDCARD, _module, "mime_type_matches_binary_media_types")(_matches_binary_media_types)


# --- 2. the payload as the client sent it -----------------------------------------------------------------------------

RAW_PAYLOAD = _documented(
    "the method request payload reaches the integration as sent (only contentHandling changes its encoding)",
    _DEVELOPER_GUIDE + "api-gateway-payload-encodings-workflow.html",
    "The following table shows how API Gateway converts the request payload for specific configurations of a "
    "request's Content-Type header, the binaryMediaTypes list of a RestApi resource, and the contentHandling "
    "property value of the Integration resource. [Its rows: Text data, any data type, no binaryMediaTypes, no "
    "contentHandling: UTF8-encoded string; Binary data, binary data type, CONVERT_TO_TEXT: Base64-encoded string.]",
)
# LocalStack's parser takes the body from rolo.request.restore_payload, which rebuilds it from werkzeug's form
# parsing: a form body of a DELETE is lost, a POST form is re-encoded ("%7E" becomes "~", "c" becomes "c="), and a
# multipart body gains a leading CRLF.


@_corrects(RAW_PAYLOAD, parse, "restore_payload")
def _raw_payload(original: Callable[..., bytes], request: Any) -> bytes:
    # The parser is the first handler, so nothing has parsed the form and the stream still holds the bytes sent.
    raw: bytes = request.get_data(cache=True, parse_form_data=False)
    return raw


# --- 3. request template selection by MIME type -----------------------------------------------------------------------

TEMPLATE_BY_MIME_TYPE = _documented(
    "request templates are selected by the MIME type alone",
    _DEVELOPER_GUIDE + "request-response-data-mappings.html",
    "Only the MIME type is used from the Accept and Content-Type headers when selecting a mapping template. For "
    'example, a header of "Content-Type: application/json; charset=UTF-8" will have a request template with the '
    "application/json key selected.",
)


@_corrects(TEMPLATE_BY_MIME_TYPE, integration_request.IntegrationRequestHandler, "get_request_template", static=True)
def _request_template_by_mime_type(original: Callable[..., str], integration: Any, request: Any) -> str:
    content_type = request["headers"].get("Content-Type")
    if content_type is None:
        return original(integration=integration, request=request)
    headers = request["headers"].copy()
    headers.set("Content-Type", content_type.split(";", 1)[0].strip())
    return original(integration=integration, request={**request, "headers": headers})


# --- 4. $input.params().header is a map -------------------------------------------------------------------------------

PARAMS_ARE_MAPS = _documented(
    "$input.params().header is a map whose keySet() lists the headers",
    _DEVELOPER_GUIDE + "api-gateway-mapping-template-reference.html",
    "$input.params() Returns a map of all the request parameters. [Its own example iterates "
    "#foreach($paramName in $params.keySet()) over each of path, querystring and header.]",
)


class HeaderMap(dict[str, str]):
    """A header map for VTL: Map methods through airspeed, case-insensitive get() as werkzeug's Headers had.

    One value per name, the one werkzeug's Headers.get() gave LocalStack's templates (the first): the correction
    makes keySet() work and changes no value.
    """

    def __init__(self, headers: Any) -> None:
        super().__init__()
        seen: set[str] = set()
        for name, value in headers.items():
            if name.lower() not in seen:
                seen.add(name.lower())
                self[name] = value

    def get(self, name: str, default: Any = None) -> Any:
        wanted = name.lower()
        return next((value for key, value in self.items() if key.lower() == wanted), default)


def _params_as_maps(original: Callable[..., Any], self: Any, template: str, variables: Any, **kwargs: Any) -> Any:
    params = variables.get("input", {}).get("params")
    if params and params.get("header") is not None and not isinstance(params["header"], dict):
        variables = {**variables, "input": {**variables["input"], "params": {**params}}}
        variables["input"]["params"]["header"] = HeaderMap(params["header"])
    return original(self, template=template, variables=variables, **kwargs)


# airspeed finds methods by exact class; LocalStack registers its own dict subclasses (VTLMap) the same way.
_MAP_METHODS = LOCALSTACK_AIRSPEED.operators.__additional_methods__
_MAP_METHODS[HeaderMap] = _MAP_METHODS[dict]

for _render in ("render_request", "render_response"):
    _corrects(PARAMS_ARE_MAPS, template_mapping.ApiGatewayVtlTemplate, _render)(_params_as_maps)


# --- 5. a method call on a map is a method call, whatever the map's keys ----------------------------------------------

MAP_METHOD_CALLS = _documented(
    "$map.get(...) and $map.keySet() call the map's methods even when a key has that name",
    _DEVELOPER_GUIDE + "api-gateway-mapping-template-reference.html",
    "The following parameter-mapping example passes all parameters, including path, querystring, and header, "
    "through to the integration endpoint via a JSON payload: [...] #foreach($paramName in $params.keySet()) "
    '"$paramName" : "$util.escapeJavaScript($params.get($paramName))"',
)
# airspeed looks a name up as a key before trying a method, so a query parameter or header named "get" (or
# "keySet") turns $params.get($name) into a call of that parameter's string value, and LocalStack answers 500.
_NAME_OR_CALL = LOCALSTACK_AIRSPEED.operators.NameOrCall


# The rest of java.util.Map that templates call (the page's own examples use keySet(), get(), isEmpty()).
_JAVA_MAP_METHODS: dict[str, Callable[..., Any]] = {
    "isEmpty": lambda self: len(self) == 0,
    "size": len,
    "containsKey": lambda self, key: key in self,
    "values": lambda self: list(self.values()),
}


@_corrects(MAP_METHOD_CALLS, _NAME_OR_CALL, "calculate")
def _map_methods_first(
    original: Callable[..., Any], self: Any, current_object: Any, loader: Any, top_namespace: Any
) -> Any:
    if self.parameters is not None and isinstance(current_object, dict):
        registered = {**_JAVA_MAP_METHODS, **_MAP_METHODS.get(type(current_object), {})}
        if self.name in registered:
            method = functools.partial(registered[self.name], current_object)
        elif callable(getattr(type(current_object), self.name, None)):
            method = getattr(current_object, self.name)
        else:
            return original(self, current_object, loader, top_namespace)
        return method(*self.parameters.calculate(top_namespace, loader))
    return original(self, current_object, loader, top_namespace)


# --- 6. the response template sees CONVERT_TO_TEXT output as text -----------------------------------------------------

BASE64_TEXT_FOR_TEMPLATES = _documented(
    "a binary payload converted to text reaches the response template as its base64 string",
    _DEVELOPER_GUIDE + "api-gateway-payload-encodings-workflow.html",
    "When converting a binary payload to a text string, API Gateway always applies a base64 encoding on the binary "
    "data. You can define a mapping template for such a payload, but can only access the base64-encoded string in "
    "the mapping template through $input.body",
)


@_corrects(BASE64_TEXT_FOR_TEMPLATES, integration_response.IntegrationResponseHandler, "convert_body", static=True)
def _base64_as_text(
    original: Callable[..., bytes | str], context: Any, body: bytes, content_handling: str | None
) -> bytes | str:
    converted = original(context, body=body, content_handling=content_handling)
    # LocalStack's own conditions for its binary -> base64 branch; the other bytes results stay binary.
    binary_media_types = context.deployment.rest_api.rest_api.get("binaryMediaTypes", [])
    matches = integration_response.mime_type_matches_binary_media_types
    binary_payload = matches(context.endpoint_response["headers"].get("Content-Type"), binary_media_types)
    binary_accept = matches(context.invocation_request["headers"].get("Accept"), binary_media_types)
    to_text = content_handling == "CONVERT_TO_TEXT" or (not content_handling and not binary_accept)
    if binary_payload and to_text and isinstance(converted, bytes):
        return converted.decode("ascii")
    return converted


# --- 7. $util.base64Decode and $util.parseJson ------------------------------------------------------------------------

BASE64_DECODE_IS_TEXT = _documented(
    "$util.base64Decode returns a string",
    _DEVELOPER_GUIDE + "api-gateway-mapping-template-reference.html",
    "$util.base64Decode() Decodes the data from a base64-encoded string. [and, above the table:] Unless otherwise "
    "specified, the default character set is UTF-8.",
)


@_corrects(BASE64_DECODE_IS_TEXT, template_mapping.VelocityUtilApiGateway, "base64Decode")
def _base64_decode_to_text(original: Callable[..., bytes], self: Any, value: Any) -> str:
    # Bytes that are not UTF-8 become U+FFFD, as Java's new String(bytes, UTF_8) does (not yet verified on AWS).
    return original(self, value).decode("utf-8", "replace")


PARSE_JSON_IS_A_MAP = _documented(
    "$util.parseJson returns objects that VTL handles natively (Map methods such as keySet())",
    _DEVELOPER_GUIDE + "api-gateway-mapping-template-reference.html",
    '$util.parseJson() Takes "stringified" JSON and returns an object representation of the result. You can use '
    "the result from this function to access and manipulate elements of the payload natively in Apache Velocity "
    "Template Language (VTL).",
)


class JsonMap(template_mapping.AttributeDict):  # type: ignore[misc]
    """LocalStack's AttributeDict (dot access), nested all the way down, and known to airspeed as a Map."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, value in self.items():
            self[key] = _as_json_maps(value)


def _as_json_maps(value: Any) -> Any:
    if isinstance(value, dict) and not isinstance(value, JsonMap):
        return JsonMap(value)
    if isinstance(value, list):
        return [_as_json_maps(item) for item in value]
    return value


# Only JsonMap is registered, so the uncorrected pipeline keeps its AttributeDict behaviour.
_MAP_METHODS[JsonMap] = _MAP_METHODS[dict]


@_corrects(PARSE_JSON_IS_A_MAP, template_mapping.VelocityUtilApiGateway, "parseJson")
def _parse_json_as_maps(original: Callable[..., Any], self: Any, value: str) -> Any:
    return _as_json_maps(original(self, value))


# --- 8. $util.escapeJavaScript ----------------------------------------------------------------------------------------

ESCAPE_JAVASCRIPT = _documented(
    "$util.escapeJavaScript escapes with JavaScript string rules, ' included",
    _DEVELOPER_GUIDE + "api-gateway-mapping-template-reference.html",
    "$util.escapeJavaScript() Escapes the characters in a string using JavaScript string rules. This function will "
    "turn any regular single quotes (') into escaped ones (\\'). However, the escaped single quotes are not valid "
    "in JSON. Thus, when the output from this function is used in a JSON property, you must turn any escaped single "
    "quotes (\\') back to regular single quotes (').",
)
# LocalStack's json.dumps-based version leaves ' alone (its unit test asserts it; no AWS snapshot covers it) and
# turns an empty or blank string into "{}" (no AWS snapshot either). This is Apache commons-lang 2's
# StringEscapeUtils.escapeJavaScript, written here independently of local_gateway/vtl.py so that the cross-check
# also covers our own implementation.
_ASCII_ESCAPES = {
    **{code: f"\\u{code:04X}" for code in range(32)},
    **{ord("\b"): "\\b", ord("\t"): "\\t", ord("\n"): "\\n", ord("\f"): "\\f", ord("\r"): "\\r"},
    **{ord("'"): "\\'", ord('"'): '\\"', ord("\\"): "\\\\", ord("/"): "\\/"},
}
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def commons_lang_escape_javascript(text: str) -> str:
    """Every UTF-16 unit above 0x7f as \\uXXXX (upper-case hex), controls and ' " \\ / escaped."""
    escaped = text.translate(_ASCII_ESCAPES)
    if escaped.isascii():
        return escaped
    return _NON_ASCII.sub(_escape_utf16_units, escaped)


def _escape_utf16_units(match: re.Match[str]) -> str:
    units = match.group().encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04X}" for i in range(0, len(units), 2))


@_corrects(ESCAPE_JAVASCRIPT, template_mapping.VelocityUtilApiGateway, "escapeJavaScript")
def _escape_javascript(original: Callable[..., str], self: Any, value: Any) -> str:
    if isinstance(value, str):
        return commons_lang_escape_javascript(value)
    return original(self, value)  # null, numbers, booleans: LocalStack's behaviour, not documented by AWS


# --- 9. AWS_PROXY answers with both headers and multiValueHeaders -----------------------------------------------------

PROXY_HEADER_MERGE = _documented(
    "an AWS_PROXY answer's headers and multiValueHeaders merge without repeating a pair",
    _DEVELOPER_GUIDE + "set-up-lambda-proxy-integrations.html",
    "If you specify values for both headers and multiValueHeaders, API Gateway merges them into a single list. If "
    "the same key-value pair is specified in both, only the values from multiValueHeaders will appear in the merged "
    "list.",
)
# LocalStack appends the `headers` value to the multiValueHeaders list even when the pair is already there.


@_corrects(PROXY_HEADER_MERGE, aws.RestApiAwsProxyIntegration, "_merge_lambda_response_headers", static=True)
def _merge_proxy_headers(original: Callable[..., dict[str, Any]], lambda_response: Any) -> dict[str, Any]:
    multi_value_headers = lambda_response.get("multiValueHeaders")
    if not multi_value_headers:
        return original(lambda_response)
    merged: dict[str, Any] = {name: list(values) for name, values in multi_value_headers.items()}
    by_lower_name = {name.lower(): name for name in merged}
    for name, value in (lambda_response.get("headers") or {}).items():
        if (existing := by_lower_name.get(name.lower())) is None:
            merged[name] = value
        elif value not in merged[existing]:
            merged[existing].append(value)
    return merged


# --- 10. gateway responses: mapping templates and header mappings -----------------------------------------------------

GATEWAY_RESPONSE_MAPPINGS = _documented(
    "a gateway response applies its header mappings and its (non-VTL) payload template",
    _DEVELOPER_GUIDE + "api-gateway-gatewayResponse-definition.html",
    "Whenever API Gateway returns a response of this type, the header mappings and payload mapping templates "
    "defined in the gateway response are applied to return the mapped results to the API caller. [...] the "
    "customization is rendered in a non-VTL mapping template supporting only simple variable substitutions. [...] "
    "A gateway response mapping template can access $context variable values and $stageVariables property "
    "values, as well as method request parameters",
)
ERROR_MESSAGE_STRING = (
    _DEVELOPER_GUIDE + "api-gateway-mapping-template-reference.html",
    '$context.error.messageString The quoted value of $context.error.message, namely "$context.error.message".',
)
_SUBSTITUTION = re.compile(r"\$\{?(context|stageVariables)((?:\.[A-Za-z0-9_-]+)+)\}?")


@_corrects(GATEWAY_RESPONSE_MAPPINGS, gateway_exception.GatewayExceptionHandler, "create_exception_response")
def _render_gateway_response(original: Callable[..., Any], self: Any, exception: Any, context: Any) -> Any:
    response = original(self, exception, context)
    if response is None:
        return None
    configured = context.deployment.rest_api.gateway_responses
    fallback = "DEFAULT_5XX" if response.status_code >= 500 else "DEFAULT_4XX"
    if not (exception.type in configured or fallback in configured):
        return response  # not customised: LocalStack's default body, as validated against AWS
    gateway_response = gateway_responses.get_gateway_response_or_default(exception.type, configured)
    variables = {
        "context": {**context.context_variables, "error": _error_variables(exception)},
        "stageVariables": context.stage_variables or {},
    }
    if templates := gateway_response.get("responseTemplates"):
        media_type = "application/json" if "application/json" in templates else next(iter(templates))
        response.set_data(_substitute(templates[media_type], variables))
        response.headers["Content-Type"] = media_type
    for target, source in (gateway_response.get("responseParameters") or {}).items():
        if target.startswith("gatewayresponse.header."):
            value = _mapped_value(source, context, variables)
            if value is not None:
                response.headers[target.removeprefix("gatewayresponse.header.")] = value
    return response


def _error_variables(exception: Any) -> dict[str, str]:
    message = exception.message or ""
    return {"message": message, "messageString": f'"{message}"', "responseType": str(exception.type)}


def _substitute(template: str, variables: Mapping[str, Any]) -> str:
    def lookup(match: re.Match[str]) -> str:
        value: Any = variables[match.group(1)]
        for step in match.group(2).strip(".").split("."):
            value = value.get(step) if isinstance(value, Mapping) else None
        return "" if value is None else str(value)  # an unknown variable renders empty (not yet verified)

    return _SUBSTITUTION.sub(lookup, template)


def _mapped_value(source: str, context: Any, variables: Mapping[str, Any]) -> str | None:
    """A responseParameters source: 'literal', method.request.{header,path,querystring}.name, context.* or
    stageVariables.*."""
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    request = context.invocation_request
    location, _, name = source.removeprefix("method.request.").partition(".")
    if source.startswith("method.request."):
        found = {
            "header": request["headers"].get(name),
            "path": (request.get("path_parameters") or {}).get(name),
            "querystring": request["query_string_parameters"].get(name),
        }.get(location)
        return None if found is None else str(found)
    if source.startswith(("context.", "stageVariables.")):
        return _substitute("$" + source, variables)
    return None


# --- 11. what the OpenAPI importer drops ------------------------------------------------------------------------------

IMPORT_CONTENT_HANDLING = _documented(
    "the importer keeps each integration response's contentHandling",
    _DEVELOPER_GUIDE + "api-gateway-swagger-extensions-integration-response.html",
    "contentHandling | string | Response payload encoding conversion types. Valid values are 1) CONVERT_TO_TEXT, "
    "for converting a binary payload into a base64-encoded string or converting a text payload into a "
    "utf-8-encoded string or passing through the text payload natively without modification, and 2) "
    "CONVERT_TO_BINARY, for converting a text payload into a base64-decoded blob or passing through a binary "
    "payload natively without modification.",
)
IMPORT_GATEWAY_RESPONSES = _documented(
    "the importer keeps x-amazon-apigateway-gateway-responses",
    _DEVELOPER_GUIDE + "api-gateway-swagger-extensions-gateway-responses.html",
    "x-amazon-apigateway-gateway-responses object: Defines the gateway responses for an API as a "
    "string-to-GatewayResponse map of key-value pairs. The extension applies to the root-level OpenAPI structure.",
)
_INTEGRATION = "x-amazon-apigateway-integration"
_ANY_METHOD = "x-amazon-apigateway-any-method"


def complete_import(
    moto_rest_api: Any, container: RestApiContainer, spec: Mapping[str, Any], corrections: Collection[Correction]
) -> None:
    """Adds to an imported API what localstack.services.apigateway.helpers.import_api_from_openapi_spec drops."""
    if IMPORT_CONTENT_HANDLING in corrections:
        _import_content_handling(moto_rest_api, spec)
    if IMPORT_GATEWAY_RESPONSES in corrections:
        _import_gateway_responses(container, spec)


def _import_content_handling(moto_rest_api: Any, spec: Mapping[str, Any]) -> None:
    resources_by_path = {resource.get_path(): resource for resource in moto_rest_api.resources.values()}
    for path, operations in spec.get("paths", {}).items():
        for field, operation in operations.items():
            if not isinstance(operation, dict) or _INTEGRATION not in operation:
                continue
            method = "ANY" if field == _ANY_METHOD else field.upper()
            integration = resources_by_path[path].resource_methods[method].method_integration
            for response in operation[_INTEGRATION].get("responses", {}).values():
                status = str(response.get("statusCode", 200))
                integration.integration_responses[status].content_handling = response.get("contentHandling")


def _import_gateway_responses(container: RestApiContainer, spec: Mapping[str, Any]) -> None:
    for response_type, response in spec.get("x-amazon-apigateway-gateway-responses", {}).items():
        container.gateway_responses[response_type] = {
            "responseType": response_type,
            "statusCode": response.get("statusCode"),
            "responseParameters": response.get("responseParameters") or {},
            "responseTemplates": response.get("responseTemplates") or {},
            "defaultResponse": False,
        }


# --- 14. a request without Content-Type is application/json -----------------------------------------------------------

NO_CONTENT_TYPE_IS_JSON = _documented(
    "a request without Content-Type is taken as application/json, for binaryMediaTypes as for template choice",
    _DEVELOPER_GUIDE + "integration-passthrough-behaviors.html",
    "[Content-type:] None. API Gateway defaults to application/json. [That the default also decides the body's "
    "conversion is our reading, not yet verified on AWS: docs/api-gateway-assumptions.md, A04.]",
)
_DEFAULT_CONTENT_TYPE = "application/json"


@_corrects(NO_CONTENT_TYPE_IS_JSON, integration_request.IntegrationRequestHandler, "convert_body", static=True)
def _convert_as_json_without_content_type(original: Callable[..., Any], context: Any) -> Any:
    headers = context.invocation_request["headers"]
    if headers.get("Content-Type") is not None:
        return original(context)
    # LocalStack reads the type from the headers it also hands the templates: give it the default for this call only.
    headers["Content-Type"] = _DEFAULT_CONTENT_TYPE
    try:
        return original(context)
    finally:
        del headers["Content-Type"]


# --- 15. X-Forwarded-Proto is https -----------------------------------------------------------------------------------

HTTPS_ONLY = _documented(
    "the X-Forwarded-Proto of an AWS_PROXY event is https",
    "https://aws.amazon.com/api-gateway/faqs/",
    "All of the APIs created with Amazon API Gateway expose HTTPS endpoints only. Amazon API Gateway does not "
    "support unencrypted (HTTP) endpoints.",
)
# LocalStack takes the value from the server protocol name ("HTTP/1.1" -> "HTTP") of its own listener.


@_corrects(HTTPS_ONLY, integration_request.IntegrationRequestHandler, "_set_proxy_headers", static=True)
def _https_forwarded_proto(original: Callable[..., None], headers: Any, request: Any) -> None:
    original(headers, request)
    headers.set("X-Forwarded-Proto", "https")


# --- 16. an AWS_PROXY event carries the request's own headers ---------------------------------------------------------

PROXY_RAW_REQUEST = _documented(
    "an AWS_PROXY event carries the client's headers, without an HTTP integration's default Accept and User-Agent",
    _DEVELOPER_GUIDE + "set-up-lambda-proxy-integrations.html",
    "In Lambda proxy integration, when a client submits an API request, API Gateway passes to the integrated Lambda "
    "function the raw request as-is, except that the order of the request parameters is not preserved.",
)
_HTTP_INTEGRATION_DEFAULTS = ("Accept", "User-Agent")


@_corrects(PROXY_RAW_REQUEST, integration_request.IntegrationRequestHandler, "_apply_header_transforms", static=True)
def _no_defaults_in_proxy_events(
    original: Callable[..., None], headers: Any, integration_type: Any, context: Any
) -> None:
    sent = {name for name in _HTTP_INTEGRATION_DEFAULTS if name in context.request.headers}
    original(headers, integration_type, context)
    if integration_type == "AWS_PROXY":
        for name in _HTTP_INTEGRATION_DEFAULTS:
            if name not in sent:
                headers.remove(name)


ALL: frozenset[Correction] = frozenset(CORRECTIONS)
