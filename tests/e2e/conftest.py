"""Fixtures for the tests against a deployed stack, and the table of API Gateway assumptions they print.

`STACK_NAME=<stack> make e2e` (AWS credentials for the stack's account and region): the stack's outputs and
parameters come from CloudFormation, every request goes over HTTPS the way a client's would. In TOKEN mode a
throwaway client token is minted into the stack's parameter once per session and removed afterwards.
"""

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import urllib3

from tests.e2e.assumptions import ASSUMPTIONS, Assumption
from tests.support.folder_skip import skip_folder

STACK_NAME = os.environ.get("STACK_NAME", "")
# Every test module here carries `pytestmark = E2E`.
E2E = [pytest.mark.e2e]
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=10, read=40))
ASSUMPTION_MARKER = "assumption"
_STACK_KEY = pytest.StashKey["Stack"]()


@dataclass(frozen=True)
class Stack:
    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    @property
    def mode(self) -> str:
        """IntegrationMode; a stack created before the parameter existed runs mapping templates."""
        return self.parameters.get("IntegrationMode") or "VTL"

    @property
    def auth_mode(self) -> str:
        return self.outputs["AuthMode"]

    @property
    def api_url(self) -> str:
        return self.outputs["ApiUrl"].rstrip("/")

    @property
    def stage(self) -> str:
        return self.api_url.rsplit("/", 1)[1]


@dataclass(frozen=True)
class Caller:
    """What a client of this stack sends: its credentials headers, and the client name TOKEN mode minted."""

    headers: dict[str, str]
    client: str | None


class Call(Protocol):
    def __call__(self, method: str, path: str, **options: Any) -> urllib3.BaseHTTPResponse: ...


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
    _wait_until_accepted(stack.api_url, headers, float(stack.parameters.get("TokenCacheSeconds", "60")) + 30)
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


def _wait_until_accepted(api_url: str, headers: dict[str, str], seconds: float) -> None:
    """A new token works once the authorizer's cached copy of the parameter expires (TokenCacheSeconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if HTTP.request("GET", f"{api_url}/status/200", headers=headers).status == 200:
            return
        time.sleep(5)
    pytest.fail("the minted token was not accepted within TokenCacheSeconds + 30 s")


def only_in(mode: str, stack_mode: str) -> None:
    """Skips a check that concerns one IntegrationMode on a stack deployed in the other."""
    if stack_mode != mode:
        pytest.skip(f"concerns IntegrationMode={mode}; this stack runs {stack_mode}")


# ---- The assumption table, printed after `make e2e` ----


@dataclass(frozen=True)
class Outcome:
    result: str
    observed: str = ""


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


def assumption_outcomes(stats: dict[str, list[Any]]) -> dict[str, Outcome]:
    """Each assumption id's result: a failure in any phase wins over a skip, a skip over a pass."""
    outcomes: dict[str, Outcome] = {}
    rank = {"pass": 0, "skipped": 1, "FAIL": 2}
    for reports in stats.values():
        for report in reports:
            properties = dict(getattr(report, "user_properties", []))
            assumption = properties.get(ASSUMPTION_MARKER)
            if assumption is None or not hasattr(report, "when"):
                continue
            outcome = _outcome(report, str(properties.get("observed", "")))
            if outcome is None:
                continue
            known = outcomes.get(assumption)
            if known is None or rank[outcome.result.split(":")[0]] >= rank[known.result.split(":")[0]]:
                outcomes[assumption] = outcome
    return outcomes


def _outcome(report: Any, observed: str) -> Outcome | None:
    if report.failed:
        return Outcome("FAIL" if report.when == "call" else f"FAIL: error in {report.when}", observed)
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return Outcome(f"skipped: {reason.removeprefix('Skipped: ')}", observed)
    if report.when == "call":
        return Outcome("pass", observed)
    return None  # a passing setup or teardown says nothing yet


def assumption_table(assumptions: tuple[Assumption, ...], outcomes: dict[str, Outcome]) -> list[str]:
    """Fixed-width rows: id, short claim, evidence kind, result (and what the test observed, if it says)."""
    rows = [("id", "assumption", "evidence", "result")]
    for assumption in assumptions:
        outcome = outcomes.get(assumption.id, Outcome("not run"))
        result = outcome.result + (f" [observed: {outcome.observed}]" if outcome.observed else "")
        rows.append((assumption.id, assumption.short, assumption.evidence_kind, result))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)), row[3]]).rstrip()
        for row in rows
    ]
