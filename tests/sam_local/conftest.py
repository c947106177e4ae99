"""Fixtures that run SAM CLI for real: one build per session, a backend and moto where host.docker.internal points.

Without Docker or a runtime image the whole folder skips with one line saying what is missing and how to get it;
where SAM_LOCAL_REQUIRED=1 (.ci/run) it fails instead, so that CI cannot pass by skipping it.
"""

import errno
import functools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.sam_local.sam_cli import (
    PROJECT_ROOT,
    TIMINGS,
    BuiltTemplates,
    bridge_gateway,
    containers_mounting,
    free_port,
    missing_prerequisite,
    preparation_pending,
    record_timing,
    remove_containers,
    sam_build,
    sam_environment,
    samconfig_parameters,
    unavailable,
    wait_until_answering,
)
from tests.support.backend import RecordingBackend
from tests.support.processes import stop


@functools.cache
def _missing() -> str | None:
    # The invokes run on x86_64, start-api on arm64 (see the test modules): both images are needed.
    return missing_prerequisite(("x86_64", "arm64"))  # waits for .ci/run's preparation first


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> None:
    """Skips this folder while it is collected, so that pytest reports one line (a skip in the conftest itself
    would break `pytest tests/sam_local`, which loads it before collecting). While .ci/run still prepares Docker,
    the folder is collected and `prepared` waits, so that the other tests run meanwhile."""
    if file_path.name.startswith("test_") and not preparation_pending():
        reason = _missing()
        if reason is not None:
            unavailable(reason, parent.config)


@pytest.fixture(scope="session", autouse=True)
def prepared() -> None:
    reason = _missing()
    if reason is not None:
        unavailable(reason)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltTemplates]:
    templates = sam_build(tmp_path_factory.mktemp("sam-local"))
    yield templates
    # An invoke killed at its time limit leaves its container running; this session's are removed, no others.
    remove_containers(containers_mounting(templates.build_dir))


@pytest.fixture(scope="session")
def gateway_address() -> str:
    return bridge_gateway()


@pytest.fixture(scope="session")
def gateway_backend(gateway_address: str) -> Iterator[RecordingBackend]:
    """The backend where samconfig.toml's BackendUrl sends the function: host.docker.internal, port 8080.

    host.docker.internal is the bridge gateway (samconfig.toml's add_host), and the backend listens there only:
    containers reach it, nothing outside this machine does.
    """
    backend_port = urlsplit(samconfig_parameters("local invoke")["BackendUrl"]).port
    assert backend_port == urlsplit(samconfig_parameters("local start_api")["BackendUrl"]).port
    try:
        server = RecordingBackend(host=gateway_address, port=backend_port or 80)
    except OSError as error:
        if error.errno == errno.EADDRNOTAVAIL:
            unavailable(f"{gateway_address}, Docker's bridge gateway, is not an address of this machine")
        raise RuntimeError(
            f"port {backend_port} on {gateway_address} (samconfig.toml's BackendUrl as containers see it) is taken: "
            f"stop what listens there ({error.strerror})"
        ) from error
    with server:
        yield server


@pytest.fixture(scope="session")
def moto_ssm(gateway_address: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto in server mode on the bridge gateway, a free port; yields its URL as containers see it."""
    port = free_port(gateway_address)
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", gateway_address, "-p", str(port)],
            cwd=PROJECT_ROOT,
            env=sam_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answering(f"http://{gateway_address}:{port}/moto-api/", time.monotonic() + 60)
        record_timing("moto server: answering", time.monotonic() - started)
        yield f"http://host.docker.internal:{port}"
    finally:
        stop(process, grace=10)


@pytest.fixture(scope="session")
def local_tokens_parameter() -> str:
    """The parameter `sam local invoke` makes the authorizer read (samconfig.toml), never a deployed stack's."""
    return samconfig_parameters("local invoke")["AuthTokensParameter"]


@pytest.fixture(scope="session")
def moto_endpoint_for_host(moto_ssm: str, gateway_address: str) -> str:
    """The same moto server as this machine reaches it."""
    return moto_ssm.replace("host.docker.internal", gateway_address)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("sam local timings (wall clock, seconds)")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{seconds:7.2f}  {name}")
