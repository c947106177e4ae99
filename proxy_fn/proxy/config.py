"""Deployment configuration, read and validated once at cold start."""

import math
import os
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import urlsplit

# API Gateway's default integration timeout is 29 s; the Lambda must answer before the gateway gives up.
MAX_BACKEND_TIMEOUT_SECONDS = 28.0
DEFAULT_BACKEND_TIMEOUT_SECONDS = 20.0


_ORIGIN = re.compile(r"\*|https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?")
# The request headers that carry each AuthMode's credential, which API Gateway checks before the function runs.
_CREDENTIALS_BY_AUTH_MODE = {
    "NONE": frozenset(),
    "TOKEN": frozenset({"authorization"}),
    "COGNITO": frozenset({"authorization"}),
    "IAM": frozenset({"authorization", "x-amz-security-token"}),
}
_API_KEY_HEADER = "x-api-key"
# SigV4's query-string authentication (a presigned URL): the same credentials as the headers, in the query.
_PRESIGNED_QUERY = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-security-token",
        "x-amz-signature",
        "x-amz-signedheaders",
    }
)
# A base path is sent as it is written: URI path characters and valid escapes only, and no dot segments.
_BASE_PATH = re.compile(r"(?:/(?:[A-Za-z0-9:@!$&'()*+,;=\-._~]|%[0-9A-Fa-f]{2})*)*")
_DOT_SEGMENT = re.compile(r"/(?:\.|%2e){1,2}(?=/|$)", re.IGNORECASE)


class IntegrationMode(StrEnum):
    """How API Gateway hands requests over (template.yaml's IntegrationMode)."""

    VTL = "VTL"  # mapping templates: the answer's body must be text, one value per header
    PROXY = "PROXY"  # AWS_PROXY: binary bodies and every Set-Cookie
    STREAM = "STREAM"  # AWS_PROXY with response streaming (proxy.stream_handler)


class ConfigError(ValueError):
    """A deployment setting is missing or invalid; raised at init so the function never serves with it."""


class BackendTarget(NamedTuple):
    scheme: str
    host: str
    port: int
    base_path: str

    @property
    def host_header(self) -> str:
        default_port = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default_port else f"{host}:{self.port}"


class ProxyConfig(NamedTuple):
    backend: BackendTarget
    timeout_seconds: float
    ca_bundle: str | None
    cors_allow_origin: str | None = None
    integration_mode: IntegrationMode = IntegrationMode.VTL
    # Lower-case names of the credentials API Gateway consumed: never sent on to the backend.
    withheld_headers: frozenset[str] = frozenset()
    withheld_query: frozenset[str] = frozenset()


def parse_backend_url(value: str) -> BackendTarget:
    """`http(s)://host[:port][/base-path]`; anything a request could confuse (credentials, query) is refused."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError as error:
        raise ConfigError(f"BACKEND_URL is not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError("BACKEND_URL must start with http:// or https://")
    if not parts.hostname:
        raise ConfigError("BACKEND_URL has no host")
    try:
        parts.hostname.encode("idna")  # what the resolver does with it for every new connection
    except UnicodeError:
        raise ConfigError("BACKEND_URL's host is not a valid DNS name (an empty or over-long label)") from None
    if parts.username is not None or parts.password is not None:
        raise ConfigError("BACKEND_URL must not contain credentials")
    if parts.query or parts.fragment:
        raise ConfigError("BACKEND_URL must not contain a query string or fragment")
    if not _BASE_PATH.fullmatch(parts.path) or _DOT_SEGMENT.search(parts.path):
        raise ConfigError(
            "BACKEND_URL's path must be URI path characters (percent-encode the others) without '.' or '..' segments"
        )
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return BackendTarget(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port,
        base_path=parts.path.rstrip("/"),
    )


def parse_timeout(value: str | None) -> float:
    if value is None or not value.strip():
        return DEFAULT_BACKEND_TIMEOUT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"BACKEND_TIMEOUT_SECONDS must be a number, got {value!r}") from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_BACKEND_TIMEOUT_SECONDS:
        raise ConfigError(
            f"BACKEND_TIMEOUT_SECONDS must be above 0 and at most {MAX_BACKEND_TIMEOUT_SECONDS:g} "
            f"(API Gateway stops waiting at 29 s), got {value!r}"
        )
    return seconds


def parse_ca_bundle(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not os.path.isfile(value):
        raise ConfigError(f"BACKEND_CA_BUNDLE names no readable file: {value!r}")
    return value


def parse_cors_origin(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not _ORIGIN.fullmatch(value.strip()):
        raise ConfigError(f"CORS_ALLOW_ORIGIN must be * or one origin like https://app.example.com, got {value!r}")
    return value.strip()


def parse_integration_mode(value: str | None) -> IntegrationMode:
    if value is None or not value.strip():
        return IntegrationMode.VTL
    try:
        return IntegrationMode(value.strip().upper())
    except ValueError:
        raise ConfigError(f"INTEGRATION_MODE must be VTL, PROXY or STREAM, got {value!r}") from None


def parse_withheld_credentials(environ: Mapping[str, str]) -> tuple[frozenset[str], frozenset[str]]:
    """The header and query-parameter names of the credentials API Gateway has checked (AUTH_MODE,
    API_KEY_REQUIRED), unless FORWARD_GATEWAY_CREDENTIALS."""
    auth_mode = environ.get("AUTH_MODE", "NONE").strip().upper() or "NONE"
    if auth_mode not in _CREDENTIALS_BY_AUTH_MODE:
        raise ConfigError(f"AUTH_MODE must be one of {', '.join(_CREDENTIALS_BY_AUTH_MODE)}, got {auth_mode!r}")
    api_keys = _parse_flag(environ, "API_KEY_REQUIRED")
    if _parse_flag(environ, "FORWARD_GATEWAY_CREDENTIALS"):
        return frozenset(), frozenset()
    headers = _CREDENTIALS_BY_AUTH_MODE[auth_mode] | ({_API_KEY_HEADER} if api_keys else frozenset())
    return headers, _PRESIGNED_QUERY if auth_mode == "IAM" else frozenset()


def _parse_flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "false").strip().lower() or "false"
    if value not in ("true", "false"):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return value == "true"


def load_config(environ: Mapping[str, str]) -> ProxyConfig:
    backend_url = environ.get("BACKEND_URL")
    if not backend_url:
        raise ConfigError("BACKEND_URL is not set: name the private service, e.g. http://10.0.1.25:8080")
    withheld_headers, withheld_query = parse_withheld_credentials(environ)
    return ProxyConfig(
        backend=parse_backend_url(backend_url),
        timeout_seconds=parse_timeout(environ.get("BACKEND_TIMEOUT_SECONDS")),
        ca_bundle=parse_ca_bundle(environ.get("BACKEND_CA_BUNDLE")),
        cors_allow_origin=parse_cors_origin(environ.get("CORS_ALLOW_ORIGIN")),
        integration_mode=parse_integration_mode(environ.get("INTEGRATION_MODE")),
        withheld_headers=withheld_headers,
        withheld_query=withheld_query,
    )
