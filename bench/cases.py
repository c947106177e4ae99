"""The two functions as a measured process holds them, each next to the yardstick it is compared with.

Each class imports its handler the way Lambda's init does: configuration is read at import, from the environment
the process was started with (bench.fixtures builds it from template.yaml's defaults).
"""

import base64
import json
from typing import Any

from bench.fixtures import SIZES, TOKENS_PARAMETER, lambda_context, proxy_event, text_body, token_event
from bench.timing import Action


class Proxy:
    """The proxy handler as deployed (its INFO line and EMF line per request), and a direct urllib3 request."""

    def __init__(self, backend_url: str, memory_mb: int) -> None:
        import urllib3  # noqa: PLC0415 - imported with the handler, as part of the measured process's init

        from proxy import handler  # noqa: PLC0415

        self.handler = handler
        self.backend_url = backend_url
        self.context = lambda_context("bench-proxy", memory_mb)
        self.direct = urllib3.PoolManager(maxsize=1, retries=False)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.handler.lambda_handler(event, self.context)
        assert result["statusCode"] in (200, 204), result
        return result

    def backend_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = json.loads(self.direct.request("GET", f"{self.backend_url}/stats").data)
        return stats

    def headers_sent_for(self, event: dict[str, Any]) -> dict[str, str]:
        """The headers the proxy sends the backend for `event`, as the backend received them: the direct request
        carries the same ones, so the backend does the same work for both."""
        self.invoke(event)
        return dict(self.backend_stats()["last_headers"])

    def cases(self, label: str) -> dict[str, dict[str, Action]]:
        """GET (the backend answers `size` bytes of text) and POST (the client sends `size` bytes), each with the
        handler, the direct request and the floor the Lambda event format forces on any proxy."""
        size = SIZES[label]
        payload = text_body(size)
        get_event = proxy_event("GET", f"/text/{size}", b"")
        post_event = proxy_event("POST", "/upload", payload)
        get_headers, post_headers = self.headers_sent_for(get_event), self.headers_sent_for(post_event)
        text, post_body = payload.decode("ascii"), post_event["body"]
        get_url, post_url = f"{self.backend_url}/text/{size}", f"{self.backend_url}/upload"
        return {
            "GET": {
                "direct": lambda: self.direct.request("GET", get_url, headers=get_headers).data,
                "handler": lambda: self.invoke(get_event),
                "floor": lambda: json.dumps(text),  # the runtime JSON-encodes a text body
            },
            "POST": {
                "direct": lambda: self.direct.request("POST", post_url, body=payload, headers=post_headers).data,
                "handler": lambda: self.invoke(post_event),
                "floor": lambda: base64.b64decode(post_body),  # the event carries the body as base64
            },
        }


class Authorizer:
    """The TOKEN authorizer as deployed, and the SDK's own GetParameter for the same parameter."""

    def __init__(self, memory_mb: int) -> None:
        import boto3  # noqa: PLC0415 - the yardstick, created with the handler's init

        from authorizer import handler  # noqa: PLC0415

        self.handler = handler
        self.context = lambda_context("bench-authorizer", memory_mb)
        self.sdk = boto3.client("ssm")

    def authorize(self) -> None:
        result = self.handler.lambda_handler(token_event(), self.context)
        assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow", result

    def actions(self) -> dict[str, Action]:
        return {
            "authorizer": self.authorize,
            "direct": lambda: self.sdk.get_parameter(Name=TOKENS_PARAMETER, WithDecryption=True),
        }
