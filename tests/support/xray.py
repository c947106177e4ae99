"""A stand-in for the X-Ray daemon: the UDP socket the X-Ray SDK sends its segments to (AWS_XRAY_DAEMON_ADDRESS)."""

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class XRayDaemon:
    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self.packets: list[str] = []

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()
        return f"{host}:{port}"

    def received(self) -> list[dict[str, Any]]:
        """Every segment sent so far, read until the SDK has been quiet for 2 s (each packet: a header line, then
        the segment's JSON)."""
        try:
            while True:
                self.packets.append(self._socket.recv(65536).decode())
        except TimeoutError:
            pass
        return [json.loads(packet.split("\n", 1)[1]) for packet in self.packets]


@contextmanager
def xray_daemon() -> Iterator[XRayDaemon]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(2)
        yield XRayDaemon(sock)
