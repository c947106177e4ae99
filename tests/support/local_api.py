"""The local gateway served from the test process on a free port, as `make local` serves it, with template.yaml's
TOKEN authorizer (authorizer_fn in process) accepting one client's token; and a client for it."""

import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import urllib3

from authorizer.tokens import hash_token
from local_gateway.authorization import AuthorizerFunction
from local_gateway.lambda_context import lambda_context
from local_gateway.local_tokens import LocalTokenStore
from local_gateway.server import LocalGateway, make_server

TOKEN = "acme-local-test-token-7f3a9c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=30))


@dataclass
class LocalApi:
    """The API's base URL (with the stage, where it answers under one), its access log, and its IntegrationMode."""

    url: str
    access_log: io.StringIO
    mode: str

    def request(self, method: str, path: str, **options: Any) -> urllib3.BaseHTTPResponse:
        """As client acme sends it (its token unless `headers` replace it), redirects not followed."""
        headers = {**AUTH, **options.pop("headers", {})}
        return HTTP.request(method, self.url + path, headers=headers, redirect=False, **options)

    def open(self, path: str) -> urllib3.BaseHTTPResponse:
        """The answer with its body unread: read it with `stream()` or `read_chunked()`."""
        return HTTP.request("GET", self.url + path, headers=AUTH, preload_content=False)

    def access_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.access_log.getvalue().splitlines()]


def token_authorizer(monkeypatch: pytest.MonkeyPatch) -> AuthorizerFunction:
    """authorizer_fn as the gateway calls it; a local token store that accepts TOKEN (client acme) stands in for SSM."""
    monkeypatch.setenv("AUTH_TOKENS_PARAMETER", "/local/client-tokens")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from authorizer import handler  # reads its settings at import, like a cold start

    monkeypatch.setattr(handler, "SSM", LocalTokenStore(inline_json=json.dumps({"acme": [hash_token(TOKEN)]})))

    def authorize(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = handler.lambda_handler(event, lambda_context("authorizer"))
        return result

    return authorize


@contextmanager
def served(gateway: LocalGateway, access_log: io.StringIO, mode: str) -> Iterator[LocalApi]:
    """The gateway on a free port of 127.0.0.1, stopped and closed on the way out."""
    server = make_server(gateway, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield LocalApi(f"http://127.0.0.1:{server.server_address[1]}{gateway.base_path}", access_log, mode)
    finally:
        server.shutdown()
        server.server_close()
        gateway.close()
