"""Changing the API (a mapping template, a route) changes the Deployment's logical id, so the stage redeploys."""

import copy
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from local_gateway.sam_template import load_template

PARAMETERS = {
    "BackendUrl": "http://10.0.1.25:8080",
    "SubnetIds": ["subnet-0123456789abcdef0"],
    "SecurityGroupIds": ["sg-0123456789abcdef0"],
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "private-api-proxy",
}


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    """The translator resolves the partition from the region, as `sam deploy` would."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


class _NoManagedPolicies:
    """The template names no managed policy by name, so SAM never needs IAM to look one up."""

    def load(self) -> dict[str, str]:
        return {}


def deployment_ids(template: dict[str, Any]) -> set[str]:
    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():  # what `sam deploy` uploads: code in S3
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts-bucket/function.zip"
    resources = transform(packaged, PARAMETERS, _NoManagedPolicies())["Resources"]
    return {name for name, resource in resources.items() if resource["Type"] == "AWS::ApiGateway::Deployment"}


def test_the_same_template_keeps_its_deployment() -> None:
    template = load_template()

    assert len(deployment_ids(template)) == 1
    assert deployment_ids(template) == deployment_ids(template)


def test_a_changed_request_template_creates_a_new_deployment() -> None:
    template = load_template()
    changed = copy.deepcopy(template)
    integration = changed["Resources"]["ProxyApi"]["Properties"]["DefinitionBody"]["paths"]["/"][
        "x-amazon-apigateway-any-method"
    ]["x-amazon-apigateway-integration"]
    integration["requestTemplates"]["application/json"] += "\n## changed"

    assert deployment_ids(changed) != deployment_ids(template)
