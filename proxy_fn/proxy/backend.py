"""Talks HTTP to the private backend: pooled keep-alive connections, one deadline for the whole exchange, and one
retry on a fresh connection when a pooled one turns out to have gone stale.

urllib3 keeps the pool and opens the connections (name resolution, TLS verification, socket options); the request
and the answer on a connection are written and read by `proxy.http1`, which trusts nothing the backend sends. A
connection goes back to the pool only after an answer read to its exact end with no byte after it.
"""

import logging
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import urllib3
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.ssl_ import create_urllib3_context
from urllib3.util.ssl_match_hostname import CertificateError

from proxy.config import ProxyConfig
from proxy.connection import BackendConnection, BackendTLSConnection
from proxy.errors import BackendResponseTooLarge, BackendUnreachable
from proxy.http1 import NoAnswer, ReadLimits, ResponseReader, request_head, send_request
from proxy.telemetry import record_retry
from proxy.upstream import UpstreamRequest

# RFC 9110 9.2.2: sending one of these twice has the effect of sending it once (no TRACE).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# At DEBUG urllib3 logs every request target, and query strings can carry tokens; it never logs below WARNING.
logging.getLogger("urllib3").setLevel(logging.WARNING)


class BackendResponse(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class BackendStream:
    """An answer whose head has been read and checked; its body is read with `chunks()`."""

    __slots__ = ("_reader", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]], reader: ResponseReader) -> None:
        self.status = status
        # Checked against RFC 9110's grammar; hop-by-hop fields and those the answer's Connection names removed.
        self.headers = headers
        self._reader = reader

    @property
    def content_length(self) -> int | None:
        """The body's length when Content-Length frames it (known before the body is read)."""
        return self._reader.content_length

    def chunks(self) -> Iterator[bytes]:
        """The body's bytes as they arrive, at most proxy.http1.BODY_READ_BYTES at a time. Raises BackendTimeout
        (the idle or the total limit), BackendInvalidResponse (cut short, or invalid framing)."""
        return self._reader.body()


def _trust_store(ca_bundle: str | None) -> ssl.SSLContext:
    """One TLS context for every connection, its CA certificates loaded now, at init: given a CA bundle or none,
    urllib3 would load them again for each new connection: about 16 ms of CPU, some 55 ms at 512 MB's CPU share."""
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)  # hostnames checked, as urllib3's own
    if ca_bundle is None:
        context.load_default_certs()
    else:
        context.load_verify_locations(cafile=ca_bundle)
    return context


class BackendClient:
    """Sends requests to the one configured backend; the request never chooses scheme, host or port."""

    def __init__(self, config: ProxyConfig, max_body_bytes: int) -> None:
        backend = config.backend
        self._timeout = config.timeout_seconds
        self._max_body_bytes = max_body_bytes
        # Lambda serves one request at a time per container; the local gateway may run a few threads.
        # The TLS settings apply to an https backend only (urllib3 drops them for http).
        manager = urllib3.PoolManager(
            num_pools=1,
            maxsize=8,
            block=False,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ssl_context=_trust_store(config.ca_bundle) if backend.scheme == "https" else None,
        )
        self._pool = manager.connection_from_host(backend.host, backend.port, backend.scheme)
        self._pool.ConnectionCls = BackendTLSConnection if backend.scheme == "https" else BackendConnection

    def send(self, request: UpstreamRequest) -> BackendResponse:
        """The whole answer, within BackendTimeoutSeconds from the first byte sent to the last byte read."""
        with self.stream(request, total_seconds=self._timeout) as answer:
            declared = answer.content_length
            if declared is not None and declared > self._max_body_bytes:
                raise self._too_large()
            pieces = []
            size = 0
            for piece in answer.chunks():
                size += len(piece)
                if size > self._max_body_bytes:
                    raise self._too_large()
                pieces.append(piece)
        return BackendResponse(answer.status, answer.headers, pieces[0] if len(pieces) == 1 else b"".join(pieces))

    @contextmanager
    def stream(
        self, request: UpstreamRequest, *, idle_seconds: float | None = None, total_seconds: float | None = None
    ) -> Iterator[BackendStream]:
        """The answer's head, read within BackendTimeoutSeconds; its body then waits at most `idle_seconds` between
        reads and ends `total_seconds` after the request began (None: no such limit). Leaving the block returns
        the connection to the pool only if the body was read to its exact end; otherwise it is closed."""
        started = time.monotonic()
        connection, reader, status, headers = self._open(request, started + self._timeout)
        reader.limits = ReadLimits(
            None if total_seconds is None else started + total_seconds,
            f"the backend did not finish its response within {total_seconds:g} s" if total_seconds is not None else "",
            idle_seconds,
            f"the backend sent nothing for {idle_seconds:g} s" if idle_seconds is not None else "",
        )
        try:
            yield BackendStream(status, headers, reader)
        finally:
            if not reader.reusable:
                connection.close()
            self._pool._put_conn(connection)

    def _open(
        self, request: UpstreamRequest, deadline: float
    ) -> tuple[BackendConnection, ResponseReader, int, list[tuple[str, str]]]:
        """Sends the request and reads the answer's head; at most once more, on a fresh connection, in the time
        left. Whatever fails, the connection is closed and its slot goes back to the pool."""
        head = request_head(request.method, request.target, request.headers, len(request.body))
        connection: BackendConnection = self._pool._get_conn()  # type: ignore[assignment]  # our ConnectionCls
        try:
            try:
                return (connection, *self._exchange(connection, head, request, deadline))
            except _NotAnswered as failure:
                reason = failure.retry_reason(request.method)
                if reason is None or deadline <= time.monotonic():
                    raise BackendUnreachable("the backend closed the connection without answering") from None
            record_retry(request.method, reason)
            connection.close()
            try:
                return (connection, *self._exchange(connection, head, request, deadline))
            except _NotAnswered:
                raise BackendUnreachable("the backend closed the connection without answering") from None
        except BaseException:
            connection.close()
            self._pool._put_conn(connection)
            raise

    def _exchange(
        self, connection: BackendConnection, head: bytes, request: UpstreamRequest, deadline: float
    ) -> tuple[ResponseReader, int, list[tuple[str, str]]]:
        limits = ReadLimits(deadline, f"the backend did not answer within {self._timeout:g} s")
        reused = connection.sock is not None
        if not reused:
            self._connect(connection, limits)
        sock = connection.sock
        assert sock is not None  # connected above, or pooled with its socket
        sent = send_request(sock, head, request.body, limits)
        reader = ResponseReader(sock, request.method, limits, sent)
        try:
            status, headers = reader.read_head()
        except NoAnswer:
            raise _NotAnswered(reused, sent.head) from None
        return reader, status, headers

    def _connect(self, connection: BackendConnection, limits: ReadLimits) -> None:
        connection.timeout = limits.seconds()
        try:
            connection.connect()
        except NameResolutionError:
            raise BackendUnreachable("the backend's host name did not resolve") from None
        except NewConnectionError:  # a subclass of ConnectTimeoutError, but a refusal
            raise BackendUnreachable("the backend refused the connection or could not be reached") from None
        except (ConnectTimeoutError, TimeoutError):
            raise limits.expired() from None
        except (ssl.SSLCertVerificationError, CertificateError):
            raise BackendUnreachable("the backend's TLS certificate could not be verified") from None
        except ssl.SSLError:
            raise BackendUnreachable("the TLS handshake with the backend failed") from None
        except OSError:
            raise BackendUnreachable("the backend refused the connection or could not be reached") from None

    def _too_large(self) -> BackendResponseTooLarge:
        return BackendResponseTooLarge(
            f"the backend response is larger than the {self._max_body_bytes:,} bytes a Lambda response can carry"
        )


class _NotAnswered(Exception):
    """The connection ended before any byte of an answer: what a pooled keep-alive connection to a stopped or
    replaced backend does on its next use."""

    def __init__(self, reused: bool, head_written: bool) -> None:
        super().__init__()
        self.reused = reused
        self.head_written = head_written

    def retry_reason(self, method: str) -> str | None:
        """Why the request may go again on a fresh connection, or None when it must not.

        Only a pooled connection qualifies: a fresh one that fails is a real fault. Timeouts and failures after an
        answer began never get here. The request may go again if repeating it is harmless (an idempotent method),
        or if it never left: the connection failed before the request line and headers were written, so no backend
        can have acted on it (POST and PATCH too).
        """
        if not self.reused:
            return None
        if not self.head_written:
            return "reused connection closed before the request was written"
        if method in IDEMPOTENT_METHODS:
            return "reused connection closed before answering an idempotent request"
        return None
