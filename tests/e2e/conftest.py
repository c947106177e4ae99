"""Fixtures for the tests against a deployed stack, and the table of API Gateway assumptions they print.

`STACK_NAME=<stack> make e2e` (AWS credentials for the stack's account and region): the stack's outputs and
parameters come from CloudFormation, every request goes over HTTPS the way a client's would. In TOKEN mode a
throwaway client token is minted into the stack's parameter once per session and removed afterwards.
"""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3

from tests.e2e.assumptions import ASSUMPTIONS
from tests.support.assumption_report import ASSUMPTION_MARKER, assumption_outcomes, assumption_table
from tests.support.deployed import HTTP, STACK_NAME, Call, Caller, Stack, wait_until_accepted
from tests.support.folder_skip import skip_folder

_STACK_KEY = pytest.StashKey[Stack]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> None:
    """Without a stack the folder skips as a whole, with one line (tests/support/folder_skip.py)."""
    if file_path.name.startswith("test_") and not STACK_NAME:
        skip_folder(
            parent.config,
            f"no deployed stack configured, so the deployed API and its {len(ASSUMPTIONS)} API Gateway assumptions are "
            "not checked against AWS: run `STACK_NAME=<your stack> make e2e` with AWS credentials",
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each report of a linked test carries its assumption id, for the summary table."""
    for item in items:
        marker = item.get_closest_marker(ASSUMPTION_MARKER)
        if marker is not None:
            item.user_properties.append((ASSUMPTION_MARKER, marker.args[0]))


@pytest.fixture(scope="session")
def stack(pytestconfig: pytest.Config) -> Stack:
    import boto3

    description = boto3.client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    found = Stack(
        name=STACK_NAME,
        outputs={output["OutputKey"]: output["OutputValue"] for output in description.get("Outputs", [])},
        parameters={item["ParameterKey"]: item.get("ParameterValue", "") for item in description["Parameters"]},
    )
    pytestconfig.stash[_STACK_KEY] = found
    return found


@pytest.fixture(scope="session")
def api_url(stack: Stack) -> str:
    return stack.api_url


@pytest.fixture(scope="session")
def stack_mode(stack: Stack) -> str:
    return stack.mode


@pytest.fixture(scope="session")
def caller(stack: Stack) -> Iterator[Caller]:
    """A fresh bearer token (TOKEN) and the API key when one is required."""
    import boto3

    headers: dict[str, str] = {}
    if "ApiKeyId" in stack.outputs:
        key = boto3.client("apigateway").get_api_key(apiKey=stack.outputs["ApiKeyId"], includeValue=True)
        headers["x-api-key"] = key["value"]
    if stack.auth_mode in ("COGNITO", "IAM"):
        pytest.skip(f"AuthMode {stack.auth_mode}: the e2e suite signs requests for NONE and TOKEN stacks only")
    if stack.auth_mode != "TOKEN":
        yield Caller(headers, None)
        return
    from tools.mint_token import mint

    ssm = boto3.client("ssm")
    parameter = stack.outputs["AuthTokensParameterName"]
    client = f"e2e-{uuid.uuid4().hex[:8]}"
    headers["Authorization"] = f"Bearer {mint(ssm, parameter, client, replace=True, kms_key_id=None)}"
    wait_until_accepted(stack.api_url, headers, float(stack.parameters.get("TokenCacheSeconds", "60")) + 30)
    try:
        yield Caller(headers, client)
    finally:
        value = json.loads(ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"])
        value.pop(client, None)
        ssm.put_parameter(Name=parameter, Value=json.dumps(value), Type="SecureString", Overwrite=True)


@pytest.fixture(scope="session")
def credentials(caller: Caller) -> dict[str, str]:
    return caller.headers


@pytest.fixture(scope="session")
def call(api_url: str, credentials: dict[str, str]) -> Call:
    """A request to the API as its client sends it: credentials added, redirects not followed."""

    def request(method: str, path: str, **options: Any) -> urllib3.BaseHTTPResponse:
        headers = {**credentials, **options.pop("headers", {})}
        return HTTP.request(method, api_url + path, headers=headers, redirect=False, **options)

    return request


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    outcomes = assumption_outcomes(terminalreporter.stats)
    if not outcomes:
        return  # no assumption test ran: no stack, or another folder (e.g. `make unit`)
    stack = config.stash.get(_STACK_KEY, None)
    title = "API Gateway assumptions"
    if stack is not None:
        title += f" on stack {stack.name} (IntegrationMode={stack.mode}, AuthMode={stack.auth_mode})"
    terminalreporter.section(title, sep="=")
    for line in assumption_table(ASSUMPTIONS, outcomes):
        terminalreporter.write_line(line)
