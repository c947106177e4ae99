"""The parameter combinations CloudFormation refuses before it creates anything (template.yaml's Rules)."""

from typing import Any

import pytest

from local_gateway.cfn import ResolvedTemplate
from local_gateway.sam_template import load_template

NETWORK = {"SubnetIds": "subnet-0a,subnet-0b", "SecurityGroupIds": "sg-01"}
OWN_BACKEND = {"BackendUrl": "http://10.0.1.25:8080", **NETWORK}

# CloudFormation's "Rule functions" page: "you can use the following functions within all other rule-specific
# intrinsic functions: Ref; Other rule-specific intrinsic functions".
RULE_FUNCTIONS = {
    "Ref",
    "Fn::And",
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::Equals",
    "Fn::Not",
    "Fn::Or",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
}


def refusals(parameters: dict[str, str]) -> list[str]:
    return ResolvedTemplate(load_template(), parameters).refusals


@pytest.mark.parametrize(
    "parameters",
    [{}, OWN_BACKEND, {**OWN_BACKEND, "AuthMode": "COGNITO", "CognitoUserPoolArn": "arn:aws:cognito-idp:x"}],
    ids=["demo", "own-backend", "cognito"],
)
def test_complete_settings_deploy(parameters: dict[str, str]) -> None:
    assert refusals(parameters) == []


@pytest.mark.parametrize(
    ("parameters", "refusal"),
    [
        ({**OWN_BACKEND, "SubnetIds": ""}, "With your own BackendUrl, give SubnetIds (private subnets that reach it)"),
        ({**OWN_BACKEND, "SecurityGroupIds": ""}, "With your own BackendUrl, give SecurityGroupIds for the proxy"),
        (NETWORK, "SubnetIds and SecurityGroupIds are for your own BackendUrl: give BackendUrl too, or leave all"),
        ({"SubnetIds": "subnet-0a"}, "SubnetIds and SecurityGroupIds are for your own BackendUrl"),
        ({"AuthMode": "COGNITO"}, "AuthMode COGNITO needs CognitoUserPoolArn"),
    ],
    ids=["no-subnets", "no-security-groups", "network-without-backend", "subnets-only", "cognito-without-pool"],
)
def test_an_incomplete_setting_is_refused_before_anything_is_created(parameters: dict[str, str], refusal: str) -> None:
    """Without BackendUrl, forgotten or not, the stack would otherwise build the demo VPC and its instance."""
    (only,) = refusals(parameters)
    assert only.startswith(refusal)


def _functions(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_functions, node))
    if isinstance(node, dict):
        return set(node) | set().union(*map(_functions, node.values()))
    return set()


def test_rules_use_only_the_functions_cloudformation_accepts_in_rules() -> None:
    for name, rule in load_template()["Rules"].items():
        used = _functions(rule.get("RuleCondition", {})) | _functions([a["Assert"] for a in rule["Assertions"]])
        assert used <= RULE_FUNCTIONS, f"{name} uses {sorted(used - RULE_FUNCTIONS)}"
