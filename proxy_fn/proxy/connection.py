"""The pool's connections to the backend: each exchange reports what it did on the wire, which decides whether a
failed request may go again."""

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.response import HTTPResponse


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


class ObservedHTTPConnection(HTTPConnection):
    """urllib3's connection, reporting to the thread's `Exchange`."""

    _exchanges_on_socket = 0

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
    """The same for https."""
