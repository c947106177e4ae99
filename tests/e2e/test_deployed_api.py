"""Against a deployed stack: `STACK_NAME=<stack> make e2e` (AWS credentials for the stack's account and region).

Reads the stack's outputs with boto3, then checks request/response fidelity, access control and API Gateway's
limits over HTTPS. The fidelity cases use httpbin's endpoints: the demo backend, or your own httpbin-compatible
service. In TOKEN mode a throwaway client token is minted into the stack's parameter and removed afterwards.
"""

import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import urllib3

STACK_NAME = os.environ.get("STACK_NAME", "")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not STACK_NAME,
        reason="no deployed stack configured: run `STACK_NAME=<your stack> make e2e` with AWS credentials",
    ),
]
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=10, read=40))


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    import boto3

    description = boto3.client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    return {
        "outputs": {output["OutputKey"]: output["OutputValue"] for output in description.get("Outputs", [])},
        "parameters": {item["ParameterKey"]: item.get("ParameterValue", "") for item in description["Parameters"]},
    }


@pytest.fixture(scope="module")
def api_url(stack: dict[str, Any]) -> str:
    return str(stack["outputs"]["ApiUrl"]).rstrip("/")


@pytest.fixture(scope="module")
def credentials(stack: dict[str, Any], api_url: str) -> Iterator[dict[str, str]]:
    """The headers a client of this stack sends: a fresh bearer token (TOKEN) and the API key when required."""
    import boto3

    headers: dict[str, str] = {}
    if "ApiKeyId" in stack["outputs"]:
        key = boto3.client("apigateway").get_api_key(apiKey=stack["outputs"]["ApiKeyId"], includeValue=True)
        headers["x-api-key"] = key["value"]
    mode = stack["outputs"]["AuthMode"]
    if mode in ("COGNITO", "IAM"):
        pytest.skip(f"AuthMode {mode}: the e2e suite signs requests for NONE and TOKEN stacks only")
    if mode != "TOKEN":
        yield headers
        return
    from tools.mint_token import mint

    ssm = boto3.client("ssm")
    parameter = stack["outputs"]["AuthTokensParameterName"]
    client = f"e2e-{uuid.uuid4().hex[:8]}"
    headers["Authorization"] = f"Bearer {mint(ssm, parameter, client, replace=True, kms_key_id=None)}"
    _wait_until_accepted(api_url, headers, float(stack["parameters"].get("TokenCacheSeconds", "60")) + 30)
    try:
        yield headers
    finally:
        value = json.loads(ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"])
        value.pop(client, None)
        ssm.put_parameter(Name=parameter, Value=json.dumps(value), Type="SecureString", Overwrite=True)


def _wait_until_accepted(api_url: str, headers: dict[str, str], seconds: float) -> None:
    """A new token works once the authorizer's cached copy of the parameter expires (TokenCacheSeconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if HTTP.request("GET", f"{api_url}/status/200", headers=headers).status == 200:
            return
        time.sleep(5)
    pytest.fail("the minted token was not accepted within TokenCacheSeconds + 30 s")


def call(api_url: str, credentials: dict[str, str], method: str, path: str, **options: Any) -> urllib3.BaseHTTPResponse:
    headers = {**credentials, **options.pop("headers", {})}
    return HTTP.request(method, api_url + path, headers=headers, redirect=False, **options)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_method_reaches_the_backend(api_url: str, credentials: dict[str, str], method: str) -> None:
    response = call(api_url, credentials, method, "/anything/e2e/deep/path")

    assert response.status == 200
    assert response.json()["method"] == method


def test_query_values_and_bodies_arrive_unchanged(api_url: str, credentials: dict[str, str]) -> None:
    value = 'it\'s "quoted" & 1+1=2 100% café'
    query = call(api_url, credentials, "GET", f"/anything?q={quote(value, safe='')}").json()
    document = call(api_url, credentials, "POST", "/anything", json={"item": "café", "n": 2}).json()
    payload = bytes(range(256)) * 16
    binary = call(
        api_url, credentials, "PUT", "/anything", body=payload, headers={"Content-Type": "application/octet-stream"}
    )

    assert query["args"]["q"] == value
    assert document["json"] == {"item": "café", "n": 2}
    assert base64.b64decode(binary.json()["data"].split(",", 1)[1]) == payload


def test_binary_downloads_statuses_redirects_and_cookies(api_url: str, credentials: dict[str, str]) -> None:
    download = call(api_url, credentials, "GET", "/bytes/4096?seed=3")
    redirect = call(api_url, credentials, "GET", "/redirect-to?url=%2Fanything&status_code=302")
    cookie = call(api_url, credentials, "GET", "/cookies/set?session=e2e")

    assert (download.status, len(download.data)) == (200, 4096)
    assert [call(api_url, credentials, "GET", f"/status/{code}").status for code in (201, 404, 418, 503)] == [
        201,
        404,
        418,
        503,
    ]
    assert (redirect.status, redirect.headers["Location"]) == (302, "/anything")
    assert cookie.headers["Set-Cookie"].startswith("session=e2e")


def test_callers_without_valid_credentials_are_refused_with_json(stack: dict[str, Any], api_url: str) -> None:
    if stack["outputs"]["AuthMode"] != "TOKEN":
        pytest.skip("only TOKEN stacks refuse a missing or unknown bearer token")
    missing = HTTP.request("GET", f"{api_url}/anything")
    unknown = HTTP.request("GET", f"{api_url}/anything", headers={"Authorization": "Bearer not-a-token"})

    assert missing.status == 401
    assert set(missing.json()) == {"message", "requestId"}
    assert unknown.status == 403


def test_a_body_over_10_mb_is_a_413(api_url: str, credentials: dict[str, str]) -> None:
    response = call(
        api_url,
        credentials,
        "POST",
        "/anything",
        body=b"x" * (10 * 1024 * 1024 + 1),
        headers={"Content-Type": "text/plain"},
    )

    assert response.status == 413


def test_a_backend_slower_than_the_timeout_is_a_504_in_time(
    stack: dict[str, Any], api_url: str, credentials: dict[str, str]
) -> None:
    timeout = float(stack["parameters"].get("BackendTimeoutSeconds", "20"))
    started = time.monotonic()
    response = call(api_url, credentials, "GET", f"/delay/{min(timeout + 5, 30):g}")

    assert response.status == 504
    assert set(response.json()) == {"message", "requestId"}
    assert time.monotonic() - started < timeout + 5
