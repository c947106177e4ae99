"""Every stack update deploys the API again, so what the parameters change in it reaches the stage.

SAM names the AWS::ApiGateway::Deployment after a hash of DefinitionBody taken with its intrinsic functions unresolved
(aws/serverless-application-model#914): without `AlwaysDeploy`, a stack updated from AuthMode=NONE to TOKEN, or to
another IntegrationMode, keeps the same deployment, and the stage goes on serving the API as first deployed.
"""

from typing import Any

import pytest

from local_gateway.sam_template import load_template
from tests.support.sam import translate


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


def deployment_ids(parameters: dict[str, Any], monkeypatch: pytest.MonkeyPatch, at: float) -> set[str]:
    """The deployments SAM's transform creates for a `sam deploy` run at time `at` (the transform runs per deploy)."""
    monkeypatch.setattr("samtranslator.model.apigateway.time.time", lambda: at)
    resources = translate(load_template(), parameters)["Resources"]
    return {name for name, resource in resources.items() if resource["Type"] == "AWS::ApiGateway::Deployment"}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"AuthMode": "NONE"}, {"AuthMode": "TOKEN"}),
        ({"IntegrationMode": "VTL"}, {"IntegrationMode": "PROXY"}),
        ({"IntegrationMode": "PROXY"}, {"IntegrationMode": "STREAM"}),
        ({"ApiKeyRequired": "false"}, {"ApiKeyRequired": "true"}),
    ],
)
def test_an_update_that_changes_the_api_through_a_parameter_deploys_it_again(
    before: dict[str, str], after: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = deployment_ids(before, monkeypatch, at=1_767_225_600)
    updated = deployment_ids(after, monkeypatch, at=1_767_225_900)

    assert len(first) == len(updated) == 1
    assert first != updated


def test_an_update_with_the_same_template_and_parameters_deploys_it_again_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost of the rule above: one new deployment per update, which replaces the previous one."""
    first = deployment_ids({}, monkeypatch, at=1_767_225_600)
    again = deployment_ids({}, monkeypatch, at=1_767_225_900)

    assert len(first) == len(again) == 1
    assert first != again
