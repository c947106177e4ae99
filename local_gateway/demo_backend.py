"""The demo private backend: httpbin (the maintained package), served on 127.0.0.1 by werkzeug.

python -m local_gateway.demo_backend [--port 8080] [--verbose]
"""

import argparse
import logging
import socket
import sys
import threading
import warnings
from collections.abc import Sequence

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietRequests(WSGIRequestHandler):
    """make local writes its own access-log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _PlainRequests(WSGIRequestHandler):
    """werkzeug's request line without the colour codes it writes even into files and pipes."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log("info", '"%s" %s %s', self.requestline, code, size)


def listen(port: int, host: str = "127.0.0.1") -> socket.socket:
    """A listening socket, or OSError when another one listens on the port.

    SO_REUSEADDR, as werkzeug and http.server set it, lets a restart reuse a port whose old connections are in
    TIME_WAIT; Linux still refuses it while any other socket listens there.
    """
    listener = socket.socket()
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


def make_demo_backend(listener: socket.socket | None = None, *, verbose: bool = False) -> BaseWSGIServer:
    """httpbin on `listener` (by default a free port on 127.0.0.1); `server.port` is its port."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("httpbin").setLevel(logging.ERROR)  # it warns that its optional Swagger UI is absent
        from httpbin import app  # noqa: PLC0415 - its import warns about an optional UI; silenced around it
    with listener or listen(0) as bound:
        host, port = bound.getsockname()[:2]
        handler = _PlainRequests if verbose else _QuietRequests
        # werkzeug serves a duplicate of the descriptor; this one closes on leaving the block.
        return make_server(host, port, app, threaded=True, request_handler=handler, fd=bound.fileno())


def start_in_thread(server: BaseWSGIServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="demo-backend", daemon=True)
    thread.start()
    return thread


def _stop_when_stdin_closes(server: BaseWSGIServer) -> None:
    """make local holds the other end: it closes when make local exits, however it exits (even SIGKILL)."""
    sys.stdin.buffer.read()
    server.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_gateway.demo_backend", description="httpbin on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="default: %(default)s")
    parser.add_argument("--verbose", action="store_true", help="log each request on stderr")
    # make local's: a socket it has bound already, so a busy port is refused before anything starts.
    parser.add_argument("--socket-fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.socket_fd is not None:
        server = make_demo_backend(socket.socket(fileno=args.socket_fd), verbose=args.verbose)
        threading.Thread(target=_stop_when_stdin_closes, args=(server,), daemon=True).start()
    else:
        try:
            server = make_demo_backend(listen(args.port), verbose=args.verbose)
        except OSError as error:
            print(f"demo backend: port {args.port} is not free ({error.strerror}); use --port", file=sys.stderr)
            return 2
        print(f"demo backend (httpbin) on http://127.0.0.1:{server.port}; Ctrl-C stops it", file=sys.stderr)
    server.serve_forever()  # werkzeug's: returns on Ctrl-C or shutdown(), and closes the socket
    return 0


if __name__ == "__main__":
    sys.exit(main())
