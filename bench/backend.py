"""The benchmark's backend on 127.0.0.1, in its own process as a real service is:

    python -m bench.backend --port N

GET /text/<n> answers n bytes of text, POST drains the body and answers 204. GET /stats gives the number of
connections opened so far and the headers of the last other request (what the proxy sent, for the yardsticks).
"""

import argparse
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.fixtures import text_body


class EchoBackend:
    def __init__(self, port: int = 0) -> None:
        self.connections_opened = 0
        self.last_headers: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "EchoBackend":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(backend: EchoBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            backend.connections_opened += 1
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet while measuring."""

        def do_GET(self) -> None:
            if self.path == "/stats":
                stats = {"connections_opened": backend.connections_opened, "last_headers": backend.last_headers}
                body = json.dumps(stats).encode()
            else:
                backend.last_headers = list(self.headers.items())
                body = text_body(int(self.path.rsplit("/", 1)[1]))
            self.send_response_only(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            backend.last_headers = list(self.headers.items())
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining:
                remaining -= len(self.rfile.read(min(remaining, 1 << 20)))
            self.send_response_only(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.backend")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with EchoBackend(args.port):
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
