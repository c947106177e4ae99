"""Hostile backends as raw byte scripts: what each sends in answer to one request, and what a client must get.

A script is played on a raw socket (tests/support/faults.py) as the answer to the second request of a test: the first
warms a pooled keep-alive connection, the third must get its own answer (its request id as the body) whatever the
script left behind. The same bytes go to h11, python-hyper's strict HTTP/1.1 parser, as an independent judge of their
framing (tests/unit/test_h11_judge.py): `h11` records its verdict, and `why` says, where h11 does not call the bytes a
protocol error, why the proxy answers as it does.
"""

import socket
import threading
import time
from dataclasses import dataclass
from typing import Literal

from tests.support.faults import read_request, reset

# The proxy's deadline in the hostile suite, and how long a script that stalls keeps its connection open.
TIMEOUT_SECONDS = 1.0
HOLD_SECONDS = 2.5

Then = Literal["serve", "close", "reset", "hold"]
Verdict = Literal["error", "complete", "complete+extra", "incomplete"]


@dataclass(frozen=True)
class HostileScript:
    name: str
    # (seconds to wait, bytes to send), in order, after the request has been read.
    steps: tuple[tuple[float, bytes], ...]
    # Afterwards: keep answering later requests on the connection well ("serve"), close it, reset it (RST), or hold
    # it open in silence for HOLD_SECONDS.
    then: Then
    status: int  # what the client gets: the backend's status, or the proxy's 502 / 504
    h11: Verdict
    body: bytes = b""  # the body the client gets when `status` is the backend's
    says: str = ""  # part of the proxy's explained error message
    why: str = ""  # required wherever h11 does not report a protocol error
    method: str = "GET"
    absent_headers: tuple[str, ...] = ()  # backend headers the client must not receive
    pause_before_next: float = 0.0  # before the next request, which must get its own answer

    @property
    def sent(self) -> bytes:
        return b"".join(data for _, data in self.steps)


def now(data: bytes) -> tuple[tuple[float, bytes], ...]:
    return ((0.0, data),)


def trickle(pieces: list[bytes], pause: float) -> tuple[tuple[float, bytes], ...]:
    return tuple((pause if index else 0.0, piece) for index, piece in enumerate(pieces))


OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
# A whole answer that a wrongly pooled connection would hand to the next request.
STALE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nstale-bytes"
CHUNKED_HEAD = OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
BIG_VALUE = b"x" * 70_000

WHY_EXTRA = (
    "h11 parses a complete answer and leaves the bytes after it unread; the proxy returns that answer and closes "
    "the connection, so the bytes never reach the next request"
)
WHY_SLOW = (
    "the bytes are a valid answer, but it does not arrive by the deadline: h11 has no clock; the proxy answers 504"
)
WHY_VALID = "a valid answer, parsed alike by h11 and the proxy"
WHY_TOO_LARGE = (
    "h11 limits only what it buffers while a head is incomplete (here fed whole); the proxy refuses any head over "
    "64 KiB (proxy.http1.HEAD_LIMIT_BYTES)"
)

SCRIPTS = [
    # ---- 1. Every answer belongs to its request: informational answers, bytes after the end ----
    HostileScript(
        "early-hints-then-answer",
        now(
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            + OK_HEAD
            + b"Content-Length: 5\r\n\r\nalice"
        ),
        "serve",
        200,
        "complete",
        body=b"alice",
        why="h11 skips the 103 as the proxy does (RFC 9110 15.2)",
    ),
    HostileScript(
        "two-early-hints-then-answer",
        now(
            b"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            + OK_HEAD
            + b"Content-Length: 2\r\n\r\nok"
        ),
        "serve",
        200,
        "complete",
        body=b"ok",
        why="h11 skips both 103s as the proxy does",
    ),
    HostileScript(
        "unasked-100-continue-then-answer",
        now(b"HTTP/1.1 100 Continue\r\n\r\n" + OK_HEAD + b"Content-Length: 2\r\n\r\nok"),
        "serve",
        200,
        "complete",
        body=b"ok",
        why="h11 skips the 100 as the proxy does",
    ),
    HostileScript(
        "102-processing-then-answer",
        trickle([b"HTTP/1.1 102 Processing\r\n\r\n", OK_HEAD + b"Content-Length: 2\r\n\r\nok"], 0.1),
        "serve",
        200,
        "complete",
        body=b"ok",
        why="h11 skips the 102 as the proxy does",
    ),
    HostileScript(
        "101-switching-protocols-unasked",
        now(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + STALE),
        "serve",
        502,
        "error",
        says="101 Switching Protocols",
    ),
    HostileScript(
        "informational-answer-with-a-bare-cr",
        now(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\rX-Injected: 1\r\n\r\n" + OK_HEAD + b"Content-Length: 2\r\n\r\nok"
        ),
        "serve",
        502,
        "error",
        says="CR, LF or NUL",
    ),
    HostileScript(
        "head-request-answered-with-a-body",
        now(OK_HEAD + b"Content-Length: 11\r\n\r\nstale-bytes"),
        "serve",
        200,
        "complete+extra",
        method="HEAD",
        why=WHY_EXTRA,
    ),
    HostileScript(
        "head-request-answered-with-a-second-answer",
        now(OK_HEAD + b"Content-Length: 11\r\n\r\n" + STALE),
        "serve",
        200,
        "complete+extra",
        method="HEAD",
        why=WHY_EXTRA,
    ),
    HostileScript(
        "204-with-a-body",
        now(b"HTTP/1.1 204 No Content\r\n\r\n" + STALE),
        "serve",
        204,
        "complete+extra",
        why=WHY_EXTRA,
    ),
    HostileScript(
        "304-with-a-body",
        now(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 11\r\n\r\nstale-bytes'),
        "serve",
        304,
        "complete+extra",
        why=WHY_EXTRA,
    ),
    HostileScript(
        "bytes-after-a-content-length-body",
        now(OK_HEAD + b"Content-Length: 2\r\n\r\nok" + STALE),
        "serve",
        200,
        "complete+extra",
        body=b"ok",
        why=WHY_EXTRA,
    ),
    HostileScript(
        "bytes-after-an-empty-body",
        now(OK_HEAD + b"Content-Length: 0\r\n\r\n" + STALE),
        "serve",
        200,
        "complete+extra",
        why=WHY_EXTRA,
    ),
    HostileScript(
        "bytes-after-the-last-chunk",
        now(CHUNKED_HEAD + b"2\r\nok\r\n0\r\n\r\n" + STALE),
        "serve",
        200,
        "complete+extra",
        body=b"ok",
        why=WHY_EXTRA,
    ),
    HostileScript(
        "second-answer-sent-a-moment-later",
        ((0.0, OK_HEAD + b"Content-Length: 2\r\n\r\nok"), (0.05, STALE)),
        "serve",
        200,
        "complete+extra",
        body=b"ok",
        pause_before_next=0.2,
        why=WHY_EXTRA + " (here the extra answer arrives 50 ms later, before the next request: urllib3's check when "
        "the pool hands the connection out again finds it)",
    ),
    HostileScript(
        "http-1.0-answer-read-until-close",
        now(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close"),
        "close",
        200,
        "complete",
        body=b"until close",
        why="framed by the close, for h11 and the proxy alike",
    ),
    HostileScript(
        "no-framing-read-until-close",
        now(OK_HEAD + b"\r\nuntil close"),
        "close",
        200,
        "complete",
        body=b"until close",
        why="framed by the close (RFC 9112 6.3 point 8), alike",
    ),
    HostileScript(
        "connection-close-after-the-answer",
        now(OK_HEAD + b"Connection: close\r\nContent-Length: 2\r\n\r\nok"),
        "close",
        200,
        "complete",
        body=b"ok",
        why=WHY_VALID,
    ),
    # ---- 3. One deadline for the whole exchange ----
    HostileScript(
        "head-trickled-one-line-at-a-time",
        trickle(
            [b"HTTP/1.1 200 OK\r\n", *[b"X-Slow-%d: 1\r\n" % n for n in range(6)], b"Content-Length: 0\r\n\r\n"], 0.3
        ),
        "hold",
        504,
        "complete",
        says="did not answer within 1 s",
        why=WHY_SLOW,
    ),
    HostileScript(
        "endless-100-continue",
        trickle([b"HTTP/1.1 100 Continue\r\n\r\n"] * 40, 0.05),
        "hold",
        504,
        "incomplete",
        says="did not answer within 1 s",
        why="never a final answer: h11 waits for more",
    ),
    HostileScript(
        "endless-chunked-trailers",
        trickle([CHUNKED_HEAD + b"2\r\nok\r\n0\r\n", *[b"X-Trailer-%d: 1\r\n" % n for n in range(25)]], 0.1),
        "hold",
        504,
        "incomplete",
        says="did not finish its response within 1 s",
        why="the trailers never end",
    ),
    HostileScript(
        "body-trickled-past-the-deadline",
        trickle([OK_HEAD + b"Content-Length: 20\r\n\r\n", *[b"x"] * 20], 0.1),
        "hold",
        504,
        "complete",
        says="did not finish its response within 1 s",
        why=WHY_SLOW,
    ),
    HostileScript(
        "chunks-trickled-past-the-deadline",
        trickle([CHUNKED_HEAD, *[b"1\r\nx\r\n"] * 20], 0.1),
        "hold",
        504,
        "incomplete",
        says="did not finish its response within 1 s",
        why="the last chunk never comes",
    ),
    HostileScript(
        "silent-after-the-status-line",
        now(b"HTTP/1.1 200 OK\r\n"),
        "hold",
        504,
        "incomplete",
        says="did not answer within 1 s",
        why="h11 waits for the rest of the head",
    ),
    HostileScript(
        "silent-after-the-head",
        now(OK_HEAD + b"Content-Length: 10\r\n\r\n"),
        "hold",
        504,
        "incomplete",
        says="did not finish its response within 1 s",
        why="h11 waits for the body",
    ),
    # ---- 3. Cut short: never a short 200 ----
    HostileScript(
        "chunk-size-line-trickled-then-closed",
        trickle([CHUNKED_HEAD, b"1", b"0"], 0.1),
        "close",
        502,
        "error",
        says="closed in the middle of the chunked framing",
    ),
    HostileScript(
        "content-length-body-cut-short",
        now(OK_HEAD + b"Content-Length: 100\r\n\r\nonly-part"),
        "close",
        502,
        "error",
        says="9 bytes into a body of 100",
    ),
    HostileScript(
        "chunked-body-closed-mid-chunk",
        now(CHUNKED_HEAD + b"a\r\nabc"),
        "close",
        502,
        "error",
        says="closed in the middle of a chunk",
    ),
    HostileScript(
        "chunked-body-closed-before-the-last-chunk",
        now(CHUNKED_HEAD + b"2\r\nok\r\n"),
        "close",
        502,
        "error",
        says="closed in the middle of the chunked framing",
    ),
    HostileScript(
        "chunked-body-closed-before-the-end-of-the-trailers",
        now(CHUNKED_HEAD + b"2\r\nok\r\n0\r\nX-Trailer: 1\r\n"),
        "close",
        502,
        "error",
        says="closed in the middle of the trailer section",
    ),
    HostileScript(
        "body-reset-mid-way",
        now(OK_HEAD + b"Content-Length: 100000\r\n\r\n" + b"x" * 1000),
        "reset",
        502,
        "error",
        says="the connection was reset",
    ),
    HostileScript(
        "closed-in-the-middle-of-the-head",
        now(b"HTTP/1.1 200 OK\r\nContent-Ty"),
        "close",
        502,
        "error",
        says="closed in the middle of a response head",
    ),
    # ---- 4. What goes back is valid HTTP ----
    HostileScript(
        "status-600",
        now(b"HTTP/1.1 600 Beyond\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        502,
        "complete",
        says="status 600",
        why="h11 takes any three digits; RFC 9110 15 defines 100-599",
    ),
    HostileScript(
        "status-999",
        now(b"HTTP/1.1 999 Nine\r\nContent-Length: 0\r\n\r\n"),
        "serve",
        502,
        "complete",
        says="status 999",
        why="h11 takes any three digits; RFC 9110 15 defines 100-599",
    ),
    HostileScript(
        "status-099",
        now(b"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n"),
        "serve",
        502,
        "error",
        says="status 99",
    ),
    HostileScript(
        "obs-folded-header",
        now(OK_HEAD + b"X-Folded: first\r\n second\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        502,
        "complete",
        says="obs-fold",
        why="h11 unfolds obs-fold; RFC 9112 5.2 lets a gateway answer 502 instead, which the proxy does",
    ),
    HostileScript(
        "bare-cr-splitting-a-header",
        now(OK_HEAD + b"X-A: v\rSet-Cookie: admin=1\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        502,
        "error",
        says="CR, LF or NUL",
    ),
    HostileScript(
        "nul-in-a-header-value",
        now(OK_HEAD + b"X-A: a\x00b\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        502,
        "error",
        says="CR, LF or NUL",
    ),
    HostileScript(
        "control-character-in-a-header-value",
        now(OK_HEAD + b"X-A: a\x01b\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        502,
        "complete",
        says="control character in the value of X-A",
        why="h11 refuses only NUL, CR and LF in a value; RFC 9110 5.5 makes every control character but tab invalid",
    ),
    HostileScript(
        "del-in-a-header-value",
        now(OK_HEAD + b"X-A: a\x7fb\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        502,
        "complete",
        says="control character in the value of X-A",
        why="h11 accepts DEL (0x7F) in a value; RFC 9110 5.5 does not (it is not a VCHAR)",
    ),
    HostileScript(
        "header-name-that-is-not-a-token",
        now(OK_HEAD + b'X(A)"b: v\r\nContent-Length: 2\r\n\r\nok'),
        "serve",
        502,
        "error",
        says="not a token",
    ),
    HostileScript(
        "space-before-the-colon",
        now(OK_HEAD + b"Content-Length : 2\r\n\r\nok"),
        "serve",
        502,
        "error",
        says="not a token",
    ),
    HostileScript(
        "one-header-over-64-kib",
        now(OK_HEAD + b"X-Big: " + BIG_VALUE + b"\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        502,
        "complete",
        says="larger than 65,536 bytes",
        why=WHY_TOO_LARGE,
    ),
    HostileScript(
        "many-headers-over-64-kib",
        now(OK_HEAD + b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 1000) for n in range(70)) + b"Content-Length: 0\r\n\r\n"),
        "serve",
        502,
        "complete",
        says="larger than 65,536 bytes",
        why=WHY_TOO_LARGE,
    ),
    HostileScript(
        "transfer-encoding-other-than-chunked",
        now(OK_HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        "serve",
        502,
        "error",
        says="Transfer-Encoding other than chunked",
    ),
    HostileScript(
        "transfer-encoding-and-content-length",
        now(OK_HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
        "serve",
        502,
        "complete",
        says="both Transfer-Encoding and Content-Length",
        why="h11 lets Transfer-Encoding win; RFC 9112 6.3 says such a message ought to be handled as an error",
    ),
    HostileScript(
        "content-lengths-that-differ",
        now(OK_HEAD + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\nok!"),
        "serve",
        502,
        "error",
        says="Content-Length values that differ",
    ),
    HostileScript(
        "content-length-with-a-sign",
        now(OK_HEAD + b"Content-Length: +2\r\n\r\nok"),
        "serve",
        502,
        "error",
        says="Content-Length that is not a number",
    ),
    HostileScript(
        "chunk-extension-with-a-bare-cr",
        now(CHUNKED_HEAD + b"2;ext=a\rb\r\nok\r\n0\r\n\r\n"),
        "serve",
        502,
        "complete",
        says="invalid chunk-size line",
        why="h11 ignores chunk extensions whatever they hold; RFC 9112 7.1.1's grammar has no CR in them",
    ),
    HostileScript(
        "chunk-size-that-is-not-hex",
        now(CHUNKED_HEAD + b"zz\r\nok\r\n0\r\n\r\n"),
        "serve",
        502,
        "error",
        says="invalid chunk-size line",
    ),
    HostileScript(
        "chunk-data-longer-than-its-size",
        now(CHUNKED_HEAD + b"2\r\nokAY\r\n0\r\n\r\n"),
        "serve",
        502,
        "error",
        says="chunk data longer than its chunk size",
    ),
    HostileScript(
        "invalid-trailer-field",
        now(CHUNKED_HEAD + b"2\r\nok\r\n0\r\nBad Trailer: 1\r\n\r\n"),
        "serve",
        502,
        "error",
        says="invalid trailer field",
    ),
    HostileScript(
        "not-http-at-all",
        now(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff garbage\r\n\r\n"),
        "serve",
        502,
        "error",
        says="status line",
    ),
    HostileScript(
        "http-2-status-line",
        now(b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
        "serve",
        502,
        "complete",
        says="status line",
        why="h11 takes any version digits; on an HTTP/1.1 connection only HTTP/1.x framing is defined (RFC 9112 2.3)",
    ),
    HostileScript(
        "empty-line-before-the-status-line",
        now(b"\r\n" + OK_HEAD + b"Content-Length: 2\r\n\r\nok"),
        "serve",
        502,
        "error",
        says="empty line where the status line belongs",
    ),
    HostileScript(
        "headers-named-by-connection-are-dropped",
        now(
            OK_HEAD
            + b"Connection: X-Internal\r\nX-Internal: secret\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok"
        ),
        "serve",
        200,
        "complete",
        body=b"ok",
        absent_headers=("X-Internal", "Keep-Alive", "Connection"),
        why="valid; RFC 9110 7.6.1 has a proxy drop the fields Connection names, which h11 leaves to its user",
    ),
    HostileScript(
        "hop-by-hop-headers-are-dropped",
        now(OK_HEAD + b"Upgrade: h2c\r\nProxy-Authenticate: Basic\r\nTrailer: X-T\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        200,
        "complete",
        body=b"ok",
        absent_headers=("Upgrade", "Proxy-Authenticate", "Trailer"),
        why="valid; RFC 9110 7.6.1's hop-by-hop fields are for one connection only",
    ),
    HostileScript(
        "bare-lf-line-ends",
        now(b"HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n\nok"),
        "serve",
        200,
        "complete",
        body=b"ok",
        why="RFC 9112 2.2 lets a recipient accept a bare LF; h11 does too",
    ),
    HostileScript(
        "chunked-with-trailers",
        now(CHUNKED_HEAD + b"3;note=x\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 1\r\n\r\n"),
        "serve",
        200,
        "complete",
        body=b"abcde",
        absent_headers=("X-Checksum",),
        why=WHY_VALID,
    ),
    HostileScript(
        "repeated-identical-content-length",
        now(OK_HEAD + b"Content-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        200,
        "complete",
        body=b"ok",
        why="RFC 9110 8.6 lets a recipient take identical repeats as one value",
    ),
    HostileScript(
        "status-line-without-a-reason-phrase",
        now(b"HTTP/1.1 200\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"),
        "serve",
        200,
        "complete",
        body=b"ok",
        why=WHY_VALID,
    ),
]


def good_answer(request: bytes) -> bytes:
    """200 with the request's X-Request-Id as its body (no body for HEAD)."""
    head, _, _ = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    request_id = next(
        (line.split(b":", 1)[1].strip() for line in lines[1:] if line.lower().startswith(b"x-request-id:")), b"none"
    )
    body = b"" if lines[0].startswith(b"HEAD ") else request_id
    return OK_HEAD + b"Content-Length: %d\r\n\r\n" % len(request_id) + body


class Playbook:
    """A FaultServer script: every request gets `good_answer`, except the `hostile_at`-th overall, which gets the
    script's bytes; then the connection goes on as `script.then` says."""

    def __init__(self, script: HostileScript, hostile_at: int = 2) -> None:
        self.script = script
        self.hostile_at = hostile_at
        self.requests = 0
        self._lock = threading.Lock()

    def __call__(self, connection: socket.socket) -> None:
        while request := read_request(connection):
            with self._lock:
                self.requests += 1
                number = self.requests
            if number != self.hostile_at:
                connection.sendall(good_answer(request))
                continue
            for pause, data in self.script.steps:
                time.sleep(pause)
                connection.sendall(data)
            if self.script.then == "serve":
                continue
            if self.script.then == "reset":
                time.sleep(0.05)
                reset(connection)
            elif self.script.then == "hold":
                time.sleep(HOLD_SECONDS)
            return
