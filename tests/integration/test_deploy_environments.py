"""samconfig.toml's deploy environments (default, dev, prod): what each hands CloudFormation."""

import pytest
from samcli.lib.config.samconfig import SamConfig

from local_gateway.cfn import ResolvedTemplate
from local_gateway.sam_template import TEMPLATE_PATH, load_template
from tests.sam_local.sam_cli import samconfig_parameters

ENVIRONMENTS = ["default", "dev", "prod"]


def deploy_settings(environment: str) -> dict[str, str]:
    settings: dict[str, str] = SamConfig(str(TEMPLATE_PATH.parent)).get_all(
        ["deploy"], section="parameters", env=environment
    )
    return settings


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_acknowledges_the_nested_demo_application(environment: str) -> None:
    """Without CAPABILITY_AUTO_EXPAND, CloudFormation refuses a template with a nested application, and SAM CLI's
    guided deploy proposes samconfig.toml's capabilities (or CAPABILITY_IAM alone)."""
    assert load_template()["Resources"]["Demo"]["Type"] == "AWS::Serverless::Application"

    capabilities = set(deploy_settings(environment)["capabilities"].split())

    assert capabilities == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}


def test_each_environment_reads_its_own_client_tokens_so_a_dev_token_never_opens_prod() -> None:
    def tokens_parameter(environment: str) -> str:
        parameters = {} if environment == "default" else samconfig_parameters("deploy", environment)
        authorizer = ResolvedTemplate(load_template(), parameters).resources["AuthorizerFunction"]["Properties"]
        return str(authorizer["Environment"]["Variables"]["AUTH_TOKENS_PARAMETER"])

    parameters = {environment: tokens_parameter(environment) for environment in ENVIRONMENTS}

    assert len(set(parameters.values())) == len(ENVIRONMENTS), parameters
