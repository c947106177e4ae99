"""Reads the API definition out of template.yaml (CloudFormation's short-form tags, YAML anchors)."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from local_gateway.cfn import ResolvedTemplate
from local_gateway.gateway_responses import GatewayResponse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
AWS_PROXY = "aws_proxy"
STREAM = "STREAM"  # an integration's responseTransferMode that streams the answer
_RESPONSE_PARAMETER = "method.response.header."


@dataclass(frozen=True)
class IntegrationResponse:
    """One entry of an integration's `responses`: chosen by `selection_pattern`, or the default when None."""

    status: int
    selection_pattern: str | None
    content_handling: str | None
    template: str | None  # the application/json response template, the only one the API defines
    static_headers: tuple[tuple[str, str], ...] = ()  # responseParameters with a quoted static value


@dataclass(frozen=True)
class MockIntegration:
    """The CORS preflight: a mock integration whose request template names the status."""

    request_template: str
    responses: tuple[IntegrationResponse, ...]


@dataclass(frozen=True)
class ProxyIntegration:
    """The parts of the REST API the gateway needs to behave like the deployed one, for one IntegrationMode."""

    type: str  # "aws" (mapping templates) or "aws_proxy"
    request_templates: dict[str, str]
    passthrough_behavior: str
    request_content_handling: str | None
    responses: tuple[IntegrationResponse, ...]
    binary_media_types: list[str]
    paths: list[str]
    preflight: MockIntegration | None = None
    timeout_ms: int = 29_000
    response_transfer_mode: str = "BUFFERED"  # or STREAM: the answer goes to the client as the function streams it


class _TemplateLoader(yaml.SafeLoader):
    """YAML as SAM CLI reads a template (samcli/yamlhelper.py), without SAM CLI: `make local` does not install it.

    A short-form tag becomes its long form (`!Ref X` -> {"Ref": "X"}, `!GetAtt A.B` -> {"Fn::GetAtt": ["A", "B"]},
    `!Sub s` -> {"Fn::Sub": "s"}), and a date stays the string written, as CloudFormation reads it.
    """


def _intrinsic_function(loader: _TemplateLoader, name: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name if name in ("Ref", "Condition") else f"Fn::{name}": value}


def _as_written(loader: _TemplateLoader, node: yaml.Node) -> str:
    return loader.construct_scalar(node)  # type: ignore[arg-type]


yaml.add_multi_constructor("!", _intrinsic_function, Loader=_TemplateLoader)
yaml.add_constructor("tag:yaml.org,2002:timestamp", _as_written, Loader=_TemplateLoader)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """A template in YAML, or the JSON `sam build` writes."""
    text = path.read_text(encoding="utf-8")
    parsed: dict[str, Any] = json.loads(text) if path.suffix == ".json" else yaml.load(text, _TemplateLoader)  # noqa: S506
    return parsed


def load_proxy_integration(path: Path = TEMPLATE_PATH, parameters: Mapping[str, str] | None = None) -> ProxyIntegration:
    """The integration of `ANY /` as deployed with these template parameters (the defaults otherwise)."""
    api = ResolvedTemplate(load_template(path), dict(parameters or {})).resources["ProxyApi"]["Properties"]
    paths = api["DefinitionBody"]["paths"]
    root = paths["/"]
    integration = root["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
    preflight = root.get("options", {}).get("x-amazon-apigateway-integration")
    return ProxyIntegration(
        type=integration["type"].lower(),
        request_templates=dict(integration.get("requestTemplates", {})),
        passthrough_behavior=integration.get("passthroughBehavior", "when_no_match").upper(),
        request_content_handling=integration.get("contentHandling"),
        responses=_integration_responses(integration),
        # SAM writes '/' as '~1' in BinaryMediaTypes.
        binary_media_types=[media.replace("~1", "/") for media in api.get("BinaryMediaTypes", [])],
        paths=list(paths),
        preflight=(
            MockIntegration(preflight["requestTemplates"]["application/json"], _integration_responses(preflight))
            if preflight
            else None
        ),
        timeout_ms=int(integration.get("timeoutInMillis", 29_000)),
        response_transfer_mode=integration.get("responseTransferMode", "BUFFERED").upper(),
    )


def _integration_responses(integration: dict[str, Any]) -> tuple[IntegrationResponse, ...]:
    return tuple(
        IntegrationResponse(
            status=int(response["statusCode"]),
            selection_pattern=None if key == "default" else key,
            content_handling=response.get("contentHandling"),
            template=response.get("responseTemplates", {}).get("application/json"),
            static_headers=tuple(
                (name.removeprefix(_RESPONSE_PARAMETER), value.strip("'"))
                for name, value in response.get("responseParameters", {}).items()
                if name.startswith(_RESPONSE_PARAMETER) and value.startswith("'")
            ),
        )
        for key, response in integration.get("responses", {}).items()
    )


@dataclass(frozen=True)
class GatewaySettings:
    """Parameter defaults and API-level settings of template.yaml that the local gateway honours."""

    parameters: dict[str, str]
    gateway_responses: dict[str, GatewayResponse]
    token_validation_expression: str


def load_gateway_settings(path: Path = TEMPLATE_PATH, parameters: Mapping[str, str] | None = None) -> GatewaySettings:
    """The gateway responses as deployed with these template parameters (CORS adds headers to them)."""
    template = load_template(path)
    resolved = ResolvedTemplate(template, dict(parameters or {}))
    body = resolved.resources["ProxyApi"]["Properties"]["DefinitionBody"]
    bearer = template["Resources"]["ProxyApi"]["Properties"]["DefinitionBody"]["components"]["securitySchemes"]
    return GatewaySettings(
        parameters={name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()},
        gateway_responses={
            name: GatewayResponse(
                template=response["responseTemplates"]["application/json"],
                headers=tuple(
                    (name.removeprefix("gatewayresponse.header."), source)
                    for name, source in response.get("responseParameters", {}).items()
                ),
            )
            for name, response in body["x-amazon-apigateway-gateway-responses"].items()
        },
        token_validation_expression=bearer["BearerToken"]["Fn::If"][1]["x-amazon-apigateway-authorizer"][
            "identityValidationExpression"
        ],
    )
