"""The pool's connections to the backend: urllib3's, except that each new one resolves the name afresh, within the
exchange's deadline, and tries every address it gets in the time left."""

import ipaddress
import socket
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family

# What getaddrinfo returns: family, type, protocol, canonical name, and an address as socket.connect takes it.
AddressInfo = Sequence[tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]]


def open_socket(
    host: str, port: int, seconds: float | None, options: list[tuple[int, int, int | bytes]] | None
) -> socket.socket:
    """Resolves `host` now, never from a cache, and tries each address it returns in turn, within `seconds` in all.

    Each address gets an equal share of the time still left, so an address that never answers (a stopped task
    whose record is still served) cannot use up the time the next one needs. The last error is raised. The socket
    returned keeps the time left as its timeout, which bounds a TLS handshake that follows.
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    answers = _resolve(host, port, seconds)
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
        if deadline is not None:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
        return sock
    raise error


def _resolve(host: str, port: int, seconds: float | None) -> AddressInfo:
    """getaddrinfo within `seconds`: it takes no timeout of its own (the resolver's retries can take 10 s and
    more), so a name is looked up on a short-lived thread while this one waits at most that long."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # an address literal: nothing to look up
        return socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    outcome: list[AddressInfo | OSError] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM))
        except OSError as failure:
            outcome.append(failure)

    resolver = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    resolver.start()
    resolver.join(seconds)
    if not outcome:
        raise TimeoutError(f"{host} did not resolve in time")
    if isinstance(outcome[0], OSError):
        raise outcome[0]
    return outcome[0]


class BackendConnection(HTTPConnection):
    """urllib3's connection, connecting through `open_socket`; the proxy writes and reads on its socket itself."""

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


class BackendTLSConnection(BackendConnection, HTTPSConnection):
    """The same for https: HTTPSConnection.connect() opens its socket through `_new_conn` above, then verifies."""
