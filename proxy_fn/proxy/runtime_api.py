"""Lambda's Runtime API (version 2018-06-01), spoken from inside the function: wait for the next invocation, stream
its response with error trailers, report an invocation or an init error.

The contract: the Lambda guide's "Using the Lambda runtime API for custom runtimes" (next invocation and its
headers, invocation response and error, init error) and "Implementing response streaming in a custom runtime"
(`Lambda-Runtime-Function-Response-Mode: streaming`, chunked transfer encoding, errors as the trailers
`Lambda-Runtime-Function-Error-Type` and `Lambda-Runtime-Function-Error-Body`, the body base64 JSON), as AWS's own
Node.js runtime client (aws-lambda-nodejs-runtime-interface-client, src/ResponseStream.js) sends them.
"""

import base64
import contextlib
import http.client
import json
import socket
from collections.abc import Iterable, Mapping
from typing import NamedTuple

API_VERSION = "2018-06-01"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body"
_CRLF = b"\r\n"


class RuntimeApiError(Exception):
    """The Runtime API refused a call or the connection to it failed: this runtime process cannot go on."""


class Invocation(NamedTuple):
    """One event from `GET /runtime/invocation/next`, with the headers that describe it."""

    request_id: str
    deadline_ms: int  # when the function times out, Unix time in milliseconds
    function_arn: str
    trace_id: str | None
    client_context: str | None  # JSON text, for invocations through the AWS Mobile SDK
    cognito_identity: str | None  # JSON text, likewise
    event: bytes


class StreamOutcome(NamedTuple):
    """How a streamed response ended, and what the Runtime API answered (202 Accepted when it took every byte)."""

    status: int  # 0: no answer
    answer: bytes
    delivered_bytes: int
    complete: bool  # every chunk was written; False when the Runtime API stopped reading first
    failure: Exception | None = None  # what ended the stream with the error trailers

    @property
    def accepted(self) -> bool:
        return self.complete and self.failure is None and self.status == http.HTTPStatus.ACCEPTED


class FunctionError(NamedTuple):
    """An error as Lambda's runtime clients report it: a type and a message (never a stack trace to the caller)."""

    error_type: str
    message: str

    @classmethod
    def from_exception(cls, error: BaseException) -> "FunctionError":
        return cls(type(error).__name__, str(error))

    def json(self) -> bytes:
        return json.dumps({"errorType": self.error_type, "errorMessage": self.message}).encode()


class RuntimeApiClient:
    """One keep-alive HTTP/1.1 connection to the address in AWS_LAMBDA_RUNTIME_API ("host:port")."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise RuntimeApiError(f"AWS_LAMBDA_RUNTIME_API must be host:port, got {address!r}")
        self._address = (host, int(port))
        self._connection: http.client.HTTPConnection | None = None

    def next_invocation(self) -> Invocation:
        """Blocks until Lambda hands over the next event (no timeout: the environment may stay frozen for hours)."""
        response = self._call("GET", "/runtime/invocation/next")
        if response.status != http.HTTPStatus.OK:
            raise RuntimeApiError(f"next invocation answered {response.status}: {response.read()[:300]!r}")
        event = response.read()
        header = response.getheader
        try:
            return Invocation(
                request_id=header("Lambda-Runtime-Aws-Request-Id") or "",
                deadline_ms=int(header("Lambda-Runtime-Deadline-Ms") or "0"),
                function_arn=header("Lambda-Runtime-Invoked-Function-Arn") or "",
                trace_id=header("Lambda-Runtime-Trace-Id"),
                client_context=header("Lambda-Runtime-Client-Context"),
                cognito_identity=header("Lambda-Runtime-Cognito-Identity"),
                event=event,
            )
        except ValueError:
            raise RuntimeApiError(
                f"next invocation sent a deadline that is not a number: {header('Lambda-Runtime-Deadline-Ms')!r}"
            ) from None

    def stream_response(self, request_id: str, content_type: str, chunks: Iterable[bytes]) -> StreamOutcome:
        """POSTs the response as it comes, one HTTP chunk per item of `chunks`.

        An exception raised by `chunks` ends the stream with the error trailers (`failure`); a Runtime API that stops
        reading ends it early (`complete` False) and the iteration stops there. Closing `chunks` is the caller's.
        """
        connection = self._connected()
        connection.putrequest(
            "POST", f"/{API_VERSION}/runtime/invocation/{request_id}/response", skip_accept_encoding=True
        )
        connection.putheader("Content-Type", content_type)
        connection.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.putheader("Trailer", f"{ERROR_TYPE_HEADER}, {ERROR_BODY_TRAILER}")
        delivered = 0
        try:
            connection.endheaders()
            sock = connection.sock
            for chunk in chunks:
                if chunk:  # a zero-size chunk would end the body
                    sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                    delivered += len(chunk)
        except OSError:
            # The Runtime API hung up mid-stream (it refuses a response past its size limit): read its answer.
            return self._stream_outcome(connection, delivered, complete=False)
        except Exception as error:
            self._end_stream(connection, _error_trailers(FunctionError.from_exception(error)))
            return self._stream_outcome(connection, delivered, complete=True, failure=error)
        self._end_stream(connection, b"")
        return self._stream_outcome(connection, delivered, complete=True)

    def post_invocation_error(self, request_id: str, error: FunctionError) -> None:
        self._post_error(f"/runtime/invocation/{request_id}/error", error)

    def post_init_error(self, error: FunctionError) -> None:
        self._post_error("/runtime/init/error", error)

    def _post_error(self, path: str, error: FunctionError) -> None:
        response = self._call(
            "POST",
            path,
            body=error.json(),
            headers={ERROR_TYPE_HEADER: error.error_type, "Content-Type": "application/json"},
        )
        answer = response.read()
        if response.status != http.HTTPStatus.ACCEPTED:
            raise RuntimeApiError(f"{path} answered {response.status}: {answer[:300]!r}")

    def _call(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> http.client.HTTPResponse:
        connection = self._connected()
        try:
            connection.request(method, f"/{API_VERSION}{path}", body=body, headers=dict(headers or {}))
            return connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            self._close()
            raise RuntimeApiError(f"{method} {path} failed: {error}") from error

    def _connected(self) -> http.client.HTTPConnection:
        if self._connection is None:
            connection = http.client.HTTPConnection(*self._address)
            try:
                connection.connect()
            except OSError as error:
                raise RuntimeApiError(f"cannot connect to the Runtime API at {self._address}: {error}") from error
            # Each chunk is one write; without this a small one waits for the previous one's ACK (Nagle).
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connection = connection
        return self._connection

    def _end_stream(self, connection: http.client.HTTPConnection, trailers: bytes) -> None:
        with contextlib.suppress(OSError):  # the answer read next says what the Runtime API made of it
            connection.sock.sendall(b"0\r\n" + trailers + _CRLF)

    def _stream_outcome(
        self,
        connection: http.client.HTTPConnection,
        delivered: int,
        *,
        complete: bool,
        failure: Exception | None = None,
    ) -> StreamOutcome:
        reusable = False
        try:
            response = connection.getresponse()
            outcome = StreamOutcome(response.status, response.read(), delivered, complete, failure)
            reusable = complete and not response.will_close
        except (OSError, http.client.HTTPException) as error:
            outcome = StreamOutcome(0, f"no answer: {error}".encode(), delivered, complete=False, failure=failure)
        if not reusable:
            self._close()
        return outcome

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _error_trailers(error: FunctionError) -> bytes:
    encoded = base64.b64encode(error.json())
    return b"%b: %b\r\n%b: %b\r\n" % (
        ERROR_TYPE_HEADER.encode(),
        _header_safe(error.error_type),
        ERROR_BODY_TRAILER.encode(),
        encoded,
    )


def _header_safe(text: str) -> bytes:
    """An exception's type name as a header value: printable ASCII only."""
    return "".join(character if " " <= character <= "~" else "?" for character in text).encode("ascii")
