"""API Gateway's gates in template.yaml: every AuthMode, API keys, IP allowlist and CORS, linted and inspected."""

import json
import re
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from local_gateway.cfn import ResolvedTemplate
from local_gateway.integration import RestApiIntegration
from local_gateway.model import IntegrationContext, MethodRequest
from local_gateway.sam_template import TEMPLATE_PATH, load_proxy_integration, load_template
from tests.support.sam import translate

USER_POOL = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123"
VARIANTS = {
    "none": {"AuthMode": "NONE"},
    "token": {"AuthMode": "TOKEN"},
    "cognito": {"AuthMode": "COGNITO", "CognitoUserPoolArn": USER_POOL, "CognitoScopes": "orders/read,orders/write"},
    "iam": {"AuthMode": "IAM"},
    "token+keys+allowlist+cors": {
        "AuthMode": "TOKEN",
        "ApiKeyRequired": "true",
        "AllowedSourceCidrs": "203.0.113.0/24,198.51.100.7/32",
        "CorsAllowOrigin": "https://app.example.com",
    },
    "iam+keys+allowlist": {"AuthMode": "IAM", "ApiKeyRequired": "true", "AllowedSourceCidrs": "203.0.113.0/24"},
    "none+keys": {"AuthMode": "NONE", "ApiKeyRequired": "true"},
    "own-backend+alarm-email": {
        "BackendUrl": "http://10.0.1.25:8080",
        "SubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
        "SecurityGroupIds": "sg-0123456789abcdef0",
        "AlarmEmail": "ops@example.com",
    },
}


def pinned_template(settings: dict[str, str]) -> str:
    """template.yaml with these parameters as the only allowed values, so the linter checks this deployment."""
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    for name, value in settings.items():
        block = re.search(rf"^  {name}:\n(?:    .*\n)+", text, re.MULTILINE)
        assert block, name
        lines = [
            line for line in block.group(0).splitlines() if not line.startswith(("    Default:", "    AllowedValues:"))
        ]
        scalar = yaml.safe_dump(value).splitlines()[0]
        lines.insert(2, f"    Default: {scalar}")
        if name in ("AuthMode", "ApiKeyRequired"):
            lines.insert(3, f"    AllowedValues: [{scalar}]")
        text = text.replace(block.group(0), "\n".join(lines) + "\n")
    return text


def resolved(settings: dict[str, str]) -> ResolvedTemplate:
    return ResolvedTemplate(load_template(), settings)


def definition(settings: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = resolved(settings).resources["ProxyApi"]["Properties"]["DefinitionBody"]
    return body


def method_security(settings: dict[str, str]) -> Any:
    paths = definition(settings)["paths"]
    securities = [paths[path]["x-amazon-apigateway-any-method"].get("security") for path in ("/", "/{proxy+}")]
    assert securities[0] == securities[1]
    return securities[0]


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_lints_clean(variant: str) -> None:
    # W1028 (unreachable Fn::If branch) is what pinning one mode means; `make validate` lints with every rule.
    config = ManualArgs(regions=["eu-west-1", "us-east-1"], ignore_checks=["W1028"])
    matches = lint(pinned_template(VARIANTS[variant]), config=config)

    assert [str(match) for match in matches] == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_sams_translator_accepts_every_variant(variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    settings: dict[str, Any] = dict(VARIANTS[variant])
    for name in ("CognitoScopes", "AllowedSourceCidrs", "SubnetIds", "SecurityGroupIds"):
        if name in settings:
            settings[name] = settings[name].split(",")

    resources = translate(load_template(), settings)["Resources"]

    assert resources["ProxyApi"]["Type"] == "AWS::ApiGateway::RestApi"


@pytest.mark.parametrize(
    ("variant", "security"),
    [
        ("none", []),
        ("token", [{"BearerToken": []}]),
        ("cognito", [{"CognitoUserPool": ["orders/read", "orders/write"]}]),
        ("iam", [{"SigV4": []}]),
        ("token+keys+allowlist+cors", [{"BearerToken": [], "ApiKey": []}]),
        ("iam+keys+allowlist", [{"SigV4": [], "ApiKey": []}]),
        ("none+keys", [{"ApiKey": []}]),
    ],
)
def test_each_mode_puts_its_gate_on_every_method(variant: str, security: Any) -> None:
    assert method_security(VARIANTS[variant]) == security


def test_the_token_mode_creates_the_authorizer_and_nothing_else_does() -> None:
    token = resolved(VARIANTS["token"]).resources
    assert {"AuthorizerFunction", "AuthorizerInvokePermission", "AuthorizerFunctionLogGroup"} <= set(token)
    scheme = definition(VARIANTS["token"])["components"]["securitySchemes"]["BearerToken"]
    assert scheme["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"] == "300"
    for other in ("none", "cognito", "iam"):
        assert "AuthorizerFunction" not in resolved(VARIANTS[other]).resources


SSM_PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${AuthTokensParameter}"


def test_the_authorizer_may_read_the_token_parameter_and_nothing_more() -> None:
    policies = resolved(VARIANTS["token"]).resources["AuthorizerFunction"]["Properties"]["Policies"]

    assert policies == [
        {
            "Statement": [
                {
                    "Sid": "ReadTheTokenHashesOnly",
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": {"Fn::Sub": SSM_PARAMETER_ARN},
                }
            ]
        }
    ]


def test_api_keys_come_with_a_usage_plan() -> None:
    resources = resolved(VARIANTS["none+keys"]).resources
    plan = resources["ClientUsagePlan"]["Properties"]

    assert (plan["Throttle"], plan["Quota"]) == (
        {"RateLimit": "50", "BurstLimit": "100"},
        {"Limit": "100000", "Period": "DAY"},
    )
    assert resources["ClientUsagePlanKey"]["Properties"]["KeyId"] == {"Ref": "ClientApiKey"}
    assert "ClientUsagePlan" not in resolved(VARIANTS["none"]).resources


def test_stage_throttling_applies_to_every_method() -> None:
    settings = resolved({"AuthMode": "NONE"}).resources["ProxyApi"]["Properties"]["MethodSettings"]

    assert settings == [
        {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": "100", "ThrottlingBurstLimit": "200"}
    ]


def test_the_allowlist_denies_other_addresses_and_never_opens_iam_to_other_accounts() -> None:
    token_policy = definition(VARIANTS["token+keys+allowlist+cors"])["x-amazon-apigateway-policy"]
    iam_policy = definition(VARIANTS["iam+keys+allowlist"])["x-amazon-apigateway-policy"]

    deny = token_policy["Statement"][1]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7/32"]}}
    assert token_policy["Statement"][0]["Principal"] == "*"
    assert iam_policy["Statement"][0]["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    assert "x-amazon-apigateway-policy" not in definition(VARIANTS["token"])


GATEWAY_RESPONSES = [
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "MISSING_AUTHENTICATION_TOKEN",
    "THROTTLED",
    "QUOTA_EXCEEDED",
    "INTEGRATION_TIMEOUT",
    "DEFAULT_4XX",
    "DEFAULT_5XX",
]


def test_gateway_responses_are_json_with_the_request_id_and_carry_cors_when_on() -> None:
    plain = definition(VARIANTS["token"])["x-amazon-apigateway-gateway-responses"]
    with_cors = definition(VARIANTS["token+keys+allowlist+cors"])["x-amazon-apigateway-gateway-responses"]

    assert sorted(plain) == sorted([*GATEWAY_RESPONSES, "UNSUPPORTED_MEDIA_TYPE"])
    for response_type in GATEWAY_RESPONSES:
        template = plain[response_type]["responseTemplates"]["application/json"]
        assert template == '{"message": $context.error.messageString, "requestId": "$context.requestId"}'
        assert "responseParameters" not in plain[response_type]
    for response_type in with_cors:
        origin = with_cors[response_type]["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        assert origin == "'https://app.example.com'"


def test_the_415_names_the_refused_type_and_the_ways_out() -> None:
    unsupported = definition(VARIANTS["token"])["x-amazon-apigateway-gateway-responses"]["UNSUPPORTED_MEDIA_TYPE"]

    assert unsupported["responseParameters"] == {
        "gatewayresponse.header.X-Unsupported-Content-Type": "method.request.header.Content-Type"
    }
    message = json.loads(unsupported["responseTemplates"]["application/json"].replace("$context.requestId", "r"))
    assert "requestTemplates in template.yaml" in message["message"]
    assert "IntegrationMode=PROXY" in message["message"]


def test_cors_preflight_is_answered_by_a_mock_without_auth() -> None:
    paths = definition(VARIANTS["token+keys+allowlist+cors"])["paths"]

    for path in ("/", "/{proxy+}"):
        preflight = paths[path]["options"]
        assert "security" not in preflight
        assert preflight["x-amazon-apigateway-integration"]["type"] == "mock"
    assert "options" not in definition(VARIANTS["token"])["paths"]["/"]


def test_the_request_template_takes_the_caller_identity_only_from_context_authorizer() -> None:
    template = load_proxy_integration().request_templates["application/json"]
    integration = RestApiIntegration(load_proxy_integration(), lambda event: None, stage="v1")
    forged = MethodRequest("GET", "/", headers=[("X-Authenticated-Client", "admin"), ("principalId", "admin")])

    event = yaml.safe_load(integration.render_event(forged, IntegrationContext("r", 0)))  # type: ignore[arg-type]
    authorized = yaml.safe_load(
        integration.render_event(
            forged, IntegrationContext("r", 0), authorizer={"principalId": "acme", "client": "acme"}
        )  # type: ignore[arg-type]
    )

    assert set(re.findall(r"\$!?\{?(\w+)\.authorizer", template)) == {"context"}
    assert event["requestContext"]["authorizer"] == {"principalId": "", "client": "", "claims": {"sub": ""}}
    assert authorized["requestContext"]["authorizer"]["principalId"] == "acme"
    assert authorized["requestContext"]["authorizer"]["client"] == "acme"


def test_samconfig_runs_sam_local_start_api_without_the_authorizer() -> None:
    from tests.integration.test_sam_local_routes import samconfig_overrides

    assert samconfig_overrides("start_api")["AuthMode"] == "NONE"


def test_the_processed_template_stays_well_inside_cloudformations_1_mb(monkeypatch: pytest.MonkeyPatch) -> None:
    """The request template is copied per listed content type and per route: the list has a size budget.

    "The maximum size for a processed stack template is ... 1 MB when passed as an S3 object" (CloudFormation,
    template-macros-troubleshoot-processed-template.html); sam deploy uploads the template to S3.
    """
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    variant: dict[str, Any] = {**VARIANTS["token+keys+allowlist+cors"], "AllowedSourceCidrs": ["203.0.113.0/24"]}
    processed = len(json.dumps(translate(load_template(), variant)))

    assert processed < 700_000, f"{processed:,} bytes: shorten the request template or the content-type list"
