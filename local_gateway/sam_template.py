"""Reads the API definition out of template.yaml, with SAM CLI's own YAML parser (CloudFormation tags, anchors)."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
DEFAULT_ERROR_PATTERN = "default"


@dataclass(frozen=True)
class ProxyIntegration:
    """The parts of the REST API the gateway needs to behave like the deployed one."""

    request_templates: dict[str, str]
    passthrough_behavior: str
    request_content_handling: str | None
    response_template: str
    response_content_handling: str | None
    error_response_template: str
    error_status: int
    binary_media_types: list[str]
    paths: list[str]
    timeout_ms: int = 29_000


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return parsed


def load_proxy_integration(path: Path = TEMPLATE_PATH) -> ProxyIntegration:
    api = load_template(path)["Resources"]["ProxyApi"]["Properties"]
    paths = api["DefinitionBody"]["paths"]
    integration = paths["/"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
    responses = integration["responses"]
    default = responses[DEFAULT_ERROR_PATTERN]
    error = next(value for key, value in responses.items() if key != DEFAULT_ERROR_PATTERN)
    return ProxyIntegration(
        request_templates=dict(integration["requestTemplates"]),
        passthrough_behavior=integration["passthroughBehavior"].upper(),
        request_content_handling=integration.get("contentHandling"),
        response_template=default["responseTemplates"]["application/json"],
        response_content_handling=default.get("contentHandling"),
        error_response_template=error["responseTemplates"]["application/json"],
        error_status=int(error["statusCode"]),
        # SAM writes '/' as '~1' in BinaryMediaTypes.
        binary_media_types=[media.replace("~1", "/") for media in api.get("BinaryMediaTypes", [])],
        paths=list(paths),
        timeout_ms=int(integration.get("timeoutInMillis", 29_000)),
    )


@dataclass(frozen=True)
class GatewaySettings:
    """Parameter defaults and API-level settings of template.yaml that the local gateway honours."""

    parameters: dict[str, str]
    gateway_response_templates: dict[str, str]
    token_validation_expression: str


def load_gateway_settings(path: Path = TEMPLATE_PATH) -> GatewaySettings:
    template = load_template(path)
    body = template["Resources"]["ProxyApi"]["Properties"]["DefinitionBody"]
    bearer = body["components"]["securitySchemes"]["BearerToken"]["Fn::If"][1]
    return GatewaySettings(
        parameters={name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()},
        gateway_response_templates={
            name: response["responseTemplates"]["application/json"]
            for name, response in body["x-amazon-apigateway-gateway-responses"].items()
        },
        token_validation_expression=bearer["x-amazon-apigateway-authorizer"]["identityValidationExpression"],
    )
