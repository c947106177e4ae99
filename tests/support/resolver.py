"""A resolver the test controls: one made-up host name answers with the loopback addresses a test gives it."""

import socket
import threading
import time
from typing import Any

import pytest


class Resolver:
    """`resolver.answer("10.0.0.1", ...)`: what the name resolves to from now on, in that order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lookups = 0
        self.delay_seconds = 0.0  # how long each lookup takes, as a slow or unreachable DNS server makes it
        self._addresses: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def answer(self, *addresses: str) -> None:
        with self._lock:
            self._addresses = addresses

    def resolve(self, port: int) -> list[tuple[Any, ...]]:
        with self._lock:
            self.lookups += 1
            addresses = self._addresses
        time.sleep(self.delay_seconds)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port)) for address in addresses]


def control_resolution(monkeypatch: pytest.MonkeyPatch, name: str) -> Resolver:
    """Until the test ends, socket.getaddrinfo answers `name` from the returned Resolver, other names as before."""
    resolver = Resolver(name)
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host == name:
            return resolver.resolve(int(port))
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return resolver
