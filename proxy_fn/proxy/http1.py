"""HTTP/1.1 on a backend connection (RFC 9112): the request written as bytes, the response read strictly.

The backend is input like any other. Its answer must have an HTTP/1.x status line with a status from 100 to 599,
header fields that fit RFC 9110's grammar (a token, a colon, a value without control characters), a head of at
most HEAD_LIMIT_BYTES, and a body framed by the method, the status, Transfer-Encoding (chunked only) or
Content-Length, read to the exact end its framing gives, chunked trailers included. Informational answers (1xx)
are read and skipped; a 101 is refused, since the proxy never asks for an upgrade. Anything else is a
BackendInvalidResponse naming the rule it broke, never a guess: a guess about where an answer ends is how the next
request on the connection would receive the rest of this one.

Every read waits only as long as its ReadLimits allow, so a backend that trickles bytes cannot stretch the exchange
past its deadline. A connection may carry another exchange only when the answer ended exactly where its framing
said and no further byte was buffered or waiting on the socket (`ResponseReader.reusable`).
"""

import re
import select
import socket
import ssl
import time
from collections.abc import Iterator
from typing import NamedTuple

from urllib3.util.wait import wait_for_read

from proxy.errors import BackendInvalidResponse, BackendTimeout

# The status line and header lines of one response (each informational answer and the trailers alike). Larger
# heads are refused; nginx (proxy_buffer_size, 4 or 8 KB) and Node.js (16 KB) stop earlier, Go later (1 MB).
HEAD_LIMIT_BYTES = 65_536
# A chunk-size line with its extensions.
CHUNK_LINE_LIMIT_BYTES = 4_096
# Bytes asked of the socket per read: the head, and the body (which may go straight to the client in a stream).
HEAD_READ_BYTES = 65_536
BODY_READ_BYTES = 262_144
# A request body up to this size goes out with the head in one write (it fits the socket buffers); a larger one goes
# out as the socket takes it, in slices (a TLS write blocks until its whole slice is written), watching for an
# answer that arrives before the body is sent.
_SMALL_BODY_BYTES = 65_536
_SEND_SLICE_BYTES = 262_144

# RFC 9110 5.6.2 token (a field name); 5.5 field value (visible characters and obs-text, single spaces or tabs
# between them).
_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_VALUE = r"(?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?"
# Heads are decoded as Latin-1 (one character per byte) and matched as text; a line may end in CRLF or LF
# (RFC 9112 2.2 lets a recipient accept a bare LF), never in a bare CR.
_STATUS_LINE = re.compile(r"HTTP/1\.([0-9]) ([0-9]{3})(?: [\t\x20-\x7e\x80-\xff]*)?\r?\n")
_FIELD_LINE = f"({_NAME}):[ \\t]*({_VALUE})[ \\t]*\\r?\\n"
_FIELD = re.compile(_FIELD_LINE)
_FIELDS = re.compile(f"(?:{_FIELD_LINE})*")
# A field's value between optional whitespace. Only _field_problem uses it, and _NAME alone, to say what is wrong
# with a head that failed _FIELDS: left to re's cache, they are compiled when that first happens, not at init.
_OWS_VALUE = f"[ \\t]*{_VALUE}[ \\t]*"
# The blank line that ends a head or a trailer section; group 1 is absent when the block is empty.
_BLOCK_END = re.compile(rb"(?:^|(\n))\r?\n")
# RFC 9112 7.1: chunk-size, optional whitespace and chunk extensions (no control characters), CRLF.
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[\t\x20-\x7e\x80-\xff]*)?")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")

# RFC 9110 7.6.1: meaningful for one connection only; never returned to the client.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_FRAMING = frozenset({"connection", "content-length", "transfer-encoding"})
# RFC 9110 6.4.1: no content in answers to HEAD, nor in 1xx, 204 and 304 answers.
_NO_BODY_STATUSES = frozenset({204, 304})
# Request methods whose requests carry Content-Length even when empty (as urllib3 and http.client send them).
_METHODS_WITHOUT_BODY = frozenset({"GET", "HEAD", "DELETE", "TRACE", "OPTIONS", "CONNECT"})

_NONE, _LENGTH, _CHUNKED, _UNTIL_CLOSE = range(4)


class NoAnswer(Exception):
    """The connection ended (closed or reset) before any byte of an answer arrived."""


class ReadLimits:
    """How long each read may wait: until `deadline` (a time.monotonic() value, None for no deadline), and at most
    `idle` seconds after the previous read. A read that runs out of either is a BackendTimeout with its message."""

    __slots__ = ("_deadline", "_idle", "_idle_message", "_late_message", "_reason")

    def __init__(
        self, deadline: float | None, late_message: str, idle: float | None = None, idle_message: str = ""
    ) -> None:
        self._deadline = deadline
        self._late_message = late_message
        self._idle = idle
        self._idle_message = idle_message
        self._reason = late_message

    def seconds(self) -> float | None:
        """The time the next socket operation may take; raises BackendTimeout when there is none left."""
        if self._deadline is None:
            self._reason = self._idle_message
            return self._idle
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise BackendTimeout(self._late_message)
        if self._idle is not None and self._idle < left:
            self._reason = self._idle_message
            return self._idle
        self._reason = self._late_message
        return left

    def expired(self) -> BackendTimeout:
        """The timeout of the operation that `seconds()` last allowed."""
        return BackendTimeout(self._reason)


def request_head(method: str, target: str, headers: list[tuple[str, str]], body_length: int) -> bytes:
    """The request line and header block. Every part was checked upstream: a token method, a target of URI
    characters, header names that are tokens and values without CR, LF or NUL, already Latin-1 text."""
    lines = [f"{name}: {value}\r\n" for name, value in headers]
    if body_length or method not in _METHODS_WITHOUT_BODY:
        lines.append(f"Content-Length: {body_length}\r\n")
    return f"{method} {target} HTTP/1.1\r\n{''.join(lines)}\r\n".encode("latin-1")


class Sent(NamedTuple):
    """How far a request got: its head and all of it handed to the kernel, and any answer bytes that arrived while
    the body was still going out."""

    head: bool
    whole: bool
    early_answer: bytes = b""


def send_request(sock: socket.socket, head: bytes, body: bytes, limits: ReadLimits) -> Sent:
    """Writes the request. A write that fails (the backend closed or reset the connection) stops it without
    raising: an answer may be waiting all the same. A large body goes out as the socket takes it, and stops as soon
    as an answer begins to arrive (RFC 9112 9.5): a 413 sent before the body was read reaches the client at once.
    """
    first = head + body if len(body) <= _SMALL_BODY_BYTES else head
    sent = _send(sock, first, limits, whole=True)
    if sent < len(first):
        return Sent(head=sent >= len(head), whole=False)
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLOUT)
    view = memoryview(body)
    done = len(first) - len(head)
    while done < len(body):
        seconds = limits.seconds()
        events = poller.poll(None if seconds is None else seconds * 1000)
        if not events:
            raise limits.expired()
        if events[0][1] & ~select.POLLOUT:  # readable, closed or failed: an answer, or only TLS's own messages
            arrived = _read_now(sock)
            if arrived is not None:
                return Sent(head=True, whole=False, early_answer=arrived)
        piece = view[done : done + _SEND_SLICE_BYTES]
        written = _send(sock, piece, limits, whole=False)
        if not written:
            return Sent(head=True, whole=False)
        done += written
    return Sent(head=True, whole=True)


def _read_now(sock: socket.socket) -> bytes | None:
    """The answer bytes already readable (b"" if the connection ended), or None when what made the socket readable
    was no answer: a TLS 1.3 server sends its session tickets after the handshake, at any time."""
    sock.settimeout(0.0)
    try:
        return sock.recv(HEAD_READ_BYTES)
    except (BlockingIOError, ssl.SSLWantReadError):
        return None
    except OSError:
        return b""


def _send(sock: socket.socket, data: bytes | memoryview, limits: ReadLimits, *, whole: bool) -> int:
    """How many bytes were handed to the kernel: all of `data` when `whole`, else what one write took (a socket
    with a timeout does not block in send); fewer, or none, when the connection failed."""
    view = memoryview(data)
    sent = 0
    while sent < len(view):
        sock.settimeout(limits.seconds())
        try:
            sent += sock.send(view[sent:])
        except TimeoutError:
            raise limits.expired() from None
        except OSError:  # reset, broken pipe, or a TLS failure: whatever answer came is read next
            break
        if not whole:
            break
    return sent


class ResponseReader:
    """Reads one answer from `sock`: `read_head()` once, then `body()` to its end."""

    __slots__ = (
        "_buffer",
        "_framing",
        "_keep_alive",
        "_length",
        "_method",
        "_received",
        "_reusable",
        "_sock",
        "limits",
    )

    def __init__(self, sock: socket.socket, method: str, limits: ReadLimits, sent: Sent) -> None:
        self._sock = sock
        self._method = method
        self.limits = limits
        self._buffer = bytearray(sent.early_answer)
        self._received = bool(sent.early_answer)
        self._framing = _NONE
        self._length = 0
        # A request that was not sent whole leaves the backend waiting for the rest: never reuse the connection.
        self._keep_alive = sent.whole
        self._reusable = False

    @property
    def content_length(self) -> int | None:
        """The body's length when Content-Length frames it."""
        return self._length if self._framing == _LENGTH else None

    @property
    def reusable(self) -> bool:
        """The answer was read to its exact end, its framing allows another exchange, and no byte followed it."""
        return self._reusable

    def read_head(self) -> tuple[int, list[tuple[str, str]]]:
        """The final answer's status and headers, with hop-by-hop fields and those named in Connection removed.

        Raises NoAnswer when the connection ended before any byte, BackendInvalidResponse, BackendTimeout."""
        while True:
            head = self._read_block("a response head")
            if not head:
                raise _invalid("an empty line where the status line belongs")
            version, status, fields = _parse_head(head)
            if status >= 200:
                break
            if status == 101:
                raise _invalid("101 Switching Protocols, though the proxy never asks for an upgrade")
        if self._method == "CONNECT" and status < 300:
            raise _invalid(f"{status} to CONNECT, which would turn the connection into a tunnel")
        headers, framing, length, keep_alive = _interpret(fields, version)
        if self._method == "HEAD" or status in _NO_BODY_STATUSES:
            framing, length = _NONE, 0
        self._framing = framing
        self._length = length
        self._keep_alive = self._keep_alive and keep_alive
        if framing == _NONE:
            self._finish()
        return status, headers

    def body(self) -> Iterator[bytes]:
        """The body's bytes as they arrive (at most BODY_READ_BYTES at a time), then checks its exact end."""
        if self._framing == _LENGTH:
            yield from self._length_body(self._length)
        elif self._framing == _CHUNKED:
            yield from self._chunked_body()
        elif self._framing == _UNTIL_CLOSE:
            yield from self._body_until_close()
        else:
            return
        self._finish()

    def _finish(self) -> None:
        self._reusable = self._keep_alive and not self._buffer and not byte_waiting(self._sock)

    # ---- reading ----

    def _recv(self, size: int) -> bytes:
        """Up to `size` bytes; b"" when the backend closed the connection after answering something."""
        self._sock.settimeout(self.limits.seconds())
        try:
            data = self._sock.recv(size)
        except TimeoutError:
            raise self.limits.expired() from None
        except OSError as error:  # reset, or a TLS failure
            if not self._received:
                raise NoAnswer from error
            raise _invalid("the connection was reset before the end of the answer") from None
        if data:
            self._received = True
        elif not self._received:
            raise NoAnswer
        return data

    def _fill(self, what: str) -> None:
        data = self._recv(HEAD_READ_BYTES)
        if not data:
            raise _invalid(f"the connection closed in the middle of {what}")
        self._buffer += data

    def _read_block(self, what: str) -> bytes:
        """Lines up to a blank line (which is consumed), each with its line end; b"" for an empty block."""
        buffer = self._buffer
        searched = 0
        while True:
            end = _BLOCK_END.search(buffer, searched)
            if end is not None:
                size = end.start() + 1 if end.group(1) else 0
                if size > HEAD_LIMIT_BYTES:
                    break
                block = bytes(buffer[:size])
                del buffer[: end.end()]
                return block
            if len(buffer) > HEAD_LIMIT_BYTES:
                break
            searched = max(0, len(buffer) - 2)
            self._fill(what)
        raise _invalid(f"{what} larger than {HEAD_LIMIT_BYTES:,} bytes")

    def _read_line(self) -> bytes:
        """One CRLF-terminated line of chunked framing, without its CRLF."""
        buffer = self._buffer
        searched = 0
        while (end := buffer.find(b"\r\n", searched)) < 0:
            if len(buffer) > CHUNK_LINE_LIMIT_BYTES:
                raise _invalid(f"a chunk-size line longer than {CHUNK_LINE_LIMIT_BYTES:,} bytes")
            searched = max(0, len(buffer) - 1)
            self._fill("the chunked framing")
        line = bytes(buffer[:end])
        del buffer[: end + 2]
        return line

    def _take(self, wanted: int) -> bytes:
        """Up to `wanted` body bytes: what is buffered first, then one read from the socket."""
        buffer = self._buffer
        if buffer:
            piece = bytes(buffer[:wanted])
            del buffer[:wanted]
            return piece
        return self._recv(min(wanted, BODY_READ_BYTES))

    def _length_body(self, length: int) -> Iterator[bytes]:
        left = length
        while left:
            piece = self._take(left)
            if not piece:
                raise _invalid(f"the connection closed {length - left:,} bytes into a body of {length:,}")
            left -= len(piece)
            yield piece

    def _chunked_body(self) -> Iterator[bytes]:
        while True:
            line = self._read_line()
            match = _CHUNK_LINE.fullmatch(line)
            if match is None:
                raise _invalid("an invalid chunk-size line (a hexadecimal size and extensions, RFC 9112 7.1)")
            size = int(match.group(1), 16)
            if size == 0:
                break
            left = size
            while left:
                piece = self._take(left)
                if not piece:
                    raise _invalid("the connection closed in the middle of a chunk")
                left -= len(piece)
                yield piece
            if self._read_line():
                raise _invalid("chunk data longer than its chunk size")
        trailers = self._read_block("the trailer section")
        if not _FIELDS.fullmatch(trailers.decode("latin-1")):
            raise _invalid("an invalid trailer field")

    def _body_until_close(self) -> Iterator[bytes]:
        if self._buffer:
            piece = bytes(self._buffer)
            self._buffer.clear()
            yield piece
        while piece := self._recv(BODY_READ_BYTES):
            yield piece


def _parse_head(head: bytes) -> tuple[int, int, list[tuple[str, str]]]:
    """(minor version, status, header fields) of one head, each value decoded as UTF-8 when it is UTF-8."""
    text = head.decode("latin-1")
    status_line = _STATUS_LINE.match(text)
    if status_line is None:
        raise _invalid("a status line that is not 'HTTP/1.x', a three-digit status and a reason phrase")
    status = int(status_line.group(2))
    if status < 100 or status > 599:
        raise _invalid(f"status {status}, outside 100-599")
    start = status_line.end()
    if not _FIELDS.fullmatch(text, start):
        raise _invalid(_field_problem(text[start:]))
    fields: list[tuple[str, str]] = _FIELD.findall(text, start)
    if not head.isascii():
        fields = [(name, _utf8(value)) for name, value in fields]
    return int(status_line.group(1)), status, fields


def _interpret(fields: list[tuple[str, str]], minor_version: int) -> tuple[list[tuple[str, str]], int, int, bool]:
    """(headers to return, framing, Content-Length, keep-alive allowed) per RFC 9112 6.3 and 9.3."""
    headers: list[tuple[str, str]] = []
    lengths: list[str] = []
    codings: list[str] = []
    options: set[str] = set()
    for name, value in fields:
        key = name.lower()
        if key in _FRAMING:
            parts = [part.strip() for part in value.split(",")]
            if key == "content-length":
                lengths.extend(parts)
            elif key == "transfer-encoding":
                codings.extend(part.lower() for part in parts)
            else:
                options.update(part.lower() for part in parts)
        if key not in HOP_BY_HOP:
            headers.append((name, value))
    if options - {"close", "keep-alive"}:
        headers = [(name, value) for name, value in headers if name.lower() not in options]
    framing, length = _framing(lengths, codings)
    return headers, framing, length, "close" not in options and minor_version >= 1 and framing != _UNTIL_CLOSE


def _framing(lengths: list[str], codings: list[str]) -> tuple[int, int]:
    """How the body is delimited, and its length when Content-Length gives it (RFC 9112 6.3)."""
    if codings:
        if codings != ["chunked"]:
            raise _invalid("a Transfer-Encoding other than chunked")
        if lengths:
            raise _invalid("both Transfer-Encoding and Content-Length, which could frame the answer two ways")
        return _CHUNKED, 0
    if not lengths:
        return _UNTIL_CLOSE, 0
    if not all(_CONTENT_LENGTH.fullmatch(length) for length in lengths):
        raise _invalid("a Content-Length that is not a number")
    if len({int(length) for length in lengths}) > 1:
        raise _invalid("Content-Length values that differ")
    return _LENGTH, int(lengths[0])


def _field_problem(lines: str) -> str:
    """Why the header block does not match RFC 9110/9112's grammar, naming the rule and never the content."""
    for line in re.split(r"\r?\n", lines)[:-1]:  # the block ends with a line end
        if line[:1] in (" ", "\t"):
            return "a folded header line (obs-fold, RFC 9112 5.2)"
        name, colon, value = line.partition(":")
        if not colon or not re.fullmatch(_NAME, name):
            return "a header line whose name is not a token (RFC 9110 5.1)"
        if "\r" in value or "\x00" in value:
            return "a header value with CR, LF or NUL (RFC 9110 5.5)"
        if not re.fullmatch(_OWS_VALUE, value):
            return f"a control character in the value of {name[:64]} (RFC 9110 5.5)"
    return "an invalid header block"


def _utf8(value: str) -> str:
    """A value's bytes as UTF-8 text when they are UTF-8, else as Latin-1 (one character per byte)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return value


def byte_waiting(sock: socket.socket) -> bool:
    """Whether a byte is already waiting: decrypted and buffered by TLS, or readable on the socket."""
    pending = getattr(sock, "pending", None)
    if pending is not None and pending():
        return True
    return wait_for_read(sock, timeout=0.0)


def _invalid(reason: str) -> BackendInvalidResponse:
    return BackendInvalidResponse(f"the backend sent an invalid HTTP response: {reason}")
