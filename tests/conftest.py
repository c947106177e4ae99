"""The fixtures every test folder shares: a real backend, the proxy handlers pointed at it, the chain through both
engines, captured logs. What tests import lives in tests/support/ (tests/support/chain.py for these)."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# proxy.handler reads its configuration at import, as Lambda's cold start does; tests then point it elsewhere.
os.environ.setdefault("BACKEND_URL", "http://127.0.0.1:9")

from local_gateway.sam_template import ProxyIntegration, load_proxy_integration
from proxy import handler, stream_handler
from proxy.config import IntegrationMode
from tests.support.backend import RecordingBackend
from tests.support.chain import (
    BACKEND_NAME,
    MODES,
    ConfigureProxy,
    ConfigureStream,
    both_engines,
    cold_start,
    invoke_handler,
)
from tests.support.engines import BothEngines
from tests.support.faults import FaultServer
from tests.support.folder_skip import passed_by_skipping
from tests.support.logs import LogLines, captured
from tests.support.processes import hold_subprocess_coverage
from tests.support.resolver import Resolver, control_resolution

# Property tests: 1,000 examples each by default; `make test-long` runs the "long" profile.
settings.register_profile(
    "default",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("long", parent=settings.get_profile("default"), max_examples=20_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session", autouse=True)
def _subprocess_coverage_only_where_the_functions_run() -> None:
    """Under `make test`, coverage measures only the processes started with processes.measured()."""
    hold_subprocess_coverage()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if passed_by_skipping(session, exitstatus):
        session.exitstatus = pytest.ExitCode.OK


@pytest.fixture
def backend() -> Iterator[RecordingBackend]:
    with RecordingBackend() as server:
        yield server


@pytest.fixture
def configure_proxy(monkeypatch: pytest.MonkeyPatch) -> ConfigureProxy:
    """Points proxy.handler at a backend, as if the container had cold-started with these settings; the integration
    mode stays the one already chosen (by the `chain` fixture) unless given."""
    return lambda url, **settings: cold_start(monkeypatch, handler, url, handler.CONFIG.integration_mode, settings)


@pytest.fixture
def proxy_to(backend: RecordingBackend, configure_proxy: ConfigureProxy) -> RecordingBackend:
    configure_proxy(backend.url, backend_timeout_seconds="3")
    return backend


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    """BACKEND_NAME resolves to the addresses the test gives, in that order (socket.getaddrinfo, in process)."""
    return control_resolution(monkeypatch, BACKEND_NAME)


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


@pytest.fixture
def proxy_logs() -> Iterator[LogLines]:
    with captured(handler.logger) as lines:
        yield lines


@pytest.fixture
def configure_stream(monkeypatch: pytest.MonkeyPatch) -> ConfigureStream:
    """Points proxy.stream_handler at a backend, as if its container had cold-started with these settings."""
    return lambda url, **settings: cold_start(monkeypatch, stream_handler, url, IntegrationMode.STREAM, settings)


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
