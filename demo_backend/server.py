"""The demo stack's private backend: the httpbin endpoints the README uses, on the Python 3.9 of Amazon Linux 2023.

The demo VPC has no route to the internet, so nothing can be installed on the instance; this stdlib-only server
is written to it by the instance's user data (template.yaml, kept identical by a test) and run by systemd.
Endpoints: /anything[/...], /get /post /put /patch /delete, /headers, /status/<code>, /bytes/<n>[?seed=],
/delay/<seconds> (at most 30), /drip?numbytes=&duration=&delay=&code=, /cookies, /cookies/set?name=value,
/redirect-to?url=...[&status_code=].
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

METHODS_ROUTES = {"/get": "GET", "/post": "POST", "/put": "PUT", "/patch": "PATCH", "/delete": "DELETE"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "demo-backend"

    def _route(self) -> None:
        target = urlsplit(self.path)
        path, query = target.path, dict(parse_qsl(target.query, keep_blank_values=True))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path == "/anything" or path.startswith("/anything/") or METHODS_ROUTES.get(path) == self.command:
            self._json(200, self._echo(query, body))
        elif path == "/headers":
            self._json(200, {"headers": dict(self.headers.items())})
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), [], b"")
        elif path.startswith("/bytes/"):
            generator = random.Random(int(query.get("seed", "0")))  # noqa: S311 - test data, not secrets
            size = min(int(path.rsplit("/", 1)[1]), 100 * 1024)
            self._send(
                200,
                [("Content-Type", "application/octet-stream")],
                bytes(generator.randrange(256) for _ in range(size)),
            )
        elif path.startswith("/delay/"):
            time.sleep(min(float(path.rsplit("/", 1)[1]), 30.0))
            self._json(200, self._echo(query, body))
        elif path == "/drip":
            self._drip(query)
        elif path == "/cookies":
            cookies = dict(
                part.strip().split("=", 1) for part in self.headers.get("Cookie", "").split(";") if "=" in part
            )
            self._json(200, {"cookies": cookies})
        elif path == "/cookies/set":
            headers = [("Location", "/cookies")] + [
                ("Set-Cookie", f"{name}={value}; Path=/") for name, value in query.items()
            ]
            self._send(302, headers, b"")
        elif path == "/redirect-to" and "url" in query:
            self._send(int(query.get("status_code", "302")), [("Location", query["url"])], b"")
        else:
            self._json(404, {"message": f"no route for {self.command} {path}"})

    def _echo(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        content_type = self.headers.get("Content-Type", "")
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            data = f"data:{content_type or 'application/octet-stream'};base64,{base64.b64encode(body).decode()}"
        form = dict(parse_qsl(data)) if content_type.startswith("application/x-www-form-urlencoded") else {}
        try:
            document = json.loads(body) if content_type.startswith("application/json") else None
        except ValueError:
            document = None
        host = self.headers.get("Host", "")
        return {
            "args": query,
            "data": "" if form else data,
            "form": form,
            "headers": dict(self.headers.items()),
            "json": document,
            "method": self.command,
            "origin": self.client_address[0],
            "url": f"http://{host}{self.path}",
        }

    def _drip(self, query: dict[str, str]) -> None:
        """httpbin's /drip: numbytes asterisks spread over duration seconds, after delay seconds. httpbin stops at
        10 MB; this goes to 200 MiB, what Lambda streams, and sends an undelayed drip in blocks."""
        numbytes = min(int(query.get("numbytes", "10")), 200 * 1024 * 1024)
        if numbytes <= 0:
            self._send(400, [("Content-Type", "text/plain")], b"number of bytes must be positive")
            return
        time.sleep(min(max(float(query.get("delay", "0")), 0.0), 30.0))
        pause = float(query.get("duration", "2")) / numbytes
        self.send_response(int(query.get("code", "200")))
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(numbytes))
        self.end_headers()
        if self.command == "HEAD":
            return
        if pause > 0:
            for _ in range(numbytes):
                self.wfile.write(b"*")
                time.sleep(pause)
            return
        block = b"*" * 65536
        for start in range(0, numbytes, len(block)):
            self.wfile.write(block[: numbytes - start])

    def _json(self, status: int, document: dict[str, Any]) -> None:
        self._send(status, [("Content-Type", "application/json")], json.dumps(document, indent=2).encode() + b"\n")

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _route


def main() -> None:
    parser = argparse.ArgumentParser(description="httpbin-compatible demo backend")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - the instance's only interface is private
    args = parser.parse_args()
    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
