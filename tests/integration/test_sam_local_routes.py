"""`sam local start-api` mounts every route and method, found by SAM CLI's own route discovery."""

from pathlib import Path

import pytest
from samcli.cli.types import CfnParameterOverridesType
from samcli.lib.config.samconfig import SamConfig
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

PROJECT_ROOT = Path(__file__).resolve().parents[2]
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def samconfig_overrides(command: str) -> dict[str, str]:
    """The parameter_overrides that `sam local <command>` reads from samconfig.toml, parsed as SAM CLI does."""
    config = SamConfig(str(PROJECT_ROOT))
    raw = config.get_all(["local", command], section="parameters")["parameter_overrides"]
    parsed: dict[str, str] = CfnParameterOverridesType().convert(raw, None, None)
    return parsed


def mounted_routes(overrides: dict[str, str]) -> dict[str, set[str]]:
    stacks, _ = SamLocalStackProvider.get_stacks(str(PROJECT_ROOT / "template.yaml"), parameter_overrides=overrides)
    routes: dict[str, set[str]] = {}
    for route in ApiProvider(stacks).routes:
        assert route.function_name == "ProxyFunction"
        routes.setdefault(route.path, set()).update(route.methods)
    return routes


@pytest.mark.parametrize("command", ["start_api", "invoke"])
def test_samconfig_switches_sam_local_to_the_proxy_mount(command: str) -> None:
    assert samconfig_overrides(command)["IntegrationMode"] == "PROXY"


def test_sam_local_start_api_mounts_every_method_on_root_and_proxy_paths() -> None:
    assert mounted_routes(samconfig_overrides("start_api")) == {"/": METHODS, "/{proxy+}": METHODS}


def test_without_the_override_sam_cli_drops_the_vtl_routes() -> None:
    """Why the override exists: SAM CLI ignores `aws` (non-proxy) integrations in DefinitionBody."""
    assert mounted_routes({}) == {}


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_each_samconfig_environment_sets_real_parameters_to_allowed_values(environment: str) -> None:
    from local_gateway.sam_template import load_template

    config = SamConfig(str(PROJECT_ROOT))
    deploy = config.get_all(["deploy"], section="parameters", env=environment)
    overrides: dict[str, str] = CfnParameterOverridesType().convert(deploy["parameter_overrides"], None, None)
    parameters = load_template()["Parameters"]

    assert config.get_all(["deploy"], section="parameters", env=environment)["stack_name"].endswith(environment)
    for name, value in overrides.items():
        assert name in parameters, name
        assert value in [str(allowed) for allowed in parameters[name].get("AllowedValues", [value])], (name, value)
