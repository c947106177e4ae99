"""A deployed stack as the e2e tests see it: its outputs and parameters, how a client calls it, and the marker every
e2e module carries. The fixtures that find the stack and mint a client token are in tests/e2e/conftest.py."""

import os
import time
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
import urllib3

STACK_NAME = os.environ.get("STACK_NAME", "")
# template.yaml's IntegrationMode values, as a deployed stack's parameters give them.
VTL, PROXY, STREAM = "VTL", "PROXY", "STREAM"
# Every test module in tests/e2e carries `pytestmark = E2E`.
E2E = [pytest.mark.e2e]
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=10, read=40))


@dataclass(frozen=True)
class Stack:
    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    @property
    def mode(self) -> str:
        """IntegrationMode; a stack created before the parameter existed runs mapping templates."""
        return self.parameters.get("IntegrationMode") or VTL

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


def only_in(mode: str, stack_mode: str) -> None:
    """Skips a check that concerns one IntegrationMode on a stack deployed in the other."""
    if stack_mode != mode:
        pytest.skip(f"concerns IntegrationMode={mode}; this stack runs {stack_mode}")


def wait_until_accepted(api_url: str, headers: dict[str, str], seconds: float) -> None:
    """A new token works once the authorizer's cached copy of the parameter expires (TokenCacheSeconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if HTTP.request("GET", f"{api_url}/status/200", headers=headers).status == 200:
            return
        time.sleep(5)
    pytest.fail("the minted token was not accepted within TokenCacheSeconds + 30 s")
