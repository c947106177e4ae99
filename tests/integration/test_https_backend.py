"""HTTPS backends are verified: against the system CA bundle by default, or a private CA via BACKEND_CA_BUNDLE."""

import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_gateway.model import MethodRequest
from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import ConfigureProxy
from tests.support.engines import BothEngines
from tests.support.tls import PrivateCa, make_private_ca


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCa:
    return make_private_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def https_backend(private_ca: PrivateCa) -> Iterator[RecordingBackend]:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(private_ca.server_certificate, private_ca.server_key)
    with RecordingBackend(tls) as server:
        yield server


def test_a_backend_signed_by_the_configured_private_ca_is_trusted(
    chain: BothEngines,
    https_backend: RecordingBackend,
    configure_proxy: ConfigureProxy,
    private_ca: PrivateCa,
) -> None:
    configure_proxy(https_backend.url, backend_ca_bundle=str(private_ca.ca_bundle))

    response = chain.handle(MethodRequest("POST", "/secure", body=b"payload"))

    assert (response.status, response.body) == (200, b"payload")
    assert https_backend.last.header("Host") == https_backend.url.removeprefix("https://")


def test_an_unknown_certificate_is_refused_with_a_502(
    chain: BothEngines, https_backend: RecordingBackend, configure_proxy: ConfigureProxy
) -> None:
    configure_proxy(https_backend.url)

    response = chain.handle(MethodRequest("GET", "/secure"))

    assert response.status == 502
    assert json.loads(response.body)["message"] == "the backend's TLS certificate could not be verified"
    assert https_backend.requests == []


def test_a_certificate_for_another_name_is_refused_with_a_502(
    chain: BothEngines, https_backend: RecordingBackend, configure_proxy: ConfigureProxy, private_ca: PrivateCa
) -> None:
    """Signed by the trusted CA, but for 127.0.0.1, while the backend is named localhost."""
    configure_proxy(f"https://localhost:{https_backend.port}", backend_ca_bundle=str(private_ca.ca_bundle))

    response = chain.handle(MethodRequest("GET", "/secure"))

    assert response.status == 502
    assert json.loads(response.body)["message"] == "the backend's TLS certificate could not be verified"
    assert https_backend.requests == []


@pytest.mark.parametrize("with_private_ca", [True, False], ids=["BACKEND_CA_BUNDLE", "system CAs"])
def test_new_connections_use_the_ca_certificates_loaded_at_cold_start(
    chain: BothEngines,
    https_backend: RecordingBackend,
    configure_proxy: ConfigureProxy,
    private_ca: PrivateCa,
    monkeypatch: pytest.MonkeyPatch,
    with_private_ca: bool,
) -> None:
    """Loading them costs about 16 ms of CPU, which urllib3 would spend again on every new connection."""
    trusted = {"backend_ca_bundle": str(private_ca.ca_bundle)} if with_private_ca else {}
    configure_proxy(https_backend.url, **trusted)
    loads: list[str] = []
    for method in ("load_verify_locations", "load_default_certs"):
        monkeypatch.setattr(ssl.SSLContext, method, lambda *_, method=method, **__: loads.append(method))
    https_backend.responder = lambda request: Reply(200, [("Connection", "close")], b"ok")

    statuses = [chain.handle(MethodRequest("GET", "/secure")).status for _ in range(3)]

    assert statuses == ([200] * 3 if with_private_ca else [502] * 3)
    assert https_backend.connections_opened == (3 * chain.backend_calls_per_request if with_private_ca else 0)
    assert loads == []


def test_a_backend_that_does_not_speak_tls_is_a_502_saying_the_handshake_failed(
    chain: BothEngines, configure_proxy: ConfigureProxy
) -> None:
    """BACKEND_URL says https, but the service listens in plain HTTP: the answer says which side to fix."""
    with RecordingBackend() as plain_backend:
        configure_proxy(plain_backend.url.replace("http://", "https://"))

        response = chain.handle(MethodRequest("GET", "/secure"))

    assert response.status == 502
    assert json.loads(response.body)["message"] == "the TLS handshake with the backend failed"
    assert plain_backend.requests == []


def test_the_ca_bundle_parameter_names_a_file_inside_the_package(tmp_path: Path) -> None:
    from proxy.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="BACKEND_CA_BUNDLE"):
        load_config({"BACKEND_URL": "https://10.0.0.1", "BACKEND_CA_BUNDLE": str(tmp_path / "missing.pem")})


@pytest.mark.parametrize("integration_mode", ["PROXY"], indirect=True)  # binary bodies
def test_large_bodies_cross_tls_both_ways_byte_for_byte(
    chain: BothEngines, https_backend: RecordingBackend, configure_proxy: ConfigureProxy, private_ca: PrivateCa
) -> None:
    """Request bodies over one slice go out slice by slice, answers come in bounded reads: TLS records across both."""
    configure_proxy(https_backend.url, backend_ca_bundle=str(private_ca.ca_bundle))
    body = bytes(range(256)) * 12_000  # 3 MB, not UTF-8

    response = chain.handle(MethodRequest("POST", "/echo", headers=[("Accept", "*/*")], body=body))

    assert (response.status, response.body) == (200, body)
    assert https_backend.last.body == body
