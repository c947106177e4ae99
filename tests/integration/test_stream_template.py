"""IntegrationMode=STREAM in template.yaml: the streaming integration on both routes, the function that streams
(its wrapper, handler and timeout), each as SAM translates it and CloudFormation would resolve it."""

import stat
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from local_gateway.cfn import ResolvedTemplate
from local_gateway.sam_template import load_template
from tests.integration.test_template_gates import pinned_template
from tests.support.sam import translate
from tests.support.streaming_runtime import TASK_ROOT, WRAPPER

STREAM_TIMEOUTS = load_template()["Parameters"]["StreamTimeoutSeconds"]["AllowedValues"]
ROUTES = ("/", "/{proxy+}")


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


def deployed(parameters: dict[str, str]) -> dict[str, Any]:
    """The resources CloudFormation creates from SAM's output with these parameters."""
    translated = translate(load_template(), parameters)
    resources: dict[str, Any] = ResolvedTemplate(translated, parameters).resources
    return resources


def integrations(resources: dict[str, Any]) -> list[dict[str, Any]]:
    body = resources["ProxyApi"]["Properties"]["Body"]
    return [
        body["paths"][route]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"] for route in ROUTES
    ]


def function(resources: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = resources["ProxyFunction"]["Properties"]
    return properties


@pytest.mark.parametrize("seconds", STREAM_TIMEOUTS)
def test_stream_puts_the_streaming_integration_on_both_routes_with_the_streams_time_limit(seconds: str) -> None:
    resources = deployed({"IntegrationMode": "STREAM", "StreamTimeoutSeconds": seconds})

    for integration in integrations(resources):
        assert integration["type"] == "aws_proxy"
        assert integration["responseTransferMode"] == "STREAM"
        assert integration["uri"] == {
            "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2021-11-15/functions/"
            "${ProxyFunction.Arn}/response-streaming-invocations"
        }
        # A number in the API definition, as the developer guide's own example writes it (timeoutInMillis: 900000).
        assert integration["timeoutInMillis"] == int(seconds) * 1000
        assert "requestTemplates" not in integration
    assert function(resources)["Timeout"] == seconds


def test_stream_starts_the_packages_runtime_client_through_the_wrapper() -> None:
    streaming = function(deployed({"IntegrationMode": "STREAM"}))

    assert streaming["Handler"] == "proxy.stream_handler.lambda_handler"
    assert streaming["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"] == "/var/task/stream-wrapper"
    assert streaming["Environment"]["Variables"]["INTEGRATION_MODE"] == "STREAM"
    # /var/task is the package root: where proxy_fn/Makefile installs the wrapper, executable.
    assert 'install -m 755 stream-wrapper "$(ARTIFACTS_DIR)/"' in (TASK_ROOT / "Makefile").read_text()
    assert WRAPPER.stat().st_mode & stat.S_IXUSR


@pytest.mark.parametrize("mode", ["VTL", "PROXY"])
def test_the_buffered_modes_keep_their_handler_timeout_and_runtime(mode: str) -> None:
    resources = deployed({"IntegrationMode": mode})

    buffered = function(resources)
    assert (buffered["Handler"], buffered["Timeout"]) == ("proxy.handler.lambda_handler", 29)
    assert buffered["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"] == ""  # the runtime's bootstrap: no wrapper
    for integration in integrations(resources):
        assert "responseTransferMode" not in integration
        assert integration["timeoutInMillis"] == 29000
        assert integration["uri"]["Fn::Sub"].endswith("/2015-03-31/functions/${ProxyFunction.Arn}/invocations")


def test_stream_lints_clean() -> None:
    # W1028 (unreachable Fn::If branch) is what pinning one mode means; `make validate` lints with every rule.
    config = ManualArgs(regions=["eu-west-1", "us-east-1"], ignore_checks=["W1028"])
    template = pinned_template({"IntegrationMode": "STREAM", "StreamTimeoutSeconds": "900"})

    assert [str(match) for match in lint(template, config=config)] == []


def test_api_gateway_may_invoke_the_function_with_the_one_action_streaming_needs() -> None:
    permission = deployed({"IntegrationMode": "STREAM"})["ProxyFunctionInvokePermission"]["Properties"]

    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"] == "apigateway.amazonaws.com"
