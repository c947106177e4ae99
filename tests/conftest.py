"""Fixtures shared by unit and integration tests: a real backend, the proxy handler in process, the VTL chain."""

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# proxy.handler reads its configuration at import, as Lambda's cold start does; tests then point it elsewhere.
os.environ.setdefault("BACKEND_URL", "http://127.0.0.1:9")

from local_gateway.integration import LambdaInvoker
from local_gateway.lambda_runtime import lambda_context
from local_gateway.sam_template import ProxyIntegration, load_proxy_integration
from proxy import handler, stream_handler
from proxy.backend import BackendClient
from proxy.config import load_config
from proxy.response import LAMBDA_RESPONSE_LIMIT_BYTES
from tests.support.backend import RecordingBackend
from tests.support.engines import BothEngines
from tests.support.faults import FaultServer
from tests.support.folder_skip import passed_by_skipping
from tests.support.localstack_engine import template_deployment
from tests.support.logs import LogLines, captured
from tests.support.resolver import Resolver, control_resolution

STAGE = "v1"
# template.yaml's IntegrationMode values: mapping templates, and Lambda proxy.
MODES = ["VTL", "PROXY"]
BACKEND_NAME = "orders.backend.test"  # RFC 6761: .test never resolves for real

# Property tests: 1,000 examples each by default; `make test-long` runs the "long" profile.
settings.register_profile(
    "default",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("long", parent=settings.get_profile("default"), max_examples=20_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ConfigureProxy = Callable[..., None]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if passed_by_skipping(session, exitstatus):
        session.exitstatus = pytest.ExitCode.OK


@pytest.fixture
def backend() -> Iterator[RecordingBackend]:
    with RecordingBackend() as server:
        yield server


@pytest.fixture
def configure_proxy(monkeypatch: pytest.MonkeyPatch) -> ConfigureProxy:
    """Points the imported handler at a backend, as if the container had cold-started with these settings."""

    def configure(backend_url: str, **settings: str) -> None:
        """Settings not given keep the integration mode already chosen (by the `chain` fixture)."""
        environ = {
            "BACKEND_URL": backend_url,
            "INTEGRATION_MODE": handler.CONFIG.integration_mode.value,
            **{name.upper(): value for name, value in settings.items()},
        }
        config = load_config(environ)
        monkeypatch.setattr(handler, "CONFIG", config)
        monkeypatch.setattr(handler, "BACKEND", BackendClient(config, LAMBDA_RESPONSE_LIMIT_BYTES))

    return configure


@pytest.fixture
def proxy_to(backend: RecordingBackend, configure_proxy: ConfigureProxy) -> RecordingBackend:
    configure_proxy(backend.url, backend_timeout_seconds="3")
    return backend


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    """BACKEND_NAME resolves to the addresses the test gives, in that order (socket.getaddrinfo, in process)."""
    return control_resolution(monkeypatch, BACKEND_NAME)


def invoke_handler(event: Any) -> Any:
    return handler.lambda_handler(event, lambda_context())


@pytest.fixture(scope="session")
def api_definitions() -> dict[str, ProxyIntegration]:
    return {mode: load_proxy_integration(parameters={"IntegrationMode": mode}) for mode in MODES}


@pytest.fixture(params=MODES)
def integration_mode(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def chain(
    api_definitions: dict[str, ProxyIntegration],
    proxy_to: RecordingBackend,
    configure_proxy: ConfigureProxy,
    integration_mode: str,
) -> BothEngines:
    """Client request -> template.yaml's integration in each IntegrationMode -> proxy handler -> backend -> back.

    VTL: request template, handler, response template. PROXY: the AWS_PROXY event and answer. Each request runs
    through our engine and LocalStack's AWS-validated pipeline; any disagreement fails the test. The backend sees
    each request once (LocalStack's Lambda replays our engine's answer).
    """
    configure_proxy(proxy_to.url, backend_timeout_seconds="3", integration_mode=integration_mode)
    return both_engines(api_definitions[integration_mode], integration_mode, invoke_handler)


def both_engines(api: ProxyIntegration, integration_mode: str, invoke: LambdaInvoker) -> BothEngines:
    return BothEngines.for_template(
        invoke, api=api, deployment=template_deployment(IntegrationMode=integration_mode), stage=STAGE
    )


@pytest.fixture
def proxy_logs() -> Iterator[LogLines]:
    with captured(handler.logger) as lines:
        yield lines


ConfigureStream = Callable[..., None]


@pytest.fixture
def configure_stream(monkeypatch: pytest.MonkeyPatch) -> ConfigureStream:
    """Points proxy.stream_handler at a backend, as if its container had cold-started with these settings."""

    def configure(backend_url: str, **settings: str) -> None:
        config = load_config(
            {"BACKEND_URL": backend_url, "INTEGRATION_MODE": "STREAM", **{k.upper(): v for k, v in settings.items()}}
        )
        monkeypatch.setattr(stream_handler, "CONFIG", config)
        monkeypatch.setattr(stream_handler, "BACKEND", BackendClient(config, LAMBDA_RESPONSE_LIMIT_BYTES))

    return configure


@pytest.fixture
def stream_backend(backend: RecordingBackend, configure_stream: ConfigureStream) -> RecordingBackend:
    """A well-behaved backend behind proxy.stream_handler."""
    configure_stream(backend.url, backend_timeout_seconds="3")
    return backend


@pytest.fixture
def stream_faults(configure_stream: ConfigureStream) -> Iterator[FaultServer]:
    """A raw-socket backend behind proxy.stream_handler, with a 1 s BackendTimeoutSeconds."""
    with FaultServer() as server:
        configure_stream(server.url, backend_timeout_seconds="1")
        yield server
