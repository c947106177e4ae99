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
from typing import Any, Literal

from tests.support.faults import read_request, reset

# The proxy's deadline in the hostile suite, and how long a script that stalls keeps its connection open.
TIMEOUT_SECONDS = 1.0
HOLD_SECONDS = 2.5

Then = Literal["serve", "close", "reset", "hold"]
Steps = tuple[tuple[float, bytes], ...]
Verdict = Literal["error", "complete", "complete+extra", "incomplete"]


@dataclass(frozen=True)
class HostileScript:
    name: str
    # (seconds to wait, bytes to send), in order, after the request has been read.
    steps: Steps
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


def now(data: bytes) -> Steps:
    return ((0.0, data),)


def trickle(pieces: list[bytes], pause: float) -> Steps:
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


def answered(
    name: str, steps: Steps, status: int, *, then: Then = "serve", h11: Verdict = "complete", **more: Any
) -> HostileScript:
    """A script whose answer the client gets: the backend's status (and `body`)."""
    return HostileScript(name, steps, then, status, h11, **more)


def left_over(name: str, steps: Steps, status: int, **more: Any) -> HostileScript:
    """A complete answer followed by more bytes: the client gets the answer, the connection is closed."""
    return HostileScript(name, steps, "serve", status, "complete+extra", why=more.pop("why", WHY_EXTRA), **more)


def refused(
    name: str, steps: Steps, says: str, *, h11: Verdict = "error", then: Then = "serve", why: str = ""
) -> HostileScript:
    """A script the proxy answers with its explained 502."""
    return HostileScript(name, steps, then, 502, h11, says=says, why=why)


def too_slow(name: str, steps: Steps, says: str, *, h11: Verdict, why: str) -> HostileScript:
    """A script that stalls: the proxy answers 504 at the deadline while the backend holds the connection open."""
    return HostileScript(name, steps, "hold", 504, h11, says=says, why=why)


SCRIPTS = [
    # ---- 1. Every answer belongs to its request: informational answers, bytes after the end ----
    answered(
        "early-hints-then-answer",
        now(
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            + OK_HEAD
            + b"Content-Length: 5\r\n\r\nalice"
        ),
        200,
        body=b"alice",
        why="h11 skips the 103 as the proxy does (RFC 9110 15.2)",
    ),
    answered(
        "two-early-hints-then-answer",
        now(
            b"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            + OK_HEAD
            + b"Content-Length: 2\r\n\r\nok"
        ),
        200,
        body=b"ok",
        why="h11 skips both 103s as the proxy does",
    ),
    answered(
        "unasked-100-continue-then-answer",
        now(b"HTTP/1.1 100 Continue\r\n\r\n" + OK_HEAD + b"Content-Length: 2\r\n\r\nok"),
        200,
        body=b"ok",
        why="h11 skips the 100 as the proxy does",
    ),
    answered(
        "102-processing-then-answer",
        trickle([b"HTTP/1.1 102 Processing\r\n\r\n", OK_HEAD + b"Content-Length: 2\r\n\r\nok"], 0.1),
        200,
        body=b"ok",
        why="h11 skips the 102 as the proxy does",
    ),
    refused(
        "101-switching-protocols-unasked",
        now(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + STALE),
        "101 Switching Protocols",
    ),
    refused(
        "informational-answer-with-a-bare-cr",
        now(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\rX-Injected: 1\r\n\r\n" + OK_HEAD + b"Content-Length: 2\r\n\r\nok"
        ),
        "CR, LF or NUL",
    ),
    left_over(
        "head-request-answered-with-a-body",
        now(OK_HEAD + b"Content-Length: 11\r\n\r\nstale-bytes"),
        200,
        method="HEAD",
    ),
    left_over(
        "head-request-answered-with-a-second-answer",
        now(OK_HEAD + b"Content-Length: 11\r\n\r\n" + STALE),
        200,
        method="HEAD",
    ),
    left_over("204-with-a-body", now(b"HTTP/1.1 204 No Content\r\n\r\n" + STALE), 204),
    left_over(
        "304-with-a-body",
        now(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 11\r\n\r\nstale-bytes'),
        304,
    ),
    left_over(
        "bytes-after-a-content-length-body",
        now(OK_HEAD + b"Content-Length: 2\r\n\r\nok" + STALE),
        200,
        body=b"ok",
    ),
    left_over(
        "bytes-after-an-empty-body",
        now(OK_HEAD + b"Content-Length: 0\r\n\r\n" + STALE),
        200,
    ),
    left_over(
        "bytes-after-the-last-chunk",
        now(CHUNKED_HEAD + b"2\r\nok\r\n0\r\n\r\n" + STALE),
        200,
        body=b"ok",
    ),
    left_over(
        "second-answer-sent-a-moment-later",
        ((0.0, OK_HEAD + b"Content-Length: 2\r\n\r\nok"), (0.05, STALE)),
        200,
        body=b"ok",
        pause_before_next=0.2,
        why=WHY_EXTRA + " (here the extra answer arrives 50 ms later, before the next request: urllib3's check when "
        "the pool hands the connection out again finds it)",
    ),
    answered(
        "http-1.0-answer-read-until-close",
        now(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close"),
        200,
        body=b"until close",
        then="close",
        why="framed by the close, for h11 and the proxy alike",
    ),
    answered(
        "no-framing-read-until-close",
        now(OK_HEAD + b"\r\nuntil close"),
        200,
        body=b"until close",
        then="close",
        why="framed by the close (RFC 9112 6.3 point 8), alike",
    ),
    answered(
        "connection-close-after-the-answer",
        now(OK_HEAD + b"Connection: close\r\nContent-Length: 2\r\n\r\nok"),
        200,
        body=b"ok",
        then="close",
        why=WHY_VALID,
    ),
    # ---- 3. One deadline for the whole exchange ----
    too_slow(
        "head-trickled-one-line-at-a-time",
        trickle(
            [b"HTTP/1.1 200 OK\r\n", *[b"X-Slow-%d: 1\r\n" % n for n in range(6)], b"Content-Length: 0\r\n\r\n"], 0.3
        ),
        "did not answer within 1 s",
        h11="complete",
        why=WHY_SLOW,
    ),
    too_slow(
        "endless-100-continue",
        trickle([b"HTTP/1.1 100 Continue\r\n\r\n"] * 40, 0.05),
        "did not answer within 1 s",
        h11="incomplete",
        why="never a final answer: h11 waits for more",
    ),
    too_slow(
        "endless-chunked-trailers",
        trickle([CHUNKED_HEAD + b"2\r\nok\r\n0\r\n", *[b"X-Trailer-%d: 1\r\n" % n for n in range(25)]], 0.1),
        "did not finish its response within 1 s",
        h11="incomplete",
        why="the trailers never end",
    ),
    too_slow(
        "body-trickled-past-the-deadline",
        trickle([OK_HEAD + b"Content-Length: 20\r\n\r\n", *[b"x"] * 20], 0.1),
        "did not finish its response within 1 s",
        h11="complete",
        why=WHY_SLOW,
    ),
    too_slow(
        "chunks-trickled-past-the-deadline",
        trickle([CHUNKED_HEAD, *[b"1\r\nx\r\n"] * 20], 0.1),
        "did not finish its response within 1 s",
        h11="incomplete",
        why="the last chunk never comes",
    ),
    too_slow(
        "silent-after-the-status-line",
        now(b"HTTP/1.1 200 OK\r\n"),
        "did not answer within 1 s",
        h11="incomplete",
        why="h11 waits for the rest of the head",
    ),
    too_slow(
        "silent-after-the-head",
        now(OK_HEAD + b"Content-Length: 10\r\n\r\n"),
        "did not finish its response within 1 s",
        h11="incomplete",
        why="h11 waits for the body",
    ),
    # ---- 3. Cut short: never a short 200 ----
    refused(
        "chunk-size-line-trickled-then-closed",
        trickle([CHUNKED_HEAD, b"1", b"0"], 0.1),
        "closed in the middle of the chunked framing",
        then="close",
    ),
    refused(
        "content-length-body-cut-short",
        now(OK_HEAD + b"Content-Length: 100\r\n\r\nonly-part"),
        "9 bytes into a body of 100",
        then="close",
    ),
    refused(
        "chunked-body-closed-mid-chunk",
        now(CHUNKED_HEAD + b"a\r\nabc"),
        "closed in the middle of a chunk",
        then="close",
    ),
    refused(
        "chunked-body-closed-before-the-last-chunk",
        now(CHUNKED_HEAD + b"2\r\nok\r\n"),
        "closed in the middle of the chunked framing",
        then="close",
    ),
    refused(
        "chunked-body-closed-before-the-end-of-the-trailers",
        now(CHUNKED_HEAD + b"2\r\nok\r\n0\r\nX-Trailer: 1\r\n"),
        "closed in the middle of the trailer section",
        then="close",
    ),
    refused(
        "body-reset-mid-way",
        now(OK_HEAD + b"Content-Length: 100000\r\n\r\n" + b"x" * 1000),
        "the connection was reset",
        then="reset",
    ),
    refused(
        "closed-in-the-middle-of-the-head",
        now(b"HTTP/1.1 200 OK\r\nContent-Ty"),
        "closed in the middle of a response head",
        then="close",
    ),
    # ---- 4. What goes back is valid HTTP ----
    refused(
        "status-600",
        now(b"HTTP/1.1 600 Beyond\r\nContent-Length: 2\r\n\r\nok"),
        "status 600",
        h11="complete",
        why="h11 takes any three digits; RFC 9110 15 defines 100-599",
    ),
    refused(
        "status-999",
        now(b"HTTP/1.1 999 Nine\r\nContent-Length: 0\r\n\r\n"),
        "status 999",
        h11="complete",
        why="h11 takes any three digits; RFC 9110 15 defines 100-599",
    ),
    refused("status-099", now(b"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n"), "status 99"),
    refused(
        "obs-folded-header",
        now(OK_HEAD + b"X-Folded: first\r\n second\r\nContent-Length: 2\r\n\r\nok"),
        "obs-fold",
        h11="complete",
        why="h11 unfolds obs-fold; RFC 9112 5.2 lets a gateway answer 502 instead, which the proxy does",
    ),
    refused(
        "bare-cr-splitting-a-header",
        now(OK_HEAD + b"X-A: v\rSet-Cookie: admin=1\r\nContent-Length: 2\r\n\r\nok"),
        "CR, LF or NUL",
    ),
    refused("nul-in-a-header-value", now(OK_HEAD + b"X-A: a\x00b\r\nContent-Length: 2\r\n\r\nok"), "CR, LF or NUL"),
    refused(
        "control-character-in-a-header-value",
        now(OK_HEAD + b"X-A: a\x01b\r\nContent-Length: 2\r\n\r\nok"),
        "control character in the value of X-A",
        h11="complete",
        why="h11 refuses only NUL, CR and LF in a value; RFC 9110 5.5 makes every control character but tab invalid",
    ),
    refused(
        "del-in-a-header-value",
        now(OK_HEAD + b"X-A: a\x7fb\r\nContent-Length: 2\r\n\r\nok"),
        "control character in the value of X-A",
        h11="complete",
        why="h11 accepts DEL (0x7F) in a value; RFC 9110 5.5 does not (it is not a VCHAR)",
    ),
    refused(
        "header-name-that-is-not-a-token", now(OK_HEAD + b'X(A)"b: v\r\nContent-Length: 2\r\n\r\nok'), "not a token"
    ),
    refused("space-before-the-colon", now(OK_HEAD + b"Content-Length : 2\r\n\r\nok"), "not a token"),
    refused(
        "one-header-over-64-kib",
        now(OK_HEAD + b"X-Big: " + BIG_VALUE + b"\r\nContent-Length: 2\r\n\r\nok"),
        "larger than 65,536 bytes",
        h11="complete",
        why=WHY_TOO_LARGE,
    ),
    refused(
        "many-headers-over-64-kib",
        now(OK_HEAD + b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 1000) for n in range(70)) + b"Content-Length: 0\r\n\r\n"),
        "larger than 65,536 bytes",
        h11="complete",
        why=WHY_TOO_LARGE,
    ),
    refused(
        "transfer-encoding-other-than-chunked",
        now(OK_HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        "Transfer-Encoding other than chunked",
    ),
    refused(
        "transfer-encoding-and-content-length",
        now(OK_HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
        "both Transfer-Encoding and Content-Length",
        h11="complete",
        why="h11 lets Transfer-Encoding win; RFC 9112 6.3 says such a message ought to be handled as an error",
    ),
    refused(
        "content-lengths-that-differ",
        now(OK_HEAD + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\nok!"),
        "Content-Length values that differ",
    ),
    refused(
        "content-length-with-a-sign",
        now(OK_HEAD + b"Content-Length: +2\r\n\r\nok"),
        "Content-Length that is not a number",
    ),
    refused(
        "chunk-extension-with-a-bare-cr",
        now(CHUNKED_HEAD + b"2;ext=a\rb\r\nok\r\n0\r\n\r\n"),
        "invalid chunk-size line",
        h11="complete",
        why="h11 ignores chunk extensions whatever they hold; RFC 9112 7.1.1's grammar has no CR in them",
    ),
    refused("chunk-size-that-is-not-hex", now(CHUNKED_HEAD + b"zz\r\nok\r\n0\r\n\r\n"), "invalid chunk-size line"),
    refused(
        "chunk-data-longer-than-its-size",
        now(CHUNKED_HEAD + b"2\r\nokAY\r\n0\r\n\r\n"),
        "chunk data longer than its chunk size",
    ),
    refused(
        "invalid-trailer-field", now(CHUNKED_HEAD + b"2\r\nok\r\n0\r\nBad Trailer: 1\r\n\r\n"), "invalid trailer field"
    ),
    refused("not-http-at-all", now(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff garbage\r\n\r\n"), "status line"),
    refused(
        "http-2-status-line",
        now(b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
        "status line",
        h11="complete",
        why="h11 takes any version digits; on an HTTP/1.1 connection only HTTP/1.x framing is defined (RFC 9112 2.3)",
    ),
    refused(
        "empty-line-before-the-status-line",
        now(b"\r\n" + OK_HEAD + b"Content-Length: 2\r\n\r\nok"),
        "empty line where the status line belongs",
    ),
    answered(
        "headers-named-by-connection-are-dropped",
        now(
            OK_HEAD
            + b"Connection: X-Internal\r\nX-Internal: secret\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok"
        ),
        200,
        body=b"ok",
        absent_headers=("X-Internal", "Keep-Alive", "Connection"),
        why="valid; RFC 9110 7.6.1 has a proxy drop the fields Connection names, which h11 leaves to its user",
    ),
    answered(
        "hop-by-hop-headers-are-dropped",
        now(OK_HEAD + b"Upgrade: h2c\r\nProxy-Authenticate: Basic\r\nTrailer: X-T\r\nContent-Length: 2\r\n\r\nok"),
        200,
        body=b"ok",
        absent_headers=("Upgrade", "Proxy-Authenticate", "Trailer"),
        why="valid; RFC 9110 7.6.1's hop-by-hop fields are for one connection only",
    ),
    answered(
        "bare-lf-line-ends",
        now(b"HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n\nok"),
        200,
        body=b"ok",
        why="RFC 9112 2.2 lets a recipient accept a bare LF; h11 does too",
    ),
    answered(
        "chunked-with-trailers",
        now(CHUNKED_HEAD + b"3;note=x\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 1\r\n\r\n"),
        200,
        body=b"abcde",
        absent_headers=("X-Checksum",),
        why=WHY_VALID,
    ),
    answered(
        "repeated-identical-content-length",
        now(OK_HEAD + b"Content-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok"),
        200,
        body=b"ok",
        why="RFC 9110 8.6 lets a recipient take identical repeats as one value",
    ),
    answered(
        "status-line-without-a-reason-phrase",
        now(b"HTTP/1.1 200\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"),
        200,
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
