"""`make bench`: what the proxy costs, measured side by side on 127.0.0.1 against its yardsticks.

1. proxy_fn's handler round trip vs a direct urllib3 request to the same backend (1 KB, 100 KB, 5 MB; GET, POST),
   with the floor the Lambda event format forces: base64-decoding a request body, JSON-encoding a response body.
2. the full local chain (request template + handler + response template) vs the handler alone.
3. cold start: importing each handler in a fresh interpreter vs its floor (`import urllib3`, `import boto3`).
4. peak memory for a 5 MB request and a 5 MB response through the handler.
5. backend connections opened over 1,000 warm invocations.
"""

import base64
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_ROOT / "proxy_fn"), str(PROJECT_ROOT / "authorizer_fn"), str(PROJECT_ROOT)]

import urllib3

from bench.backend import text_body
from bench.load import free_loopback_port

SIZES = {"1 KB": 1024, "100 KB": 100 * 1024, "5 MB": 5 * 1024 * 1024}
REPETITIONS = {"1 KB": 2000, "100 KB": 500, "5 MB": 20}
COLD_START_RUNS = 15


@dataclass(frozen=True)
class Timing:
    samples_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def timed(action: Callable[[], object], repetitions: int) -> Timing:
    return interleaved([action], repetitions)[0]


def interleaved(actions: list[Callable[[], object]], repetitions: int) -> list[Timing]:
    """Runs the actions in turn, round after round, so a noisy moment on a shared machine hits each of them."""
    for action in actions:
        action()  # warm: connections open, caches filled
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(repetitions):
        for action, collected in zip(actions, samples, strict=True):
            started = time.perf_counter()
            action()
            collected.append((time.perf_counter() - started) * 1000)
    return [Timing(collected) for collected in samples]


def proxy_event(method: str, path: str, body: bytes) -> dict[str, Any]:
    return {
        "httpMethod": method,
        "path": path,
        "headers": {"Content-Type": "application/octet-stream", "Host": "bench.example.com"},
        "requestContext": {"requestId": "bench", "identity": {"sourceIp": "203.0.113.9"}},
        "body": base64.b64encode(body).decode("ascii") if body else None,
        "isBase64Encoded": bool(body),
    }


class Backend:
    """bench.backend in its own process, as the private service is a separate machine."""

    def __init__(self) -> None:
        port = free_loopback_port()
        command = [sys.executable, "-m", "bench.backend", "--port", str(port)]
        self._process = subprocess.Popen(command, cwd=PROJECT_ROOT)  # noqa: S603 - our interpreter, fixed arguments
        self.url = f"http://127.0.0.1:{port}"
        self._stats = urllib3.PoolManager(maxsize=1, retries=urllib3.Retry(connect=50, backoff_factor=0.05))

    def connections_opened(self) -> int:
        count: int = self._stats.request("GET", f"{self.url}/stats").json()["connections_opened"]
        return count

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


def main() -> int:
    backend = Backend()
    try:
        backend.connections_opened()  # waits until it listens
        os.environ["BACKEND_URL"] = backend.url
        os.environ["BACKEND_TIMEOUT_SECONDS"] = "28"
        from local_gateway.lambda_runtime import lambda_context  # noqa: PLC0415 - after BACKEND_URL is set
        from proxy import handler  # noqa: PLC0415 - reads BACKEND_URL at import, like a cold start

        handler.logger.setLevel("WARNING")  # one INFO line per request would be measured too
        context = lambda_context("bench")

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = handler.lambda_handler(event, context)
            assert result["statusCode"] in (200, 204), result["statusCode"]
            return result

        # The handler writes one metrics line (EMF) per invocation, as to Lambda's log; it is measured, not shown.
        with open(os.devnull, "w") as lambda_log, contextlib.redirect_stdout(lambda_log):
            tables = [
                _overhead_table(backend.url, invoke),
                _chain_table(invoke),
                _memory_table(invoke),
                _connections_line(backend, invoke),
            ]
    finally:
        backend.stop()
    print("\n".join([*tables, _cold_start_table()]))
    return 0


def _same_headers_as_the_proxy(event: dict[str, Any]) -> dict[str, str]:
    """The yardstick sends the request bytes the proxy sends, so the backend does the same work for both."""
    from proxy import handler  # noqa: PLC0415
    from proxy.event import parse_event  # noqa: PLC0415
    from proxy.upstream import build_upstream_request  # noqa: PLC0415

    return dict(build_upstream_request(parse_event(event), handler.CONFIG.backend).headers)


def _overhead_table(backend_url: str, invoke: Callable[[dict[str, Any]], Any]) -> str:
    direct = urllib3.PoolManager(maxsize=1, retries=False)
    rows = [
        "| Case | direct p50 / p99 ms | handler p50 / p99 ms | forced floor p50 ms "
        "| handler ÷ direct | handler ÷ (direct + floor) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, size in SIZES.items():
        repetitions = REPETITIONS[label]
        payload = text_body(size)
        get_event = proxy_event("GET", f"/text/{size}", b"")
        post_event = proxy_event("POST", "/upload", payload)
        text = payload.decode("ascii")
        get_headers, post_headers = _same_headers_as_the_proxy(get_event), _same_headers_as_the_proxy(post_event)
        cases = {
            "GET": (
                lambda size=size, headers=get_headers: (
                    direct.request("GET", f"{backend_url}/text/{size}", headers=headers).data
                ),
                lambda event=get_event: invoke(event),
                lambda text=text: json.dumps(text),  # a text body must become a JSON string
            ),
            "POST": (
                lambda payload=payload, headers=post_headers: (
                    direct.request("POST", f"{backend_url}/upload", body=payload, headers=headers).data
                ),
                lambda event=post_event: invoke(event),
                lambda body=post_event["body"]: base64.b64decode(body),  # the event carries the body as base64
            ),
        }
        for method, (direct_call, handler_call, floor_call) in cases.items():
            direct_time, handler_time, floor_time = interleaved([direct_call, handler_call, floor_call], repetitions)
            floor = floor_time.median
            rows.append(
                f"| {method} {label} | {direct_time.median:.2f} / {direct_time.p99:.2f} | "
                f"{handler_time.median:.2f} / {handler_time.p99:.2f} | {floor:.2f} | "
                f"{handler_time.median / direct_time.median:.2f}× | "
                f"{handler_time.median / (direct_time.median + floor):.2f}× |"
            )
    return "\n## 1. Per-request overhead (handler round trip vs a direct urllib3 request)\n\n" + "\n".join(rows)


def _chain_table(invoke: Callable[[dict[str, Any]], Any]) -> str:
    from local_gateway.integration import MethodRequest, RestApiIntegration  # noqa: PLC0415
    from local_gateway.sam_template import load_proxy_integration  # noqa: PLC0415

    chain = RestApiIntegration(load_proxy_integration(), invoke, stage="v1")
    body = text_body(1024)
    request = MethodRequest("POST", "/upload", headers=[("Content-Type", "application/octet-stream")], body=body)
    event = proxy_event("POST", "/upload", body)
    chain_time = timed(lambda: chain.handle(request), 300)
    handler_time = timed(lambda: invoke(event), 300)
    return (
        "\n## 2. Full local chain vs handler alone (POST 1 KB)\n\n"
        "| | p50 ms | p99 ms |\n| --- | --- | --- |\n"
        f"| handler alone | {handler_time.median:.2f} | {handler_time.p99:.2f} |\n"
        f"| request template + handler + response template | {chain_time.median:.2f} | {chain_time.p99:.2f} |\n"
        f"| ratio | {chain_time.median / handler_time.median:.2f}× | |"
    )


def _memory_table(invoke: Callable[[dict[str, Any]], Any]) -> str:
    size = SIZES["5 MB"]
    rows = ["| Case | peak allocated MB | ÷ body size |", "| --- | --- | --- |"]
    for label, event in (
        ("5 MB request (POST)", proxy_event("POST", "/upload", text_body(size))),
        ("5 MB response (GET)", proxy_event("GET", f"/text/{size}", b"")),
    ):
        invoke(event)
        tracemalloc.start()
        invoke(event)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append(f"| {label} | {peak / 1e6:.1f} | {peak / size:.2f}× |")
    return "\n## 4. Peak memory through the handler (tracemalloc, the event itself excluded)\n\n" + "\n".join(rows)


def _connections_line(backend: Backend, invoke: Callable[[dict[str, Any]], Any]) -> str:
    event = proxy_event("GET", "/text/1024", b"")
    before = backend.connections_opened()
    for _ in range(1000):
        invoke(event)
    opened = backend.connections_opened() - before
    return (
        "\n## 5. Backend connections\n\n"
        f"New backend connections over 1,000 warm invocations: {opened} (the container keeps the one it opened)\n"
    )


def _cold_start_table() -> str:
    python = sys.executable
    environment = {
        **os.environ,
        "BACKEND_URL": "http://127.0.0.1:9",
        "AUTH_TOKENS_PARAMETER": "/bench/tokens",
        "AWS_DEFAULT_REGION": "us-east-1",
    }

    def median_seconds(code: str, cwd: Path) -> float:
        samples = []
        for _ in range(COLD_START_RUNS):
            started = time.perf_counter()
            subprocess.run([python, "-c", code], cwd=cwd, env=environment, check=True)  # noqa: S603
            samples.append(time.perf_counter() - started)
        return statistics.median(samples) * 1000

    bare = median_seconds("pass", PROJECT_ROOT)
    rows = [
        "| Import in a fresh interpreter | median ms | ÷ floor |",
        "| --- | --- | --- |",
        f"| (interpreter start, no import) | {bare:.0f} | |",
    ]
    for label, code, cwd, floor_code in (
        ("proxy_fn: import proxy.handler", "import proxy.handler", PROJECT_ROOT / "proxy_fn", "import urllib3"),
        (
            "authorizer_fn: import authorizer.handler",
            "import authorizer.handler",
            PROJECT_ROOT / "authorizer_fn",
            "import boto3",
        ),
    ):
        floor = median_seconds(floor_code, PROJECT_ROOT)
        measured = median_seconds(code, cwd)
        rows.append(f"| floor: {floor_code} | {floor:.0f} | |")
        rows.append(f"| {label} | {measured:.0f} | {measured / floor:.2f}× |")
    return "\n## 3. Cold start (whole process, median of 15)\n\n" + "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
