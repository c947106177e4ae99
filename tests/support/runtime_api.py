"""A Lambda Runtime API of our own on 127.0.0.1: it hands out the events a test queues and records, for each streamed
response, when every chunk arrived, what it held and which trailers ended it.

aws-lambda-rie (AWS's emulator, which SAM CLI ships) is the reference for the protocol, but it buffers a streamed
response and refuses one past about 6 MB; this server measures what the emulator cannot: timing and large sizes.
"""

import hashlib
import json
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local_gateway.model import function_arn

_PREFIX = "/2018-06-01/runtime"


@dataclass(frozen=True)
class ReceivedChunk:
    at: float  # time.monotonic() when the chunk had fully arrived
    size: int
    data: bytes | None  # None when the invocation keeps no body (large sizes)


@dataclass
class RecordedInvocation:
    """One queued event and everything the runtime sent back for it."""

    request_id: str
    event: bytes
    headers: dict[str, str]  # what GET /next answered with
    keep_body: bool = True
    handed_out_at: float | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    chunks: list[ReceivedChunk] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | None = None  # the body of POST /invocation/{id}/error
    error_type_header: str | None = None
    size: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def body(self) -> bytes:
        assert self.keep_body, "this invocation kept no body: compare size and sha256"
        return b"".join(chunk.data or b"" for chunk in self.chunks)

    @property
    def sha256(self) -> str:
        return str(self.digest.hexdigest())

    def wait(self, seconds: float = 30) -> "RecordedInvocation":
        assert self.done.wait(seconds), f"no response to invocation {self.request_id} within {seconds} s"
        return self


class FakeRuntimeApi:
    """`with FakeRuntimeApi() as api:` then `api.address` for AWS_LAMBDA_RUNTIME_API and `api.invoke(event)`."""

    def __init__(self) -> None:
        self._pending: queue.Queue[RecordedInvocation] = queue.Queue()
        self.invocations: dict[str, RecordedInvocation] = {}
        self.init_errors: list[tuple[str | None, dict[str, Any]]] = []
        self.init_error_posted = threading.Event()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FakeRuntimeApi":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def invoke(
        self,
        event: Any,
        *,
        timeout_seconds: float = 30,
        keep_body: bool = True,
        trace_id: str | None = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> RecordedInvocation:
        """Queues an event (a JSON-able value, or bytes as they are) for the runtime's next GET /next."""
        request_id = str(uuid.uuid4())
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int((time.time() + timeout_seconds) * 1000)),
            "Lambda-Runtime-Invoked-Function-Arn": function_arn("proxy"),
        }
        optional = {
            "Lambda-Runtime-Trace-Id": trace_id,
            "Lambda-Runtime-Client-Context": client_context,
            "Lambda-Runtime-Cognito-Identity": cognito_identity,
        }
        headers |= {name: value for name, value in optional.items() if value is not None}
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        invocation = RecordedInvocation(request_id, body, headers, keep_body)
        self.invocations[request_id] = invocation
        self._pending.put(invocation)
        return invocation

    def next_invocation(self) -> RecordedInvocation | None:
        while not self._stopping.is_set():
            try:
                return self._pending.get(timeout=0.1)
            except queue.Empty:
                continue
        return None


def _handler_for(api: FakeRuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # A head and a body go out in two writes; without this, Nagle and delayed ACKs add 40 ms to each event.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests assert on the records."""

        def do_GET(self) -> None:
            if self.path != f"{_PREFIX}/invocation/next":
                return self._answer(404, {"errorType": "NotFound"})
            invocation = api.next_invocation()
            if invocation is None:  # shutting down
                self.close_connection = True
                return None
            invocation.handed_out_at = time.monotonic()
            self.send_response_only(200)
            for name, value in invocation.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(invocation.event)))
            self.end_headers()
            self.wfile.write(invocation.event)
            return None

        def do_POST(self) -> None:
            parts = self.path.removeprefix(_PREFIX).strip("/").split("/")
            if parts == ["init", "error"]:
                api.init_errors.append((self.headers.get("Lambda-Runtime-Function-Error-Type"), self._json_body()))
                api.init_error_posted.set()
                return self._answer(202, {"status": "OK"})
            if len(parts) != 3 or parts[0] != "invocation" or parts[1] not in api.invocations:
                return self._answer(404, {"errorType": "InvalidRequestID"})
            invocation = api.invocations[parts[1]]
            if parts[2] == "error":
                invocation.error_type_header = self.headers.get("Lambda-Runtime-Function-Error-Type")
                invocation.error = self._json_body()
            elif parts[2] == "response":
                invocation.response_headers = dict(self.headers.items())
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    self._read_chunks(invocation)
                else:
                    self._record(invocation, self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            else:
                return self._answer(404, {"errorType": "NotFound"})
            self._answer(202, {"status": "OK"})
            invocation.done.set()
            return None

        def _read_chunks(self, invocation: RecordedInvocation) -> None:
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
                if size == 0:
                    while line := self.rfile.readline(65536).strip():
                        name, _, value = line.decode("latin-1").partition(":")
                        invocation.trailers[name.strip()] = value.strip()
                    return
                self._record(invocation, self.rfile.read(size))
                if self.rfile.read(2) != b"\r\n":
                    raise ValueError("a chunk did not end with CRLF")

        def _record(self, invocation: RecordedInvocation, data: bytes) -> None:
            keep = invocation.keep_body or not invocation.chunks  # the first chunk holds the prelude: always kept
            invocation.chunks.append(ReceivedChunk(time.monotonic(), len(data), data if keep else None))
            invocation.size += len(data)
            invocation.digest.update(data)

        def _json_body(self) -> dict[str, Any]:
            parsed: dict[str, Any] = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            return parsed

        def _answer(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
