"""Locked down: forwarding and identity headers cannot be forged, no secret reaches a log, least privilege."""

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authorizer.tokens import hash_token
from local_gateway.cfn import ResolvedTemplate
from local_gateway.lambda_context import lambda_context
from local_gateway.local_tokens import LocalTokenStore
from local_gateway.model import MethodRequest
from local_gateway.sam_template import load_template
from proxy import handler as proxy_handler
from proxy.upstream import CLIENT_CLAIMS, PROXY_OWNED
from tests.support.backend import RecordingBackend
from tests.support.chain import ConfigureProxy
from tests.support.engines import BothEngines
from tests.support.logs import captured
from tests.support.sam import translate

SECRET_TOKEN = "s3cr3t-bearer-token-do-not-log"
SECRET_COOKIE = "session=s3cr3t-cookie-do-not-log"
SECRET_QUERY = "s3cr3t-query-token-do-not-log"
SECRETS = (SECRET_TOKEN, SECRET_COOKIE, SECRET_QUERY, hash_token(SECRET_TOKEN))


def _random_case(name: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(name, flips + [False] * len(name), strict=False))


@given(
    # Host is left out: it names the API to API Gateway, so a client cannot send an arbitrary one through it (the
    # handler-level tests show a Host in the event never reaches the backend).
    name=st.sampled_from(sorted((PROXY_OWNED - {"host"}) | {"x-authenticated-client"})),
    flips=st.lists(st.booleans(), max_size=30),
    value=st.text(st.characters(codec="ascii", min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30),
)
def test_no_client_header_overrides_what_the_proxy_sets(
    chain: BothEngines, proxy_to: RecordingBackend, name: str, flips: list[bool], value: str
) -> None:
    response = chain.handle(
        MethodRequest("GET", "/", headers=[(_random_case(name, flips), value)], source_ip="203.0.113.9")
    )

    received = proxy_to.last
    assert received.headers_named("Host") == [proxy_to.url.removeprefix("http://")]
    assert received.headers_named("X-Request-Id") == [response.request_id]
    assert received.headers_named("X-Forwarded-For")[0].endswith("203.0.113.9")
    assert received.headers_named("X-Forwarded-Proto") == ["https"]
    assert received.headers_named("X-Authenticated-Client") == []
    assert received.headers_named("Forwarded") == []


@pytest.fixture
def debug_everything() -> Iterator[list[str]]:
    """Every logger at DEBUG, as with AWS_LAMBDA_LOG_LEVEL=DEBUG; returns what any of them wrote."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record) + json.dumps(record.__dict__, default=str))

    root = logging.getLogger()
    collector = Collect(logging.DEBUG)
    previous = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    proxy_handler.logger.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(collector)
        root.setLevel(previous)
        proxy_handler.logger.setLevel(logging.INFO)


def test_no_secret_reaches_any_log_line_at_debug(
    chain: BothEngines,
    proxy_to: RecordingBackend,
    configure_proxy: ConfigureProxy,
    monkeypatch: pytest.MonkeyPatch,
    debug_everything: list[str],
) -> None:
    monkeypatch.setenv("AUTH_TOKENS_PARAMETER", "/secrets/tokens")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from authorizer import handler as authorizer_handler

    monkeypatch.setattr(
        authorizer_handler, "SSM", LocalTokenStore(inline_json=json.dumps({"acme": [hash_token(SECRET_TOKEN)]}))
    )
    authorizer_handler.logger.setLevel(logging.DEBUG)
    headers = [("Authorization", f"Bearer {SECRET_TOKEN}"), ("Cookie", SECRET_COOKIE)]
    request = MethodRequest("POST", "/login", query=[("token", SECRET_QUERY)], headers=headers, body=b"{}")

    with captured(proxy_handler.logger) as proxy_lines, captured(authorizer_handler.logger) as authorizer_lines:
        for authorization in (f"Bearer {SECRET_TOKEN}", f"Bearer {SECRET_TOKEN}x", SECRET_TOKEN):
            event = {
                "type": "TOKEN",
                "authorizationToken": authorization,
                "methodArn": "arn:aws:execute-api:eu-west-1:1:a/v1/GET/x",
            }
            try:
                authorizer_handler.lambda_handler(event, lambda_context("authorizer"))
            except Exception as error:
                assert str(error) == "Unauthorized"  # noqa: PT017
        chain.handle(request)
        configure_proxy("http://127.0.0.1:9")  # refused: the failure path logs too
        chain.handle(request)
        chain.handle(MethodRequest("GET", "/", headers=[("X-Bad", "a")], query=[("token", SECRET_QUERY)]))
    authorizer_handler.logger.setLevel(logging.INFO)

    everything = proxy_lines.text() + authorizer_lines.text() + "\n".join(debug_everything)
    assert len(proxy_lines.records()) >= 3  # one line per proxied request: the scan had something to read
    assert len(authorizer_lines.records()) >= 3
    for secret in SECRETS:
        assert secret not in everything, secret


def _inline_statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    statements = []
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                found = policy["PolicyDocument"]["Statement"]
                statements.extend(found if isinstance(found, list) else [found])
    return statements


@pytest.mark.parametrize("auth_mode", ["NONE", "TOKEN"])
def test_every_inline_iam_statement_names_its_resource(monkeypatch: pytest.MonkeyPatch, auth_mode: str) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    translated = translate(load_template(), {"AuthMode": auth_mode})
    resources = ResolvedTemplate(translated, {"AuthMode": auth_mode}).resources

    statements = _inline_statements(resources)

    assert all(statement["Resource"] != "*" for statement in statements), statements
    managed = {
        str(arn) for resource in resources.values() for arn in resource["Properties"].get("ManagedPolicyArns", [])
    }
    # AWS managed policies only where no resource ARN exists to scope to: ENIs for VPC functions, X-Ray writes,
    # and API Gateway's account-level log delivery.
    allowed = (
        "AWSLambdaVPCAccessExecutionRole",
        "AWSXrayWriteOnlyAccess",
        "AWSLambdaBasicExecutionRole",
        "AmazonAPIGatewayPushToCloudWatchLogs",
    )
    assert all(any(name in arn for name in allowed) for arn in managed), managed


def test_every_function_logs_to_a_log_group_with_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    resources = ResolvedTemplate(load_template(), {"AuthMode": "TOKEN"}).resources
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    groups = {name: r for name, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}

    assert set(functions) == {"ProxyFunction", "AuthorizerFunction"}
    for function in functions.values():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == "30"
    access_logs = resources["ProxyApi"]["Properties"]["AccessLogSetting"]
    assert access_logs["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert groups["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == "30"


@pytest.mark.parametrize(
    ("auth_mode", "api_keys", "forward", "reaches_backend"),
    [
        ("NONE", "false", "false", {"Authorization": "Bearer backend-own", "x-api-key": "k"}),
        ("TOKEN", "false", "false", {"x-api-key": "k"}),
        ("COGNITO", "true", "false", {}),
        ("IAM", "false", "false", {"x-api-key": "k"}),
        ("TOKEN", "true", "true", {"Authorization": "Bearer backend-own", "x-api-key": "k"}),
    ],
)
def test_credentials_api_gateway_consumed_stay_out_of_the_backend_unless_asked_for(
    chain: BothEngines,
    proxy_to: RecordingBackend,
    configure_proxy: ConfigureProxy,
    auth_mode: str,
    api_keys: str,
    forward: str,
    reaches_backend: dict[str, str],
) -> None:
    """A token the gateway checked would otherwise end up in the backend's access logs."""
    configure_proxy(proxy_to.url, auth_mode=auth_mode, api_key_required=api_keys, forward_gateway_credentials=forward)
    sent = {"Authorization": "Bearer backend-own", "x-api-key": "k", "X-Amz-Security-Token": "session"}

    chain.handle(MethodRequest("GET", "/", headers=list(sent.items())))

    received = {name: proxy_to.last.header(name) for name in sent}
    assert {
        name: value for name, value in received.items() if value is not None and name != "X-Amz-Security-Token"
    } == (reaches_backend)
    assert (received["X-Amz-Security-Token"] is None) == (auth_mode == "IAM" and forward == "false")


PRESIGNED = [
    ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
    ("X-Amz-Credential", "AKIAEXAMPLE/20260101/eu-west-1/execute-api/aws4_request"),
    ("X-Amz-Date", "20260101T000000Z"),
    ("X-Amz-Expires", "300"),
    ("X-Amz-SignedHeaders", "host"),
    ("X-Amz-Security-Token", "session-token"),
    ("X-Amz-Signature", "0" * 64),
]


@pytest.mark.parametrize(("auth_mode", "forward"), [("IAM", "false"), ("IAM", "true"), ("TOKEN", "false")])
def test_presigned_iam_credentials_in_the_query_stay_at_the_gate_too(
    chain: BothEngines, proxy_to: RecordingBackend, configure_proxy: ConfigureProxy, auth_mode: str, forward: str
) -> None:
    configure_proxy(proxy_to.url, auth_mode=auth_mode, forward_gateway_credentials=forward)

    chain.handle(MethodRequest("GET", "/report", query=[("page", "2"), *PRESIGNED]))

    query = parse_qsl(urlsplit(proxy_to.last.target).query)
    withheld = auth_mode == "IAM" and forward == "false"
    assert query == ([("page", "2")] if withheld else [("page", "2"), *PRESIGNED])


# A '.' or '..' segment, in the spellings a backend may resolve: literal, percent-encoded in either case, behind an
# encoded slash or backslash, or before Tomcat's ';' path parameters.
DOT_SEGMENT_PATHS = [
    "/../secret.txt",
    "/a/./b",
    "/a/..",
    "/%2e%2e/secret.txt",
    "/.%2E/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/a%2f..%2fb",
    "/a%5C..%5Cb",
    "/..;jsessionid=1/admin",
]


@pytest.mark.parametrize("path", DOT_SEGMENT_PATHS)
def test_a_path_with_a_dot_segment_is_a_400_and_never_reaches_the_backend(
    chain: BothEngines, proxy_to: RecordingBackend, configure_proxy: ConfigureProxy, path: str
) -> None:
    """With BACKEND_URL=.../public, GET /%2e%2e/secret.txt reached a path-normalising backend as /secret.txt."""
    configure_proxy(proxy_to.url + "/public")

    response = chain.handle(MethodRequest("GET", path))

    assert response.status == 400
    assert "'.' or '..' segment" in json.loads(response.body)["message"]
    assert proxy_to.requests == []


@pytest.mark.parametrize("path", ["/.well-known/x", "/a.b/..c/c..", "/...", "/%2e%2e%2e", "/a/%252e%252e/b"])
def test_dots_that_are_not_a_dot_segment_pass_unchanged(
    chain: BothEngines, proxy_to: RecordingBackend, path: str
) -> None:
    assert chain.handle(MethodRequest("GET", path)).status == 200
    assert proxy_to.last.target == path


def test_client_claims_of_identity_and_overrides_never_reach_the_backend(
    chain: BothEngines, proxy_to: RecordingBackend
) -> None:
    """Frameworks trust these (a client IP for an allowlist, a URL or method for routing); only the proxy's own
    X-Forwarded-For says who called, and API Gateway already checked the real method and path."""
    claims = [(name.title(), "forged") for name in sorted(CLIENT_CLAIMS)]

    chain.handle(MethodRequest("GET", "/", headers=[*claims, ("X-Forwarded-Proto", "http")], source_ip="203.0.113.9"))

    assert [name for name, _ in claims if proxy_to.last.header(name) is not None] == []
    assert proxy_to.last.headers_named("X-Forwarded-Proto") == ["https"]  # API Gateway serves HTTPS only
