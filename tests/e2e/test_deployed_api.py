"""Against a deployed stack: `STACK_NAME=<stack> make e2e` (AWS credentials for the stack's account and region).

Checks request/response fidelity, access control and API Gateway's limits over HTTPS (fixtures: conftest.py). The
fidelity cases use httpbin's endpoints: the demo backend, or your own httpbin-compatible service.
"""

import base64
import time
from urllib.parse import quote

import pytest

from tests.support.deployed import E2E, HTTP, Call, Stack

pytestmark = E2E


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_method_reaches_the_backend(call: Call, method: str) -> None:
    response = call(method, "/anything/e2e/deep/path")

    assert response.status == 200
    assert response.json()["method"] == method


def test_query_values_and_bodies_arrive_unchanged(call: Call) -> None:
    value = 'it\'s "quoted" & 1+1=2 100% café'
    query = call("GET", f"/anything?q={quote(value, safe='')}").json()
    document = call("POST", "/anything", json={"item": "café", "n": 2}).json()
    payload = bytes(range(256)) * 16
    binary = call("PUT", "/anything", body=payload, headers={"Content-Type": "application/octet-stream"})

    assert query["args"]["q"] == value
    assert document["json"] == {"item": "café", "n": 2}
    assert base64.b64decode(binary.json()["data"].split(",", 1)[1]) == payload


def test_binary_downloads_follow_the_integration_mode(call: Call, stack_mode: str) -> None:
    """Mapping templates return text only: the function names the way out. AWS_PROXY returns the bytes to a client
    that sends an Accept header (any type matches binaryMediaTypes */*)."""
    download = call("GET", "/bytes/4096?seed=3", headers={"Accept": "*/*"})

    if stack_mode == "VTL":
        assert download.status == 502
        assert "IntegrationMode=PROXY" in download.json()["message"]
    else:
        assert (download.status, len(download.data)) == (200, 4096)
        assert download.headers["Content-Type"] == "application/octet-stream"


def test_statuses_redirects_and_cookies(call: Call) -> None:
    redirect = call("GET", "/redirect-to?url=%2Fanything&status_code=302")
    cookie = call("GET", "/cookies/set?session=e2e")

    assert [call("GET", f"/status/{code}").status for code in (201, 404, 418, 503)] == [201, 404, 418, 503]
    assert (redirect.status, redirect.headers["Location"]) == (302, "/anything")
    assert cookie.headers["Set-Cookie"].startswith("session=e2e")


def test_callers_without_valid_credentials_are_refused_with_json(stack: Stack, api_url: str) -> None:
    if stack.auth_mode != "TOKEN":
        pytest.skip("only TOKEN stacks refuse a missing or unknown bearer token")
    missing = HTTP.request("GET", f"{api_url}/anything")
    unknown = HTTP.request("GET", f"{api_url}/anything", headers={"Authorization": "Bearer not-a-token"})

    assert missing.status == 401
    assert set(missing.json()) == {"message", "requestId"}
    assert unknown.status == 403


def test_a_body_over_10_mb_is_a_413(call: Call) -> None:
    response = call("POST", "/anything", body=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "text/plain"})

    assert response.status == 413


def test_a_backend_slower_than_the_timeout_is_a_504_in_time(call: Call, stack: Stack) -> None:
    timeout = float(stack.parameters.get("BackendTimeoutSeconds", "20"))
    started = time.monotonic()
    response = call("GET", f"/delay/{min(timeout + 5, 30):g}")

    assert response.status == 504
    assert set(response.json()) == {"message", "requestId"}
    assert time.monotonic() - started < timeout + 5
