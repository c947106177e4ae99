"""SnapStart=PublishedVersions: the proxy publishes a version behind an alias, and the API and its permission name
the alias; SnapStart=None (the default) deploys what the template deployed before. After a restore the proxy keeps
no pooled connection. (Nothing here can measure a restore: that needs AWS.)"""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from local_gateway.cfn import ResolvedTemplate
from local_gateway.sam_template import load_template
from tests.support.backend import RecordingBackend
from tests.support.processes import fresh_interpreter
from tests.support.sam import translate

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OWN_BACKEND = {
    "BackendUrl": "http://10.0.1.25:8080",
    "SubnetIds": ["subnet-0123456789abcdef0"],
    "SecurityGroupIds": ["sg-0123456789abcdef0"],
}


def deployed(monkeypatch: pytest.MonkeyPatch, **settings: str) -> dict[str, Any]:
    """The resources CloudFormation would create: SAM's translation, with the conditions resolved."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    parameters: dict[str, Any] = {**OWN_BACKEND, **settings}
    translated = translate(load_template(), parameters)
    as_strings = {name: ",".join(value) if isinstance(value, list) else value for name, value in parameters.items()}
    resources: dict[str, Any] = ResolvedTemplate(translated, as_strings).resources
    return resources


def integration_uris(resources: dict[str, Any]) -> list[Any]:
    paths = resources["ProxyApi"]["Properties"]["Body"]["paths"]
    return [paths[path]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]["uri"] for path in paths]


@pytest.mark.parametrize("integration_mode", ["VTL", "PROXY"])
def test_snapstart_publishes_a_version_and_the_api_invokes_its_alias(
    monkeypatch: pytest.MonkeyPatch, integration_mode: str
) -> None:
    resources = deployed(monkeypatch, SnapStart="PublishedVersions", IntegrationMode=integration_mode)

    function = resources["ProxyFunctionWithSnapStart"]
    assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert "ProxyFunction" not in resources
    [version] = [name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Version"]
    assert resources[version]["DeletionPolicy"] == "Delete"  # a kept version would keep its snapshot billed
    alias = resources["ProxyFunctionWithSnapStartAliaslive"]
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version, "Version"]}
    for uri in integration_uris(resources):
        assert "${ProxyFunctionWithSnapStartAliaslive}" in uri["Fn::Sub"]
    permission = resources["ProxyFunctionInvokePermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "ProxyFunctionWithSnapStartAliaslive"}


@pytest.mark.parametrize("integration_mode", ["VTL", "PROXY"])
def test_without_snapstart_nothing_is_published_and_the_api_invokes_the_function(
    monkeypatch: pytest.MonkeyPatch, integration_mode: str
) -> None:
    resources = deployed(monkeypatch, IntegrationMode=integration_mode)

    assert "ProxyFunctionWithSnapStart" not in resources
    assert "SnapStart" not in resources["ProxyFunction"]["Properties"]
    assert not [name for name, r in resources.items() if r["Type"] in ("AWS::Lambda::Version", "AWS::Lambda::Alias")]
    for uri in integration_uris(resources):
        assert "${ProxyFunction.Arn}" in uri["Fn::Sub"]
    permission = resources["ProxyFunctionInvokePermission"]["Properties"]
    assert permission["FunctionName"] == {"Fn::GetAtt": ["ProxyFunction", "Arn"]}


def test_both_functions_are_the_same_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SnapStart variant is ProxyFunction's properties plus the SnapStart settings: nothing else differs."""
    plain = deployed(monkeypatch)["ProxyFunction"]["Properties"]
    snapshotted = dict(deployed(monkeypatch, SnapStart="PublishedVersions")["ProxyFunctionWithSnapStart"]["Properties"])

    assert snapshotted.pop("SnapStart") == {"ApplyOn": "PublishedVersions"}
    assert json.dumps(snapshotted, sort_keys=True).replace("ProxyFunctionWithSnapStartRole", "ProxyFunctionRole") == (
        json.dumps(plain, sort_keys=True)
    )


RESTORE = """
import json, sys, types
sys.path[:0] = [sys.argv[1]]
registered = []
sys.modules["snapshot_restore_py"] = types.SimpleNamespace(register_after_restore=registered.append)
from proxy import handler
from proxy.upstream import UpstreamRequest
handler.BACKEND.send(UpstreamRequest("GET", "/before-snapshot", [("Host", "backend")], b""))
for hook in registered:
    hook()
handler.BACKEND.send(UpstreamRequest("GET", "/after-restore", [("Host", "backend")], b""))
print(json.dumps({"hooks": len(registered)}))
"""


@pytest.mark.parametrize("initialization", ["snap-start", "on-demand"])
def test_after_a_restore_no_pooled_connection_is_reused(backend: RecordingBackend, initialization: str) -> None:
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("BACKEND_", "AWS_LAMBDA"))},
        "BACKEND_URL": backend.url,
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization,
    }
    result = fresh_interpreter(RESTORE, str(PROJECT_ROOT / "proxy_fn"), env=environment)
    assert result.returncode == 0, result.stderr

    hooks = json.loads(result.stdout.splitlines()[-1])["hooks"]
    assert [request.target for request in backend.requests] == ["/before-snapshot", "/after-restore"]
    if initialization == "snap-start":  # the request after the restore opens its own connection
        assert (hooks, backend.connections_opened) == (1, 2)
    else:  # without SnapStart the hooks library is not even imported, and the pooled connection is kept
        assert (hooks, backend.connections_opened) == (0, 1)
