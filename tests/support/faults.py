"""A raw TCP server on 127.0.0.1 that misbehaves on purpose: each connection runs the script a test sets."""

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Script = Callable[[socket.socket], object]


def read_request(connection: socket.socket) -> bytes:
    """Reads one request: up to the end of its headers, then as many body bytes as its Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    size = len(head) + 4 + (int(lengths[0]) if lengths else 0)
    while len(data) < size and (chunk := connection.recv(65536)):
        data += chunk
    return data


def reset(connection: socket.socket) -> None:
    """Closes with RST instead of FIN, as a crashed process or a load balancer timeout does."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def silent_after_request(connection: socket.socket) -> None:
    """Reads the request, then answers nothing for 3 s (longer than the tests' backend timeouts)."""
    read_request(connection)
    time.sleep(3)


def chunks_slowly(pieces: tuple[bytes, ...], pause: float) -> Callable[[socket.socket], None]:
    """A body script: each piece as one chunk, `pause` seconds apart, then the last chunk."""

    def send(connection: socket.socket) -> None:
        for piece in pieces:
            connection.sendall(b"%x\r\n%b\r\n" % (len(piece), piece))
            time.sleep(pause)
        connection.sendall(b"0\r\n\r\n")

    return send


class FaultServer:
    def __init__(self) -> None:
        self.script: Script = lambda connection: None
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # close() does not wake a blocked accept() on Linux; poll instead
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(None)
            self.connections += 1
            threading.Thread(target=self._run, args=(connection,), daemon=True).start()

    def _run(self, connection: socket.socket) -> None:
        try:
            self.script(connection)
        except OSError:
            pass  # the proxy hanging up first is part of several scenarios
        finally:
            connection.close()


@contextmanager
def unresponsive_listener(host: str, port: int) -> Iterator[None]:
    """An address where a connect never completes: a listener whose accept queue is full and never drained,
    as a stopped task's address in a stale DNS answer behaves (no refusal, no answer)."""
    with socket.socket() as listener:
        listener.bind((host, port))
        listener.listen(0)  # Linux queues one connection, then drops further SYNs
        with socket.create_connection((host, port)):
            yield
