"""A real HTTP/1.1 server on a loopback address that records what it received and answers as a test tells it."""

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HeaderLookup:
    """Case-insensitive lookup in headers as Python's http modules give them (each value decoded as Latin-1)."""

    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        values = self.headers_named(name)
        return values[0] if values else None

    def headers_named(self, name: str) -> list[str]:
        # http.server and http.client decode header bytes as Latin-1; undo that to compare with what was sent.
        return [
            value.encode("latin-1").decode("utf-8", "replace")
            for key, value in self.headers
            if key.lower() == name.lower()
        ]


@dataclass(frozen=True)
class ReceivedRequest(HeaderLookup):
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    delay_before_headers: float = 0.0
    body_trickle_seconds: float = 0.0  # send the body one byte at a time over this long


Responder = Callable[[ReceivedRequest], Reply]


def echo(request: ReceivedRequest) -> Reply:
    return Reply(200, [("Content-Type", "application/octet-stream")], request.body)


class RecordingBackend:
    """Start with `with RecordingBackend() as backend:`; `backend.responder` decides every answer.

    `host` and `port` choose where it listens (a free port on 127.0.0.1 by default): two backends on 127.0.0.2 and
    127.0.0.3 with one port behind one name; tests/sam_local binds the Docker bridge gateway, which is what
    host.docker.internal reaches from a container.
    """

    def __init__(self, tls_context: ssl.SSLContext | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[ReceivedRequest] = []
        self.responder: Responder = echo
        self.connections_opened = 0
        self._lock = threading.Lock()
        self._idle: dict[socket.socket, bool] = {}  # each open connection: is it waiting for a request?
        self._draining = False
        self._server = _Server((host, port), _handler_for(self))
        if tls_context is not None:
            self._server.socket = tls_context.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls_context else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def last(self) -> ReceivedRequest:
        return self.requests[-1]

    def __enter__(self) -> "RecordingBackend":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def drain(self, seconds: float = 5.0) -> None:
        """Stops as a replaced task does: new connections are refused, idle keep-alive connections closed, the
        requests in progress answered (with `Connection: close`), then it exits."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            self._draining = True
            for connection, idle in self._idle.items():
                if idle:
                    with contextlib.suppress(OSError):  # the client may have closed it first
                        connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + seconds
        while self._idle and time.monotonic() < deadline:
            time.sleep(0.005)

    @property
    def draining(self) -> bool:
        return self._draining

    def record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self.connections_opened += 1
            self._idle[connection] = True

    def starts_request(self, connection: socket.socket) -> bool:
        """False if draining closed this connection while it was idle: the request is dropped unread."""
        with self._lock:
            if self._draining and self._idle[connection]:
                return False
            self._idle[connection] = False
            return True

    def finished_request(self, connection: socket.socket) -> bool:
        """Whether the connection may wait for another request: not once the backend is draining."""
        with self._lock:
            self._idle[connection] = True
            return not self._draining

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            del self._idle[connection]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A proxy hanging up mid-body (timeouts, oversize answers) is what several tests cause on purpose."""


def _handler_for(backend: RecordingBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real service behind a proxy

        def setup(self) -> None:
            super().setup()
            backend.opened(self.connection)
            # Headers and body go out in two writes; without this, Nagle and delayed ACKs add 40 ms each.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                backend.closed(self.connection)

        def parse_request(self) -> bool:
            # Called once the request line has arrived: from here on the connection is busy.
            return backend.starts_request(self.connection) and super().parse_request()

        def handle_one_request(self) -> None:
            super().handle_one_request()
            if not backend.finished_request(self.connection):
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests assert on what was received instead."""

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = ReceivedRequest(
                method=self.command,
                # the raw request-target: http.server's self.path collapses a leading "//"
                target=self.requestline.split(" ")[1],
                headers=list(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
            )
            backend.record(request)
            reply = backend.responder(request)
            time.sleep(reply.delay_before_headers)
            self.send_response_only(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value.encode("utf-8").decode("latin-1"))  # UTF-8 bytes on the wire
            if not any(name.lower() == "content-length" for name, _ in reply.headers):
                self.send_header("Content-Length", str(len(reply.body)))
            if backend.draining:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                return
            if reply.body_trickle_seconds:
                pause = reply.body_trickle_seconds / max(len(reply.body), 1)
                for index in range(len(reply.body)):
                    self.wfile.write(reply.body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(pause)
            else:
                self.wfile.write(reply.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer

    return Handler
