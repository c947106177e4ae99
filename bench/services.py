"""What the measured functions talk to, each in its own process and unconstrained: they stand for other machines.

- `Backend`: bench.backend, the private HTTP service behind the proxy.
- `SsmStandIn`: moto in server mode holding the token store, over TLS as SSM is: the authorizer's first read pays
  for the handshake and for loading the CA bundle, which holds the SDK's own bundle plus the stand-in's certificate.
"""

import datetime
import hashlib
import ipaddress
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import urllib3

from bench.fixtures import (
    BENCH_CLIENT,
    BENCH_TOKEN,
    PROJECT_ROOT,
    STAND_IN_CREDENTIALS,
    TOKENS_PARAMETER,
    authorizer_environment,
)
from bench.load import free_loopback_port
from local_gateway.model import REGION

PYTHON = sys.executable


class Backend:
    """bench.backend in its own process."""

    def __init__(self) -> None:
        port = free_loopback_port()
        command = [PYTHON, "-m", "bench.backend", "--port", str(port)]
        self._process = subprocess.Popen(command, cwd=PROJECT_ROOT)  # noqa: S603 - our interpreter, fixed arguments
        self.url = f"http://127.0.0.1:{port}"
        self._stats = urllib3.PoolManager(maxsize=1, retries=urllib3.Retry(connect=100, backoff_factor=0.05))
        self.stats()  # waits until it listens

    def stats(self) -> dict[str, Any]:
        """Connections opened so far, and the headers of the last request (see bench.backend)."""
        stats: dict[str, Any] = self._stats.request("GET", f"{self.url}/stats").json()
        return stats

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


class SsmStandIn:
    """moto_server on 127.0.0.1 over TLS, holding the token store for the bench's client."""

    def __init__(self, scratch: Path) -> None:
        certificate, key = _self_signed_certificate(scratch)
        self.ca_bundle = scratch / "ca-bundle.pem"
        self.ca_bundle.write_bytes(Path(_sdk_ca_bundle()).read_bytes() + certificate.read_bytes())
        port = free_loopback_port()
        moto_server = Path(PYTHON).with_name("moto_server")
        self._process = subprocess.Popen(  # noqa: S603 - the venv's moto_server, fixed arguments
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port), "-c", str(certificate), "-k", str(key)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"https://127.0.0.1:{port}"
        waiting = urllib3.PoolManager(
            ca_certs=str(self.ca_bundle), retries=urllib3.Retry(connect=200, backoff_factor=0.05)
        )
        waiting.request("GET", f"{self.url}/moto-api/")
        self._store_tokens()

    def environment(self, token_cache_seconds: int = 60) -> dict[str, str]:
        """The authorizer's deployed variables, pointed here."""
        return authorizer_environment(self.url, self.ca_bundle, token_cache_seconds)

    def _store_tokens(self) -> None:
        import boto3  # noqa: PLC0415 - the parent only sets up; it is never measured

        ssm = boto3.client(
            "ssm",
            endpoint_url=self.url,
            region_name=REGION,
            verify=str(self.ca_bundle),
            aws_access_key_id=STAND_IN_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=STAND_IN_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        hashes = {BENCH_CLIENT: hashlib.sha256(BENCH_TOKEN.encode()).hexdigest()}
        ssm.put_parameter(Name=TOKENS_PARAMETER, Value=json.dumps(hashes), Type="SecureString", Overwrite=True)

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


def _sdk_ca_bundle() -> str:
    """The bundle botocore verifies AWS endpoints with when nothing else is configured."""
    from botocore.httpsession import get_cert_path  # noqa: PLC0415

    return str(get_cert_path(True))


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A P-256 certificate for 127.0.0.1, valid for a day: (certificate, key) PEM files."""
    from cryptography import x509  # noqa: PLC0415 - moto's own dependency
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench SSM stand-in")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = directory / "stand-in.pem", directory / "stand-in.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_file, key_file


@contextmanager
def services() -> Iterator[tuple[Backend, SsmStandIn]]:
    """Both services, stopped (and the stand-in's certificate deleted) on the way out."""
    with ExitStack() as stack:
        backend = Backend()
        stack.callback(backend.stop)
        ssm = SsmStandIn(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ssm-"))))
        stack.callback(ssm.stop)
        yield backend, ssm
