"""The chain the integration tests run: a client request -> template.yaml's integration (both engines) -> the proxy
handler in process -> a real backend. The fixtures that build it are in tests/conftest.py; what tests import is here.

proxy.handler reads its configuration at import, as Lambda's cold start does: tests/conftest.py sets a placeholder
BACKEND_URL before anything imports it, and each test then points the handler at its own backend (`cold_start`).
"""

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import pytest

from local_gateway.lambda_context import lambda_context
from local_gateway.model import LambdaInvoker
from local_gateway.sam_template import ProxyIntegration
from proxy import handler
from proxy.backend import BackendClient
from proxy.config import IntegrationMode, load_config
from proxy.response import LAMBDA_RESPONSE_LIMIT_BYTES
from tests.support.engines import BothEngines
from tests.support.localstack.engine import template_deployment

STAGE = "v1"
# template.yaml's buffered IntegrationMode values: mapping templates, and Lambda proxy.
MODES = [IntegrationMode.VTL.value, IntegrationMode.PROXY.value]
BACKEND_NAME = "orders.backend.test"  # RFC 6761: .test never resolves for real

# configure_proxy / configure_stream: (backend URL, **settings such as backend_timeout_seconds="3") -> None
ConfigureProxy = Callable[..., None]
ConfigureStream = Callable[..., None]


def cold_start(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, backend_url: str, mode: str, settings: Mapping[str, str]
) -> None:
    """Points a handler module (proxy.handler or proxy.stream_handler) at a backend, as if its container had
    cold-started with these settings (each named as its variable, in lower case); undone when the test ends."""
    environ = {"BACKEND_URL": backend_url, "INTEGRATION_MODE": mode, **{k.upper(): v for k, v in settings.items()}}
    config = load_config(environ)
    monkeypatch.setattr(module, "CONFIG", config)
    monkeypatch.setattr(module, "BACKEND", BackendClient(config, LAMBDA_RESPONSE_LIMIT_BYTES))


def invoke_handler(event: Any) -> Any:
    """proxy.handler as Lambda invokes it."""
    return handler.lambda_handler(event, lambda_context())


def both_engines(api: ProxyIntegration, integration_mode: str, invoke: LambdaInvoker) -> BothEngines:
    """Our engine over `api` and LocalStack's over template.yaml deployed in the same IntegrationMode."""
    return BothEngines.for_template(
        invoke, api=api, deployment=template_deployment(IntegrationMode=integration_mode), stage=STAGE
    )
