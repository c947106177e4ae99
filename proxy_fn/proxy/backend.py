"""Talks HTTP to the private backend: one pooled keep-alive connection per container, a hard deadline, and one
retry on a fresh connection when a pooled one turns out to have gone stale."""

import logging
import time
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from proxy.config import ProxyConfig
from proxy.connection import Exchange, ObservedHTTPConnection, ObservedHTTPSConnection, observed
from proxy.errors import BackendResponseTooLarge, BackendTimeout, BackendUnreachable
from proxy.telemetry import record_retry
from proxy.upstream import UpstreamRequest

_CHUNK = 256 * 1024
# RFC 9110 9.2.2: sending one of these twice has the effect of sending it once (the list; no TRACE).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# At DEBUG urllib3 logs every request target, and query strings can carry tokens; it never logs below WARNING.
logging.getLogger("urllib3").setLevel(logging.WARNING)


@dataclass(frozen=True)
class BackendResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class BackendClient:
    """Sends requests to the one configured backend; the request never chooses scheme, host or port."""

    def __init__(self, config: ProxyConfig, max_body_bytes: int) -> None:
        backend = config.backend
        self._timeout = config.timeout_seconds
        self._max_body_bytes = max_body_bytes
        # Lambda serves one request at a time per container; the local gateway may run a few threads.
        # The TLS settings apply to an https backend only (urllib3 drops them for http).
        self._manager = urllib3.PoolManager(
            num_pools=1,
            maxsize=8,
            block=False,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=config.ca_bundle,
        )
        self._pool = self._manager.connection_from_host(backend.host, backend.port, backend.scheme)
        self._pool.ConnectionCls = ObservedHTTPSConnection if backend.scheme == "https" else ObservedHTTPConnection

    def send(self, request: UpstreamRequest) -> BackendResponse:
        deadline = time.monotonic() + self._timeout
        try:
            response = self._open(request, deadline)
        except Exception as error:
            raise _backend_error(error, self._timeout) from error
        try:
            body = b"" if request.method == "HEAD" else self._read_body(response, deadline)
        except Exception as error:
            # A half-read connection must never go back to the pool for the next invocation.
            response.close()
            raise _backend_error(error, self._timeout) from error
        finally:
            response.release_conn()
        headers = [(name, _from_wire(value)) for name, value in response.headers.iteritems()]
        return BackendResponse(status=response.status, headers=headers, body=body)

    def _open(self, request: UpstreamRequest, deadline: float) -> urllib3.BaseHTTPResponse:
        """Sends the request and reads the response head; at most once more, on a fresh connection, in the time left."""
        first = Exchange()
        try:
            return self._attempt(request, first, deadline - time.monotonic())
        except Exception as error:
            reason = _retry_reason(request.method, first, error)
            remaining = deadline - time.monotonic()
            if reason is None or remaining <= 0:
                raise
        record_retry(request.method, reason)
        return self._attempt(request, Exchange(fresh_only=True), remaining)

    def _attempt(self, request: UpstreamRequest, exchange: Exchange, seconds: float) -> urllib3.BaseHTTPResponse:
        with observed(exchange):
            return self._pool.urlopen(
                request.method,
                request.target,
                body=request.body or None,
                headers=_as_urllib3_headers(request.headers),
                retries=False,
                redirect=False,
                assert_same_host=False,
                timeout=urllib3.Timeout(total=seconds),
                preload_content=False,
                decode_content=False,
                release_conn=False,
            )

    def _read_body(self, response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BackendTimeout(f"the backend did not finish its response within {self._timeout:g} s")
            _limit_next_read(response, remaining)
            chunk = response.read1(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self._max_body_bytes:
                raise BackendResponseTooLarge(
                    f"the backend response is larger than the {self._max_body_bytes:,} bytes a Lambda "
                    "response can carry"
                )
            chunks.append(chunk)


def _retry_reason(method: str, exchange: Exchange, error: Exception) -> str | None:
    """Why the failed attempt may go again, or None when it must not.

    Only a pooled connection that was closed or reset before any response byte arrived qualifies: that is what a
    keep-alive connection to a stopped or replaced backend does on its next use. Timeouts, failures after a
    response byte arrived and failures of a fresh connection are real faults, answered as such. A qualifying
    request may go again if repeating it is harmless (an idempotent method), or if it never left: the connection
    failed before the request line and headers were written, so no backend can have acted on it (POST and PATCH
    too).
    """
    # urllib3 reports a reset or EOF while sending or awaiting the status line as ProtocolError, raised while
    # handling the ConnectionError (http.client's RemoteDisconnected included); timeouts are not ConnectionErrors.
    closed_before_answer = isinstance(error, ProtocolError) and isinstance(error.__context__, ConnectionError)
    if not (exchange.reused and closed_before_answer):
        return None
    if not exchange.head_written:
        return "reused connection closed before the request was written"
    if method in IDEMPOTENT_METHODS:
        return "reused connection closed before answering an idempotent request"
    return None


def _as_urllib3_headers(headers: list[tuple[str, str]]) -> "dict[str, str] | urllib3.HTTPHeaderDict":
    """A plain dict unless a name repeats: HTTPHeaderDict keeps every value but costs more to build."""
    if len({name.lower() for name, _ in headers}) == len(headers):
        return dict(headers)
    return urllib3.HTTPHeaderDict(headers)


def _from_wire(value: str) -> str:
    """http.client reads header bytes as Latin-1; a backend's UTF-8 value is decoded as UTF-8 instead."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _limit_next_read(response: urllib3.BaseHTTPResponse, seconds: float) -> None:
    """urllib3's read timeout applies per socket read; this turns it into a deadline for the whole body."""
    connection = getattr(response, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _backend_error(error: Exception, timeout: float) -> Exception:
    if isinstance(error, BackendTimeout | BackendResponseTooLarge):
        return error
    if isinstance(error, NewConnectionError):  # a subclass of ConnectTimeoutError, but a refusal
        return BackendUnreachable("the backend refused the connection or could not be reached")
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError | TimeoutError):
        return BackendTimeout(f"the backend did not answer within {timeout:g} s")
    if isinstance(error, SSLError):
        return BackendUnreachable("the backend's TLS certificate could not be verified")
    if isinstance(error, ProtocolError | HTTPError | OSError):
        return BackendUnreachable("the backend closed the connection or sent an invalid HTTP response")
    return error
