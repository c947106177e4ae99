"""BACKEND_URL and friends, and the authorizer's settings: what a deployer can set, and the message a bad value fails
with at cold start."""

import pytest

from authorizer.config import ConfigError as AuthorizerConfigError
from authorizer.config import load_config as load_authorizer_config
from proxy.config import BackendTarget, ConfigError, IntegrationMode, load_config, parse_backend_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://10.0.1.25:8080", BackendTarget("http", "10.0.1.25", 8080, "")),
        (
            "https://orders.internal.example.com/api/",
            BackendTarget("https", "orders.internal.example.com", 443, "/api"),
        ),
        ("http://backend", BackendTarget("http", "backend", 80, "")),
        ("http://[fd00::5]:9000/v2", BackendTarget("http", "fd00::5", 9000, "/v2")),
    ],
)
def test_backend_urls_are_parsed(url: str, expected: BackendTarget) -> None:
    assert parse_backend_url(url) == expected


@pytest.mark.parametrize(
    ("target", "host_header"),
    [
        (BackendTarget("http", "10.0.1.25", 80, ""), "10.0.1.25"),
        (BackendTarget("https", "svc.local", 8443, ""), "svc.local:8443"),
        (BackendTarget("http", "fd00::5", 9000, ""), "[fd00::5]:9000"),
    ],
)
def test_the_host_header_names_the_backend(target: BackendTarget, host_header: str) -> None:
    assert target.host_header == host_header


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "BACKEND_URL is not set"),
        ({"BACKEND_URL": "ftp://10.0.0.1"}, "BACKEND_URL must start with http:// or https://"),
        ({"BACKEND_URL": "http://user:pw@10.0.0.1"}, "BACKEND_URL must not contain credentials"),
        ({"BACKEND_URL": "http://10.0.0.1/?x=1"}, "BACKEND_URL must not contain a query string"),
        ({"BACKEND_URL": "http://10.0.0.1:99999"}, "BACKEND_URL is not a valid URL"),
        ({"BACKEND_URL": "http:///path"}, "BACKEND_URL has no host"),
        ({"BACKEND_URL": "http://orders..internal"}, "not a valid DNS name"),
        ({"BACKEND_URL": "http://a/public/../private"}, "without '.' or '..' segments"),
        ({"BACKEND_URL": "http://a/%2e/x"}, "without '.' or '..' segments"),
        ({"BACKEND_URL": "http://a/has space"}, "URI path characters"),
        ({"BACKEND_URL": "http://a/100%"}, "URI path characters"),
        (
            {"BACKEND_URL": "http://a", "BACKEND_TIMEOUT_SECONDS": "soon"},
            "BACKEND_TIMEOUT_SECONDS must be a number",
        ),
        ({"BACKEND_URL": "http://a", "BACKEND_TIMEOUT_SECONDS": "29"}, "at most 28"),
        ({"BACKEND_URL": "http://a", "BACKEND_TIMEOUT_SECONDS": "0"}, "above 0"),
        ({"BACKEND_URL": "http://a", "BACKEND_TIMEOUT_SECONDS": "nan"}, "above 0"),
        (
            {"BACKEND_URL": "http://a", "BACKEND_CA_BUNDLE": "/no/such.pem"},
            "BACKEND_CA_BUNDLE names no readable file",
        ),
        (
            {"BACKEND_URL": "http://a", "INTEGRATION_MODE": "HTTP_PROXY"},
            "INTEGRATION_MODE must be VTL, PROXY or STREAM",
        ),
        (
            {"BACKEND_URL": "http://a", "CORS_ALLOW_ORIGIN": "app.example.com"},
            "CORS_ALLOW_ORIGIN must be \\* or one origin like https://app.example.com",
        ),
    ],
)
def test_bad_settings_fail_with_a_message_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(environ)


@pytest.mark.parametrize(("value", "origin"), [(" https://app.example.com ", "https://app.example.com"), ("*", "*")])
def test_cors_allow_origin_is_one_origin_or_any(value: str, origin: str) -> None:
    assert load_config({"BACKEND_URL": "http://a", "CORS_ALLOW_ORIGIN": value}).cors_allow_origin == origin


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "AUTH_TOKENS_PARAMETER must be an SSM parameter name starting with '/', got ''"),
        ({"AUTH_TOKENS_PARAMETER": "client-tokens"}, "AUTH_TOKENS_PARAMETER must be an SSM parameter name"),
        ({"AUTH_TOKENS_PARAMETER": "/t", "TOKEN_CACHE_SECONDS": "3601"}, "TOKEN_CACHE_SECONDS must be a whole number"),
        ({"AUTH_TOKENS_PARAMETER": "/t", "TOKEN_CACHE_SECONDS": "1.5"}, "from 0 to 3600, got '1.5'"),
    ],
)
def test_the_authorizers_bad_settings_fail_with_a_message_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(AuthorizerConfigError, match=message):
        load_authorizer_config(environ)


def test_the_default_timeout_is_well_inside_api_gateways_29_seconds() -> None:
    assert load_config({"BACKEND_URL": "http://a"}).timeout_seconds == 20.0


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        (None, IntegrationMode.VTL),
        ("VTL", IntegrationMode.VTL),
        ("proxy", IntegrationMode.PROXY),
        ("STREAM", IntegrationMode.STREAM),
    ],
)
def test_the_integration_mode_defaults_to_mapping_templates(value: str | None, mode: IntegrationMode) -> None:
    environ = {"BACKEND_URL": "http://a"} | ({"INTEGRATION_MODE": value} if value else {})

    assert load_config(environ).integration_mode is mode


@pytest.mark.parametrize(
    ("settings", "withheld"),
    [
        ({}, set()),
        ({"AUTH_MODE": "NONE"}, set()),
        ({"AUTH_MODE": "TOKEN"}, {"authorization"}),
        ({"AUTH_MODE": "COGNITO"}, {"authorization"}),
        ({"AUTH_MODE": "IAM"}, {"authorization", "x-amz-security-token"}),
        ({"AUTH_MODE": "NONE", "API_KEY_REQUIRED": "true"}, {"x-api-key"}),
        ({"AUTH_MODE": "TOKEN", "API_KEY_REQUIRED": "true"}, {"authorization", "x-api-key"}),
        ({"AUTH_MODE": "IAM", "API_KEY_REQUIRED": "true", "FORWARD_GATEWAY_CREDENTIALS": "true"}, set()),
    ],
)
def test_the_credentials_api_gateway_consumed_are_withheld_unless_forwarding_is_asked_for(
    settings: dict[str, str], withheld: set[str]
) -> None:
    assert load_config({"BACKEND_URL": "http://a", **settings}).withheld_headers == withheld


@pytest.mark.parametrize(("forward", "withheld"), [("false", True), ("true", False)])
def test_iam_withholds_a_presigned_urls_query_credentials_too(forward: str, withheld: bool) -> None:
    config = load_config({"BACKEND_URL": "http://a", "AUTH_MODE": "IAM", "FORWARD_GATEWAY_CREDENTIALS": forward})

    assert ({"x-amz-signature", "x-amz-credential", "x-amz-security-token"} <= config.withheld_query) is withheld
    assert load_config({"BACKEND_URL": "http://a", "AUTH_MODE": "TOKEN"}).withheld_query == frozenset()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"AUTH_MODE": "OAUTH"}, "AUTH_MODE must be one of NONE, TOKEN, COGNITO, IAM"),
        ({"API_KEY_REQUIRED": "yes"}, "API_KEY_REQUIRED must be true or false"),
        ({"FORWARD_GATEWAY_CREDENTIALS": "1"}, "FORWARD_GATEWAY_CREDENTIALS must be true or false"),
    ],
)
def test_bad_credential_settings_fail_at_init(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({"BACKEND_URL": "http://a", **settings})
