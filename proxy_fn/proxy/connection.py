"""The pool's connections to the backend: each new one resolves the name afresh and tries every address within the
time left, and each exchange reports what it did on the wire, which decides whether a failed request may go again.
"""

import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.response import HTTPResponse
from urllib3.util.connection import allowed_gai_family


@dataclass
class Exchange:
    """One attempt at a request, as the connection that carried it saw it."""

    fresh_only: bool = False  # asked by the caller: never send this attempt on a socket that carried one before
    reused: bool = False  # the socket had already carried a complete exchange (a pooled keep-alive connection)
    head_written: bool = False  # the request line and every header were handed to the kernel


class _Observing(threading.local):
    exchange: Exchange


# The pool picks and creates connections inside urlopen; this is how they find the attempt they carry. A
# connection serves one thread at a time (Lambda runs one invocation per container; make local a few threads).
_OBSERVING = _Observing()


@contextmanager
def observed(exchange: Exchange) -> Iterator[Exchange]:
    """The connection this thread uses inside the block reports to `exchange`."""
    _OBSERVING.exchange = exchange
    try:
        yield exchange
    finally:
        del _OBSERVING.exchange


def open_socket(
    host: str, port: int, seconds: float | None, options: list[tuple[int, int, int | bytes]] | None
) -> socket.socket:
    """Resolves `host` now, never from a cache, and tries each address it returns in turn, within `seconds` in all.

    Each address gets an equal share of the time still left, so an address that never answers (a stopped task
    whose record is still served) cannot use up the time the next one needs. The last error is raised.
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    answers = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    error: OSError = OSError(f"{host} resolved to no address")
    for index, (family, kind, protocol, _, address) in enumerate(answers):
        share = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no address of {host} accepted a connection in time")
            share = remaining / (len(answers) - index)
        sock = socket.socket(family, kind, protocol)
        try:
            for option in options or ():
                sock.setsockopt(*option)
            sock.settimeout(share)
            sock.connect(address)
        except OSError as failure:
            sock.close()
            error = failure
            continue
        return sock
    raise error


class ObservedHTTPConnection(HTTPConnection):
    """urllib3's connection, connecting through `open_socket` and reporting to the thread's `Exchange`."""

    _exchanges_on_socket = 0

    def _new_conn(self) -> socket.socket:
        # urllib3's own version tries the addresses one after another, each with the whole connect timeout.
        try:
            sock = open_socket(self._dns_host, self.port, self.timeout, self.socket_options)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        except TimeoutError as error:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from error
        except OSError as error:
            raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock

    def connect(self) -> None:
        super().connect()
        self._exchanges_on_socket = 0

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        exchange = _OBSERVING.exchange
        exchange.reused = self.sock is not None and self._exchanges_on_socket > 0
        if exchange.reused and exchange.fresh_only:
            self.close()  # http.client connects again when it sends
            exchange.reused = False
        super().request(method, url, body=body, headers=headers, **options)

    def send(self, data: Any) -> None:
        # http.client writes the request line and all headers in its first send() of a request (the body, if
        # any, follows in later ones), so the first that returns means the whole head reached the kernel.
        super().send(data)
        _OBSERVING.exchange.head_written = True

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]  # urllib3's own override differs alike
        response = super().getresponse()
        self._exchanges_on_socket += 1
        return response


class ObservedHTTPSConnection(ObservedHTTPConnection, HTTPSConnection):
    """The same for https: HTTPSConnection.connect() opens its socket through `_new_conn` above."""
