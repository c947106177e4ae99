"""What the bench's processes share: body sizes and bodies, the events both functions receive, their deployed
environments, and the Lambda context object (local_gateway's, which make local and the tests use too).

Standard library only, and nothing that the functions load themselves: a cold start imports this module after its
measured init, so importing it must not make the function's first invocation look cheaper than it is.
"""

import base64
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_gateway.lambda_context import lambda_context as local_lambda_context
from local_gateway.model import ACCOUNT_ID, PARTITION, REGION

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROXY_CODE = PROJECT_ROOT / "proxy_fn"
AUTHORIZER_CODE = PROJECT_ROOT / "authorizer_fn"

SIZES = {"1 KB": 1024, "100 KB": 100 * 1024, "5 MB": 5 * 1024 * 1024}

TOKENS_PARAMETER = "/bench/client-tokens"
BENCH_CLIENT = "acme"
BENCH_TOKEN = "bench-token-not-a-secret"  # noqa: S105 - a throwaway token for a local measurement
METHOD_ARN = f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT_ID}:abc123defg/v1/GET/orders"
# Static credentials for the SSM stand-in, in the variables the Lambda runtime sets for the function's role.
STAND_IN_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDBENCHBENCHBENCH0",
    "AWS_SECRET_ACCESS_KEY": "bench-secret-key-not-a-secret",
    "AWS_SESSION_TOKEN": "bench-session-token",
}


@cache
def text_body(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


def proxy_event(method: str, path: str, body: bytes) -> dict[str, Any]:
    """The REST proxy event the request template renders (the headers a browser-less client sends)."""
    return {
        "resource": "/{proxy+}",
        "httpMethod": method,
        "path": path,
        "headers": {
            "Accept": "*/*",
            "Content-Type": "application/octet-stream",
            "Host": "bench.example.com",
            "User-Agent": "bench/1.0",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
        },
        "queryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "bench/1.0"},
            "authorizer": {"principalId": BENCH_CLIENT, "client": BENCH_CLIENT, "claims": {"sub": ""}},
        },
        "body": base64.b64encode(body).decode("ascii") if body else None,
        "isBase64Encoded": bool(body),
    }


def token_event() -> dict[str, Any]:
    """What API Gateway sends a TOKEN authorizer for a client presenting the bench's token."""
    return {"type": "TOKEN", "authorizationToken": f"Bearer {BENCH_TOKEN}", "methodArn": METHOD_ARN}


def lambda_context(function_name: str = "bench", memory_mb: int = 512) -> "LambdaContext":
    """The context of one invocation of a function of this memory size."""
    return local_lambda_context(function_name, memory_mb=memory_mb)


def _inherited() -> dict[str, str]:
    """This process's environment without anything that would configure a function (PATH and the like stay)."""
    prefixes = ("BACKEND_", "POWERTOOLS_", "AWS_", "_X_AMZN", "AUTH_", "INTEGRATION_", "CORS_", "TOKEN_")
    return {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}


def proxy_environment(backend_url: str) -> dict[str, str]:
    """template.yaml's ProxyFunction variables, with its defaults; nothing that would load the X-Ray SDK."""
    return _inherited() | {
        "BACKEND_URL": backend_url,
        "BACKEND_TIMEOUT_SECONDS": "20",
        "INTEGRATION_MODE": "VTL",
        "AUTH_MODE": "TOKEN",
        "API_KEY_REQUIRED": "false",
        "FORWARD_GATEWAY_CREDENTIALS": "false",
        "CORS_ALLOW_ORIGIN": "",
        "POWERTOOLS_SERVICE_NAME": "private-api-proxy",
        "POWERTOOLS_METRICS_NAMESPACE": "PrivateApiProxy",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": "bench-proxy",
    }


def authorizer_environment(ssm_url: str, ca_bundle: Path, token_cache_seconds: int = 60) -> dict[str, str]:
    """template.yaml's AuthorizerFunction variables, pointed at the SSM stand-in (over TLS, trusting `ca_bundle`)."""
    return (
        _inherited()
        | STAND_IN_CREDENTIALS
        | {
            "AUTH_TOKENS_PARAMETER": TOKENS_PARAMETER,
            "TOKEN_CACHE_SECONDS": str(token_cache_seconds),
            "POWERTOOLS_SERVICE_NAME": "private-api-authorizer",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": "bench-authorizer",
            "AWS_ENDPOINT_URL_SSM": ssm_url,
            "AWS_CA_BUNDLE": str(ca_bundle),
        }
    )
