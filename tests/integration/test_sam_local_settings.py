"""What lets `sam local` point the authorizer at a local SSM API, and why it never reaches a deployed stack.

Two SAM CLI facts shape template.yaml's AWS_ENDPOINT_URL_SSM; these tests run SAM CLI's own code for them (no
Docker needed): --env-vars overrides only variables the template declares, and an Fn::If with AWS::NoValue reaches
the function as an empty string, which boto3 ignores.
"""

from typing import Any

import boto3
import pytest
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.lambdafn.env_vars import EnvironmentVariables

from local_gateway.cfn import ResolvedTemplate
from local_gateway.sam_template import TEMPLATE_PATH, load_template
from tests.sam_local.sam_cli import REGION, samconfig_parameters

VARIABLE = "AWS_ENDPOINT_URL_SSM"
MOTO = "http://host.docker.internal:5000"


def authorizer_variables_under_sam_local() -> dict[str, Any]:
    """The authorizer's variables as `sam local invoke` reads template.yaml with samconfig.toml's overrides."""
    overrides = samconfig_parameters("local invoke")
    stacks, _ = SamLocalStackProvider.get_stacks(str(TEMPLATE_PATH), parameter_overrides=overrides)
    function = SamFunctionProvider(stacks).get("AuthorizerFunction")
    assert function is not None
    assert function.environment is not None
    variables: dict[str, Any] = function.environment["Variables"]
    return variables


def resolved_by_sam_local(overrides: dict[str, str]) -> dict[str, str]:
    """What SAM CLI hands the container, given --env-vars values for the authorizer."""
    environment = EnvironmentVariables(
        function_name="AuthorizerFunction", variables=authorizer_variables_under_sam_local(), override_values=overrides
    )
    resolved: dict[str, str] = environment.resolve()
    return resolved


def test_sam_local_declares_the_variable_empty_so_boto3_keeps_its_default_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    value = resolved_by_sam_local({})[VARIABLE]
    monkeypatch.setenv(VARIABLE, value)

    assert value == ""
    assert boto3.client("ssm", region_name=REGION).meta.endpoint_url == f"https://ssm.{REGION}.amazonaws.com"


def test_env_vars_set_the_declared_variable_and_drop_undeclared_ones() -> None:
    resolved = resolved_by_sam_local({VARIABLE: MOTO, "AWS_ENDPOINT_URL_STS": MOTO})

    assert resolved[VARIABLE] == MOTO
    assert "AWS_ENDPOINT_URL_STS" not in resolved


@pytest.mark.parametrize("environment", ["default", "dev", "prod"])
def test_no_deployed_stack_gets_the_variable(environment: str) -> None:
    """The condition compares the stack name with "", and CloudFormation names every stack (1-128 characters)."""
    template = load_template()
    assert template["Conditions"]["SamLocalOnly"] == {"Fn::Equals": [{"Ref": "AWS::StackName"}, ""]}
    declared = template["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"][VARIABLE]
    assert declared == {"Fn::If": ["SamLocalOnly", "", {"Ref": "AWS::NoValue"}]}

    parameters = {} if environment == "default" else samconfig_parameters("deploy", environment)
    deployed = ResolvedTemplate(template, parameters).resources["AuthorizerFunction"]["Properties"]
    assert VARIABLE not in deployed["Environment"]["Variables"]
