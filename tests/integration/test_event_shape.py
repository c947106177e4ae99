"""The rendered event is a REST proxy (payload 1.0) event: Powertools and other v1 consumers read it as such."""

import base64
import json

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from local_gateway.integration import RestApiIntegration
from local_gateway.model import IntegrationContext, MethodRequest
from local_gateway.sam_template import ProxyIntegration


@pytest.fixture
def chain(api_definitions: dict[str, ProxyIntegration]) -> RestApiIntegration:
    """template.yaml's request template as our engine renders it (AWS_PROXY builds its own events); the chain
    suites compare what both engines hand the function."""
    return RestApiIntegration(api_definitions["VTL"], lambda event: None, stage="v1")


CONTEXT = IntegrationContext(request_id="c0ffee00-0000-4000-8000-000000000001", request_time_epoch_ms=1_763_700_000_000)


def test_powertools_reads_the_rendered_event(chain: RestApiIntegration) -> None:
    request = MethodRequest(
        "POST",
        "/orders/42",
        query=[("expand", "items"), ("note", "it's")],
        headers=[
            ("Content-Type", "application/json"),
            ("Host", "api.example.com"),
            ("User-Agent", "curl/8.5.0"),
        ],
        body=b'{"qty": 2}',
        source_ip="203.0.113.9",
    )
    rendered = chain.render_event(request, CONTEXT)
    assert isinstance(rendered, str)

    event = APIGatewayProxyEvent(json.loads(rendered))

    assert event.http_method == "POST"
    assert event.path == "/orders/42"
    assert event.resource == "/{proxy+}"
    assert event.path_parameters == {"proxy": "orders/42"}
    assert event.query_string_parameters == {"expand": "items", "note": "it's"}
    assert event.headers["Host"] == "api.example.com"
    assert event.is_base64_encoded is True
    assert event.decoded_body == '{"qty": 2}'
    assert event.request_context.request_id == CONTEXT.request_id
    assert event.request_context.stage == "v1"
    assert event.request_context.path == "/v1/orders/42"
    assert event.request_context.identity.source_ip == "203.0.113.9"
    assert event.request_context.identity.user_agent == "curl/8.5.0"


def test_an_empty_body_is_null_and_not_base64(chain: RestApiIntegration) -> None:
    rendered = chain.render_event(MethodRequest("GET", "/"), CONTEXT)
    assert isinstance(rendered, str)

    event = json.loads(rendered)

    assert (event["body"], event["isBase64Encoded"], event["resource"], event["path"]) == (
        None,
        False,
        "/",
        "/",
    )
    assert event["queryStringParameters"] is None
    assert event["pathParameters"] is None


def test_the_body_is_the_base64_of_the_exact_bytes(chain: RestApiIntegration) -> None:
    payload = bytes(range(256))
    rendered = chain.render_event(
        MethodRequest("PUT", "/blob", headers=[("Content-Type", "application/octet-stream")], body=payload),
        CONTEXT,
    )
    assert isinstance(rendered, str)

    assert base64.b64decode(json.loads(rendered)["body"]) == payload
