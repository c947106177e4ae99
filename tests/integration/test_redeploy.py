"""Changing the API (a mapping template, a route) changes the Deployment's logical id, so the stage redeploys."""

import copy
from typing import Any

import pytest

from local_gateway.sam_template import load_template
from tests.support.sam import translate


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


def deployment_ids(template: dict[str, Any]) -> set[str]:
    resources = translate(template)["Resources"]
    return {name for name, resource in resources.items() if resource["Type"] == "AWS::ApiGateway::Deployment"}


def test_the_same_template_keeps_its_deployment() -> None:
    template = load_template()

    assert len(deployment_ids(template)) == 1
    assert deployment_ids(template) == deployment_ids(template)


def test_a_changed_request_template_creates_a_new_deployment() -> None:
    template = load_template()
    changed = copy.deepcopy(template)
    choice = changed["Resources"]["ProxyApi"]["Properties"]["DefinitionBody"]["paths"]["/"][
        "x-amazon-apigateway-any-method"
    ]["x-amazon-apigateway-integration"]
    _, _, mapping_templates = choice["Fn::If"]  # [UseProxyIntegration, AWS_PROXY, mapping templates]
    mapping_templates["requestTemplates"]["application/json"] += "\n## changed"

    assert deployment_ids(changed) != deployment_ids(template)
