"""The demo private backend: httpbin (the maintained package), served on 127.0.0.1 by werkzeug.

python -m local_gateway.demo_backend --port 8080
"""

import argparse
import logging
import sys
import threading
import warnings
from collections.abc import Sequence

from werkzeug.serving import BaseWSGIServer, make_server


def make_demo_backend(host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("httpbin").setLevel(logging.ERROR)  # it warns that its optional Swagger UI is absent
        from httpbin import app  # noqa: PLC0415 - its import warns about an optional UI; silenced around it
    return make_server(host, port, app, threaded=True)


def start_in_thread(server: BaseWSGIServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="demo-backend", daemon=True)
    thread.start()
    return thread


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo_backend", description="httpbin on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    try:
        server = make_demo_backend(port=args.port)
    except OSError as error:
        print(f"demo backend: cannot listen on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 2
    print(f"demo backend (httpbin) on http://127.0.0.1:{args.port}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
