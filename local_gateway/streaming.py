"""IntegrationMode=STREAM in the local gateway: the function streams in a thread of its own, as Lambda runs it apart
from API Gateway, and its output is read the way API Gateway's streaming Lambda proxy integration reads it: JSON
metadata up to the eight NUL bytes, then the body's bytes, each handed on as it comes.

"API Gateway begins the payload stream after it receives the valid metadata and delimiter from Lambda" (developer
guide, response-transfer-mode-lambda). The client then gets the status and headers the metadata gives, every entry of
`cookies` as a Set-Cookie header, and the body chunked. A stream that fails after that point ends without HTTP/1.1's
last chunk, so a client sees a cut-off response; what API Gateway itself sends then is not yet verified.
"""

import json
import queue
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

from proxy.stream_runtime import PRELUDE_DELIMITER, StreamedResponse

# How far the function may run ahead of a slow client before it waits, as a socket buffer would make it.
_QUEUED_CHUNKS = 8
# The metadata must arrive in the stream's first bytes; more than this without a delimiter is an invalid answer.
MAX_PRELUDE_BYTES = 16 * 1024
_END = object()


class StreamFailed(Exception):
    """The function's stream ended with an error, or the integration timed out, after the client got the head."""


class InvalidPrelude(Exception):
    """The stream did not start with JSON metadata and the delimiter: API Gateway cannot answer from it."""


class FunctionStream:
    """One streaming invocation running in its own thread; `read` hands over the bytes of its output as they come."""

    def __init__(self, invoke: Callable[[], StreamedResponse]) -> None:
        self._invoke = invoke
        self._chunks: queue.Queue[Any] = queue.Queue(maxsize=_QUEUED_CHUNKS)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="streaming-function", daemon=True)
        self._thread.start()

    def read(self, deadline: float) -> bytes | None:
        """The next bytes of the output; None at its end. Raises the function's exception, or TimeoutError."""
        try:
            item = self._chunks.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            raise TimeoutError("the integration timed out") from None
        if item is _END:
            return None
        if isinstance(item, BaseException):
            raise item
        chunk: bytes = item
        return chunk

    def close(self) -> None:
        """Stops the function at its next chunk (a client that went away reads no more), and lets its cleanup run."""
        self._stopped.set()
        while True:  # unblock a function waiting for room in the queue
            try:
                self._chunks.get_nowait()
            except queue.Empty:
                break

    def _run(self) -> None:
        try:
            chunks = iter(self._invoke().chunks)
            try:
                for chunk in chunks:
                    if not self._put(chunk):
                        return
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            self._put(_END)
        except Exception as error:
            self._put(error)

    def _put(self, item: Any) -> bool:
        while not self._stopped.is_set():
            try:
                self._chunks.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False


def read_stream(stream: FunctionStream, deadline: float) -> tuple[dict[str, Any], Generator[bytes]]:
    """The metadata prelude and the body still to come. Before the delimiter it raises the function's exception,
    InvalidPrelude or TimeoutError; the body raises StreamFailed."""
    head = b""
    while PRELUDE_DELIMITER not in head:
        chunk = stream.read(deadline)
        if chunk is None or len(head) > MAX_PRELUDE_BYTES:
            raise InvalidPrelude("the stream has no metadata prelude")
        head += chunk
    metadata, _, rest = head.partition(PRELUDE_DELIMITER)
    try:
        prelude = json.loads(metadata)
    except ValueError:
        raise InvalidPrelude("the metadata prelude is not JSON") from None
    if not isinstance(prelude, dict):
        raise InvalidPrelude("the metadata prelude is not a JSON object")
    return prelude, _body(stream, rest, deadline)


def _body(stream: FunctionStream, first: bytes, deadline: float) -> Generator[bytes]:
    try:
        if first:
            yield first
        while (chunk := stream.read(deadline)) is not None:
            yield chunk
    except Exception as error:
        raise StreamFailed(f"{type(error).__name__}: {error}") from error
    finally:
        stream.close()
