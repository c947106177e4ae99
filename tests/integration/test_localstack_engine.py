"""LocalStack's REST API pipeline as a second engine: each correction, and both engines on template.yaml.

Each correction test runs a tiny synthetic API twice: with every correction but the one under test (what LocalStack
does there on its own) and with all of them, so the difference is that correction's alone.
"""

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from local_gateway.integration import RestApiIntegration
from local_gateway.model import FunctionError, IntegrationContext, MethodRequest, MethodResponse
from local_gateway.sam_template import load_proxy_integration
from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import invoke_handler
from tests.support.engines import BothEngines, EnginesDisagree
from tests.support.localstack.corrections import (
    ALL,
    BASE64_DECODE_IS_TEXT,
    BASE64_TEXT_FOR_TEMPLATES,
    BINARY_WILDCARD,
    CORRECTIONS,
    ESCAPE_JAVASCRIPT,
    GATEWAY_RESPONSE_MAPPINGS,
    HTTPS_ONLY,
    IMPORT_CONTENT_HANDLING,
    IMPORT_GATEWAY_RESPONSES,
    MAP_METHOD_CALLS,
    NO_CONTENT_TYPE_IS_JSON,
    PARAMS_ARE_MAPS,
    PARSE_JSON_IS_A_MAP,
    PROXY_HEADER_MERGE,
    PROXY_RAW_REQUEST,
    RAW_PAYLOAD,
    TEMPLATE_BY_MIME_TYPE,
    Correction,
    commons_lang_escape_javascript,
)
from tests.support.localstack.engine import (
    ApiDefinition,
    LocalStackDeployment,
    LocalStackIntegration,
    deploy,
    template_deployment,
)

LAMBDA_URI = (
    "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:eu-west-1:123456789012:function:fn/invocations"
)
CONTEXT = IntegrationContext(request_id="c0ffee00-0000-4000-8000-0000000000aa", request_time_epoch_ms=1_763_700_000_000)

# One request template that shows four run-time corrections, one field each.
PROBE_TEMPLATE = """#set($parsed = $util.parseJson('{"outer": {"b": 1, "c": 2}}'))
{
  "headerNames": "#foreach($name in $input.params().header.keySet())$name;#end",
  "query": "#foreach($name in $input.params().querystring.keySet())$name=$input.params().querystring.get($name);#end",
  "decoded": "$util.base64Decode('aGk=')",
  "innerKeys": "#foreach($key in $parsed.outer.keySet())$key;#end",
  "escaped": "$util.escapeJavaScript($input.params('v')).replaceAll("\\\\'","'")"
}"""


def _any_method(integration: dict[str, Any]) -> dict[str, Any]:
    return {"x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": integration}}


def _api(paths: dict[str, dict[str, Any]], **extensions: Any) -> ApiDefinition:
    body = {"openapi": "3.0.1", "info": {"title": "synthetic", "version": "1"}, "paths": paths}
    body |= {f"x-amazon-apigateway-{name.replace('_', '-')}": value for name, value in extensions.items()}
    return ApiDefinition(body=body, stage="test")


# API "templates": no binary media types; custom gateway responses.
TEMPLATES_API = _api(
    {
        "/probe": _any_method(
            {
                "type": "aws",
                "httpMethod": "POST",
                "uri": LAMBDA_URI,
                "passthroughBehavior": "never",
                "requestTemplates": {"application/json": PROBE_TEMPLATE},
                "responses": {"default": {"statusCode": "200"}},
            }
        ),
        "/unfixed-escape": _any_method(
            {
                "type": "aws",
                "httpMethod": "POST",
                "uri": LAMBDA_URI,
                "requestTemplates": {"application/json": '{"v": "$util.escapeJavaScript($input.params(\'v\'))"}'},
                "responses": {"default": {"statusCode": "200"}},
            }
        ),
    },
    gateway_responses={
        "DEFAULT_4XX": {
            "responseParameters": {"gatewayresponse.header.X-Refused-By": "'gateway'"},
            "responseTemplates": {
                "application/json": '{"error": $context.error.messageString, "id": "$context.requestId"}'
            },
        }
    },
)

# API "binary": binaryMediaTypes */*, the request and the Lambda's JSON answer are binary payloads.
BINARY_API = _api(
    {
        "/vtl": _any_method(
            {
                "type": "aws",
                "httpMethod": "POST",
                "uri": LAMBDA_URI,
                "passthroughBehavior": "never",
                "contentHandling": "CONVERT_TO_TEXT",
                "requestTemplates": dict.fromkeys(
                    ("application/json", "application/x-www-form-urlencoded", "multipart/form-data"),
                    '{"body": "$input.body"}',
                ),
                "responses": {
                    "default": {
                        "statusCode": "200",
                        "contentHandling": "CONVERT_TO_TEXT",
                        "responseTemplates": {"application/json": "$input.body"},
                    }
                },
            }
        ),
        "/proxy": _any_method({"type": "aws_proxy", "httpMethod": "POST", "uri": LAMBDA_URI}),
    },
    binary_media_types=["*/*"],
)


class Recorder:
    """A function that records its events and answers what the test says."""

    def __init__(self, answer: Callable[[Any], Any] = lambda event: {"ok": True}) -> None:
        self.events: list[Any] = []
        self._answer = answer

    def __call__(self, event: Any) -> Any:
        self.events.append(event)
        return self._answer(event)


_DEPLOYMENTS: dict[tuple[str, frozenset[Correction]], LocalStackDeployment] = {}


def _deployed(name: str, definition: ApiDefinition, corrections: frozenset[Correction] = ALL) -> LocalStackDeployment:
    """Each synthetic API is imported once per set of import corrections in a test session."""
    key = (name, corrections)
    if key not in _DEPLOYMENTS:
        _DEPLOYMENTS[key] = deploy(definition, corrections=corrections)
    return _DEPLOYMENTS[key]


def _without(correction: Correction, name: str, definition: ApiDefinition, function: Recorder) -> LocalStackIntegration:
    return LocalStackIntegration(_deployed(name, definition), function, corrections=ALL - {correction})


def _corrected(name: str, definition: ApiDefinition, function: Recorder) -> LocalStackIntegration:
    return LocalStackIntegration(_deployed(name, definition), function)


def _probe(correction: Correction, field: str, request: MethodRequest) -> tuple[str, str]:
    """The probe template's field, rendered without the correction and with every correction."""
    without, corrected = Recorder(), Recorder()
    _without(correction, "templates", TEMPLATES_API, without).handle(request, CONTEXT)
    _corrected("templates", TEMPLATES_API, corrected).handle(request, CONTEXT)
    return without.events[-1][field], corrected.events[-1][field]


PROBE_REQUEST = MethodRequest(
    "POST",
    "/probe",
    query=[("v", "")],
    headers=[("Content-Type", "application/json"), ("X-One", "1")],
    body=b"{}",
)


# --- each correction ------------------------------------------------------------------------------------------------


def test_every_correction_quotes_an_aws_documentation_page() -> None:
    assert len(CORRECTIONS) == len(ALL) == 16
    for correction in CORRECTIONS:
        assert correction.source.startswith(
            (
                "https://docs.aws.amazon.com/apigateway/latest/developerguide/",
                "https://aws.amazon.com/api-gateway/faqs/",
            )
        )
        assert len(correction.quote) > 60


def test_header_params_are_a_map_with_keys() -> None:
    without, corrected = _probe(PARAMS_ARE_MAPS, "headerNames", PROBE_REQUEST)

    assert (without, corrected) == ("", "Content-Type;X-One;")


def test_a_parameter_named_like_a_map_method_does_not_hide_the_method() -> None:
    request = MethodRequest("POST", "/probe", query=[("get", "1"), ("keySet", "2")], body=b"{}")
    function = Recorder()

    with pytest.raises(RuntimeError, match="LocalStack's pipeline failed") as failure:
        _without(MAP_METHOD_CALLS, "templates", TEMPLATES_API, Recorder()).handle(request, CONTEXT)
    _corrected("templates", TEMPLATES_API, function).handle(request, CONTEXT)

    assert "object is not callable" in str(failure.value.__cause__)  # LocalStack itself answers 500
    assert function.events[-1]["query"] == "get=1;keySet=2;"


def test_base64_decode_gives_text() -> None:
    assert _probe(BASE64_DECODE_IS_TEXT, "decoded", PROBE_REQUEST) == ("b'hi'", "hi")


def test_parse_json_gives_maps_all_the_way_down() -> None:
    assert _probe(PARSE_JSON_IS_A_MAP, "innerKeys", PROBE_REQUEST) == ("", "b;c;")


def test_escape_javascript_keeps_an_empty_string_empty() -> None:
    assert _probe(ESCAPE_JAVASCRIPT, "escaped", PROBE_REQUEST) == ("{}", "")


def test_escape_javascript_escapes_a_single_quote_so_json_without_the_fix_breaks() -> None:
    """AWS's documented reason for .replaceAll("\\\\'","'"): without it, the event is not JSON and Lambda refuses it."""
    request = MethodRequest("POST", "/unfixed-escape", query=[("v", "O'Brien")], body=b"{}")
    without, corrected = Recorder(), Recorder()

    _without(ESCAPE_JAVASCRIPT, "templates", TEMPLATES_API, without).handle(request, CONTEXT)
    _corrected("templates", TEMPLATES_API, corrected).handle(request, CONTEXT)

    assert without.events == [{"v": "O'Brien"}]
    assert corrected.events == []


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("it's", "it\\'s"),
        ('say "hi"', 'say \\"hi\\"'),
        ("a\\b/c", "a\\\\b\\/c"),
        ("tab\tnew\nline\r\b\f", "tab\\tnew\\nline\\r\\b\\f"),
        ("\x01\x1f", "\\u0001\\u001F"),
        ("del\x7f", "del\x7f"),
        ("caf\u00e9 \u20ac", "caf\\u00E9 \\u20AC"),
        ("\U0001f600", "\\uD83D\\uDE00"),
        ("", ""),
    ],
)
def test_the_correction_escapes_as_commons_lang(raw: str, escaped: str) -> None:
    assert commons_lang_escape_javascript(raw) == escaped


@pytest.mark.parametrize(
    ("method", "content_type", "body"),
    [
        ("DELETE", "application/x-www-form-urlencoded", b"a=1"),
        ("POST", "application/x-www-form-urlencoded", b"a=%7E&b=x+y&c"),
        (
            "PUT",
            "multipart/form-data; boundary=XyZ",
            b'--XyZ\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n--XyZ--\r\n',
        ),
    ],
)
def test_the_payload_reaches_the_template_as_sent(method: str, content_type: str, body: bytes) -> None:
    request = MethodRequest(method, "/vtl", headers=[("Content-Type", content_type)], body=body)
    without, corrected = Recorder(), Recorder()

    _without(RAW_PAYLOAD, "binary", BINARY_API, without).handle(request, CONTEXT)
    _corrected("binary", BINARY_API, corrected).handle(request, CONTEXT)

    assert base64.b64decode(without.events[-1]["body"]) != body
    assert base64.b64decode(corrected.events[-1]["body"]) == body


def test_a_request_template_is_chosen_by_the_mime_type_alone() -> None:
    request = MethodRequest("POST", "/probe", headers=[("Content-Type", "application/json; charset=UTF-8")], body=b"{}")
    without, corrected = Recorder(), Recorder()

    refused = _without(TEMPLATE_BY_MIME_TYPE, "templates", TEMPLATES_API, without).handle(request, CONTEXT)
    accepted = _corrected("templates", TEMPLATES_API, corrected).handle(request, CONTEXT)

    assert (refused.status, without.events) == (415, [])
    assert (accepted.status, len(corrected.events)) == (200, 1)


def test_a_gateway_response_applies_its_template_and_header_mappings() -> None:
    request = MethodRequest("POST", "/probe", headers=[("Content-Type", "text/plain")], body=b"x")
    not_rendered = _without(GATEWAY_RESPONSE_MAPPINGS, "templates", TEMPLATES_API, Recorder()).handle(request, CONTEXT)
    not_imported = LocalStackIntegration(
        _deployed("templates", TEMPLATES_API, ALL - {IMPORT_GATEWAY_RESPONSES}), Recorder()
    ).handle(request, CONTEXT)
    corrected = _corrected("templates", TEMPLATES_API, Recorder()).handle(request, CONTEXT)

    for default in (not_rendered, not_imported):
        assert (default.status, json.loads(default.body)) == (415, {"message": "Unsupported Media Type"})
        assert default.header("X-Refused-By") is None
    assert corrected.status == 415
    assert json.loads(corrected.body) == {"error": "Unsupported Media Type", "id": CONTEXT.request_id}
    assert corrected.header("X-Refused-By") == "gateway"
    assert corrected.header("Content-Type") == "application/json"


def test_star_slash_star_makes_a_request_body_binary() -> None:
    request = MethodRequest("POST", "/vtl", headers=[("Content-Type", "application/json")], body=b"hi")
    without, corrected = Recorder(), Recorder()

    _without(BINARY_WILDCARD, "binary", BINARY_API, without).handle(request, CONTEXT)
    _corrected("binary", BINARY_API, corrected).handle(request, CONTEXT)

    assert without.events == [{"body": "hi"}]
    assert corrected.events == [{"body": base64.b64encode(b"hi").decode()}]


def test_star_slash_star_lets_aws_proxy_answer_bytes_to_any_first_accept_type() -> None:
    def answer(event: Any) -> Any:
        return {"statusCode": 200, "body": base64.b64encode(b"\x89PNG").decode(), "isBase64Encoded": True}

    request = MethodRequest("GET", "/proxy", headers=[("Accept", "image/png, */*")])

    without = _without(BINARY_WILDCARD, "binary", BINARY_API, Recorder(answer)).handle(request, CONTEXT)
    corrected = _corrected("binary", BINARY_API, Recorder(answer)).handle(request, CONTEXT)

    assert without.body == base64.b64encode(b"\x89PNG")
    assert corrected.body == b"\x89PNG"


def test_aws_proxy_merges_headers_into_multi_value_headers_without_repeats() -> None:
    def answer(event: Any) -> Any:
        headers = {"Set-Cookie": "a=1", "X-Single": "s"}
        return {"statusCode": 200, "headers": headers, "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]}, "body": ""}

    request = MethodRequest("GET", "/proxy")
    without = _without(PROXY_HEADER_MERGE, "binary", BINARY_API, Recorder(answer)).handle(request, CONTEXT)
    corrected = _corrected("binary", BINARY_API, Recorder(answer)).handle(request, CONTEXT)

    def cookies(response: MethodResponse) -> list[str]:
        return sorted(value for name, value in response.headers if name.lower() == "set-cookie")

    assert cookies(without) == ["a=1", "a=1", "b=2"]
    assert cookies(corrected) == ["a=1", "b=2"]
    assert corrected.header("X-Single") == "s"


def test_the_response_template_reads_converted_text_as_base64() -> None:
    """The Lambda's JSON is a binary payload under */*; CONVERT_TO_TEXT hands the template its base64."""
    request = MethodRequest("POST", "/vtl", headers=[("Content-Type", "application/json")], body=b"{}")
    result = {"statusCode": 201}

    without = _without(BASE64_TEXT_FOR_TEMPLATES, "binary", BINARY_API, Recorder(lambda e: result)).handle(request)
    corrected = _corrected("binary", BINARY_API, Recorder(lambda e: result)).handle(request)

    assert without.status == 500
    assert (corrected.status, base64.b64decode(corrected.body)) == (200, json.dumps(result).encode())


def test_the_importer_keeps_an_integration_responses_content_handling() -> None:
    """With a binary Accept and no contentHandling the Lambda's JSON stays bytes, which a template cannot read."""
    request = MethodRequest(
        "POST", "/vtl", headers=[("Content-Type", "application/json"), ("Accept", "application/json")]
    )
    dropped = _deployed("binary", BINARY_API, ALL - {IMPORT_CONTENT_HANDLING})

    without = LocalStackIntegration(dropped, Recorder()).handle(request, CONTEXT)
    corrected = _corrected("binary", BINARY_API, Recorder()).handle(request, CONTEXT)

    assert without.status == 500
    assert (corrected.status, json.loads(base64.b64decode(corrected.body))) == (200, {"ok": True})


def test_localstack_as_shipped_is_still_reachable() -> None:
    """corrected=False runs no correction at all: the header map is empty again."""
    function = Recorder()
    shipped = LocalStackIntegration(_deployed("templates", TEMPLATES_API, frozenset()), function)

    shipped.handle(PROBE_REQUEST, CONTEXT)

    assert shipped.deployment.corrections == frozenset()
    assert function.events[-1]["headerNames"] == ""


# --- the adapter ----------------------------------------------------------------------------------------------------


def test_the_event_carries_our_engines_deployment_identity() -> None:
    function = Recorder()
    request = MethodRequest(
        "GET", "/proxy", query=[("q", "1")], headers=[("Host", "api.example.com")], source_ip="203.0.113.9"
    )

    _corrected("binary", BINARY_API, function).handle(request, CONTEXT, authorizer={"principalId": "acme"})

    context = function.events[-1]["requestContext"]
    assert context["requestId"] == CONTEXT.request_id
    assert context["requestTimeEpoch"] == CONTEXT.request_time_epoch_ms
    assert context["requestTime"] == "21/Nov/2025:04:40:00 +0000"
    assert (context["apiId"], context["accountId"], context["stage"]) == ("local", "123456789012", "test")
    assert (context["resourceId"], context["domainName"]) == ("local", "api.example.com")
    assert context["identity"]["sourceIp"] == "203.0.113.9"
    assert context["authorizer"] == {"principalId": "acme"}


def test_a_function_error_is_selected_by_its_message() -> None:
    def fail(event: Any) -> Any:
        raise FunctionError("Task timed out after 29.00 seconds")

    api = _api(
        {
            "/": _any_method(
                {
                    "type": "aws",
                    "httpMethod": "POST",
                    "uri": LAMBDA_URI,
                    "requestTemplates": {"application/json": "{}"},
                    "responses": {
                        "default": {"statusCode": "200"},
                        "Task timed out.*": {
                            "statusCode": "504",
                            "responseTemplates": {"application/json": '{"timeout": "$input.path(\'$.errorType\')"}'},
                        },
                    },
                }
            )
        }
    )
    response = LocalStackIntegration(_deployed("errors", api), fail).handle(MethodRequest("GET", "/"), CONTEXT)

    assert (response.status, json.loads(response.body)) == (504, {"timeout": "FunctionError"})


def test_other_exceptions_are_not_turned_into_a_500() -> None:
    def broken(event: Any) -> Any:
        raise KeyError("bug")

    engine = LocalStackIntegration(_deployed("binary", BINARY_API), broken)

    with pytest.raises(RuntimeError, match="LocalStack's pipeline failed") as failure:
        engine.handle(MethodRequest("GET", "/proxy"), CONTEXT)
    assert isinstance(failure.value.__cause__, KeyError)


# --- both engines on template.yaml ----------------------------------------------------------------------------------


@pytest.fixture
def both(proxy_to: RecordingBackend) -> BothEngines:
    return BothEngines.for_template(invoke_handler)


JSON_POST = MethodRequest(
    "POST",
    "/orders/42",
    query=[("expand", "items"), ("note", "it's"), ("expand", "notes")],
    headers=[("Content-Type", "application/json"), ("Host", "api.example.com"), ("X-Name", "caf\u00e9 \u20ac")],
    body=json.dumps({"name": "O'Brien", "quote": '"hi"'}).encode(),
    source_ip="203.0.113.9",
)


def test_both_engines_build_our_template_from_the_same_definition() -> None:
    deployment = template_deployment()

    resources = {resource["path"] for resource in deployment.frozen.rest_api.resources.values()}
    assert resources == {"/", "/{proxy+}"}
    assert deployment.frozen.rest_api.rest_api["binaryMediaTypes"] == ["*/*"]
    assert "DEFAULT_5XX" in deployment.frozen.rest_api.gateway_responses
    assert deployment.import_warnings == ()


def test_an_unknown_template_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match=r"template\.yaml has no parameter NoSuchParameter"):
        ApiDefinition.from_template({"NoSuchParameter": "x"})


@pytest.mark.parametrize("mode", ["VTL", "PROXY"])
@pytest.mark.parametrize(
    "request_",
    [
        JSON_POST,
        MethodRequest("PUT", "/blob", headers=[("Content-Type", "application/octet-stream")], body=bytes(range(256))),
        MethodRequest(
            "DELETE",
            "/a%20b/%C3%A9",
            query=[("x", "a+b=c&d")],
            headers=[("Content-Type", "application/x-www-form-urlencoded")],
            body=b"x=1",
        ),
        MethodRequest("GET", "/orders"),
    ],
    ids=["json", "binary", "encoded-path", "no-body"],
)
def test_both_engines_agree_on_template_yaml_in_each_mode(
    proxy_to: RecordingBackend, configure_proxy: Any, request_: MethodRequest, mode: str
) -> None:
    configure_proxy(proxy_to.url, integration_mode=mode)
    proxy_to.responder = lambda request: Reply(201, [("Content-Type", "text/plain"), ("X-Trace", "t")], b"made")
    both = BothEngines.for_template(
        invoke_handler,
        api=load_proxy_integration(parameters={"IntegrationMode": mode}),
        deployment=template_deployment(IntegrationMode=mode),
    )

    response = both.handle(request_, CONTEXT)

    assert (response.status, response.body, response.header("X-Trace")) == (201, b"made", "t")
    assert proxy_to.last.body == request_.body
    assert len(proxy_to.requests) == both.backend_calls_per_request == 1
    assert both.last is not None
    assert len(both.last.ours_events) == len(both.last.localstack_events) == 1


def test_without_replay_the_backend_sees_each_request_twice(proxy_to: RecordingBackend) -> None:
    proxy_to.responder = lambda request: Reply(200, [("Content-Type", "text/plain")], b"ok")
    both = BothEngines.for_template(invoke_handler, replay=False)

    both.handle(JSON_POST, CONTEXT)

    assert len(proxy_to.requests) == both.backend_calls_per_request == 2
    assert proxy_to.requests[0].body == proxy_to.requests[1].body == JSON_POST.body


def test_a_function_failure_gets_the_same_502_from_both(proxy_to: RecordingBackend) -> None:
    def crash(event: Any) -> Any:
        raise FunctionError("Runtime exited with error: signal: killed")

    response = BothEngines.for_template(crash).handle(JSON_POST, CONTEXT)

    assert response.status == 502
    assert json.loads(response.body) == {"message": "the proxy function failed", "requestId": CONTEXT.request_id}


def test_a_refusal_is_the_same_json_and_error_type_from_both(both: BothEngines) -> None:
    """x-amzn-ErrorType comes with API Gateway's own errors (LocalStack's AWS-recorded
    TestApiGatewayHeaderRemapping shows it); our engine sends it too."""
    request = MethodRequest("POST", "/orders", headers=[("Content-Type", "application/x-unknown")], body=b"x")

    response = both.handle(request, CONTEXT)

    assert (response.status, response.header("x-amzn-ErrorType")) == (415, "BadRequestException")


def test_the_disagreement_message_names_what_differs(proxy_to: RecordingBackend) -> None:
    """A deliberately different LocalStack answer shows how a disagreement reads."""

    def answer_differently(event: Any) -> Any:
        return {"statusCode": 500, "headers": {}, "multiValueHeaders": {}, "body": "other", "isBase64Encoded": False}

    proxy_to.responder = lambda request: Reply(201, [("Content-Type", "text/plain")], b"made")
    both = BothEngines(
        lambda function: RestApiIntegration(load_proxy_integration(), function, "v1"),
        lambda function: LocalStackIntegration(template_deployment(), answer_differently),
        invoke_handler,
        replay=False,
    )

    with pytest.raises(
        EnginesDisagree, match=r"(?s)POST /orders/42 .*status: ours 201, LocalStack 500.*body: ours b'made'"
    ):
        both.handle(JSON_POST, CONTEXT)


def test_without_content_type_localstack_takes_the_body_as_text_unless_corrected() -> None:
    api_request = MethodRequest("POST", "/vtl", body=b"x=1")
    without, corrected = Recorder(), Recorder()

    _without(NO_CONTENT_TYPE_IS_JSON, "binary", BINARY_API, without).handle(api_request, CONTEXT)
    _corrected("binary", BINARY_API, corrected).handle(api_request, CONTEXT)

    assert without.events[-1] == {"body": "x=1"}
    assert corrected.events[-1] == {"body": base64.b64encode(b"x=1").decode()}


def test_an_aws_proxy_event_carries_the_clients_headers_over_https() -> None:
    api_request = MethodRequest("GET", "/proxy", headers=[("X-Client", "1")], source_ip="203.0.113.9")
    without_https, without_raw, corrected = Recorder(), Recorder(), Recorder()

    _without(HTTPS_ONLY, "binary", BINARY_API, without_https).handle(api_request, CONTEXT)
    _without(PROXY_RAW_REQUEST, "binary", BINARY_API, without_raw).handle(api_request, CONTEXT)
    _corrected("binary", BINARY_API, corrected).handle(api_request, CONTEXT)

    assert without_https.events[-1]["headers"]["X-Forwarded-Proto"] == "HTTP"
    assert {"Accept", "User-Agent"} <= without_raw.events[-1]["headers"].keys()
    headers = corrected.events[-1]["headers"]
    assert headers["X-Forwarded-Proto"] == "https"
    assert headers["X-Forwarded-For"] == "203.0.113.9"
    assert headers["X-Amzn-Trace-Id"] == CONTEXT.trace_id
    assert not {"Accept", "User-Agent"} & headers.keys()


# The response side template.yaml is moving to (IntegrationMode VTL): the Lambda's JSON reaches the template as
# base64 (*/* with CONVERT_TO_TEXT), is decoded and parsed there, and sets status and headers by responseOverride.
DESIGN_RESPONSE_TEMPLATE = """#set($result = $util.parseJson($util.base64Decode($input.body)))##
#set($context.responseOverride.status = $result.statusCode)##
#foreach($name in $result.headers.keySet())##
#set($context.responseOverride.header[$name] = $result.headers.get($name))##
#end##
#if($result.isBase64Encoded)$util.base64Decode($result.body)#{else}$result.body#end"""


def test_localstack_runs_the_response_design_end_to_end(proxy_to: RecordingBackend) -> None:
    definition = ApiDefinition.from_template()
    for route in ("/", "/{proxy+}"):
        integration = definition.body["paths"][route]["x-amazon-apigateway-any-method"][
            "x-amazon-apigateway-integration"
        ]
        integration["responses"] = {
            "default": {
                "statusCode": "200",
                "contentHandling": "CONVERT_TO_TEXT",
                "responseTemplates": {"application/json": DESIGN_RESPONSE_TEMPLATE},
            },
            "(?s).+": {
                "statusCode": "502",
                "contentHandling": "CONVERT_TO_TEXT",
                "responseTemplates": {"application/json": '{"message": "the proxy function failed"}'},
            },
        }
    proxy_to.responder = lambda request: Reply(
        201, [("Content-Type", "text/plain; charset=utf-8"), ("X-Trace", "t-1")], "café ".encode() + request.body
    )

    response = LocalStackIntegration(_deployed("design", definition), invoke_handler).handle(JSON_POST, CONTEXT)

    assert response.status == 201
    assert response.body == "café ".encode() + JSON_POST.body
    assert response.header("X-Trace") == "t-1"
    assert response.header("Content-Type") == "text/plain; charset=utf-8"
