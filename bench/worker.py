"""The measured side of `make bench`: one process, started by bench.run, possibly under a CPU quota.

    python -m bench.worker --backend URL --plan PLAN --out FILE

It imports the proxy handler as a cold start does and runs it as deployed: one INFO line per request through the
handler's logger and one EMF metrics line per invocation, both written to its stdout, which bench.run sends to
/dev/null (the formatting work is measured, the output is not kept). Results go to FILE as JSON.

Plans: `warm` (handler, direct urllib3 request and the event format's forced floor, interleaved), `breakdown` (the
parts of one warm 1 KB request, each timed alone, and the alternatives they were chosen over), `rounds` (1 KB GET
only, for the memory table), `extras` (peak allocations, the local chain, connections).
"""

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_ROOT / "proxy_fn"), str(PROJECT_ROOT)]

Action = Callable[[], object]
# name -> {"wall_ns": [...], "cpu_ns": [...]}
Samples = dict[str, dict[str, list[int]]]

SIZES = {"1 KB": 1024, "100 KB": 100 * 1024, "5 MB": 5 * 1024 * 1024}


def text_body(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


def proxy_event(method: str, path: str, body: bytes) -> dict[str, Any]:
    """The REST proxy event the request template renders (the headers a browser-less client sends)."""
    return {
        "resource": "/{proxy+}",
        "httpMethod": method,
        "path": path,
        "headers": {
            "Accept": "*/*",
            "Content-Type": "application/octet-stream",
            "Host": "bench.example.com",
            "User-Agent": "bench/1.0",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
        },
        "queryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "bench/1.0"},
            "authorizer": {"principalId": "acme", "client": "acme", "claims": {"sub": ""}},
        },
        "body": base64.b64encode(body).decode("ascii") if body else None,
        "isBase64Encoded": bool(body),
    }


def interleaved(actions: dict[str, Action], rounds: int) -> Samples:
    """Runs the actions in turn, round after round, so a noisy moment (or a quota pause) can hit any of them."""
    for action in actions.values():
        action()  # warm: connections open, caches filled
    samples: Samples = {name: {"wall_ns": [], "cpu_ns": []} for name in actions}
    clock, cpu = time.perf_counter_ns, time.process_time_ns
    for _ in range(rounds):
        for name, action in actions.items():
            started, cpu_started = clock(), cpu()
            action()
            cpu_ended, ended = cpu(), clock()
            samples[name]["wall_ns"].append(ended - started)
            samples[name]["cpu_ns"].append(cpu_ended - cpu_started)
    return samples


class Bench:
    """The handler, imported as a cold start imports it, and the yardsticks it is compared with."""

    def __init__(self, backend_url: str) -> None:
        os.environ["BACKEND_URL"] = backend_url
        os.environ["BACKEND_TIMEOUT_SECONDS"] = "28"
        import urllib3  # noqa: PLC0415 - the yardstick

        from local_gateway.lambda_runtime import lambda_context  # noqa: PLC0415
        from proxy import handler  # noqa: PLC0415 - reads BACKEND_URL at import, like a cold start

        self.handler = handler
        self.backend_url = backend_url
        self.context = lambda_context("bench")
        self.direct = urllib3.PoolManager(maxsize=1, retries=False)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.handler.lambda_handler(event, self.context)
        assert result["statusCode"] in (200, 204), result["statusCode"]
        return result

    def upstream_headers(self, event: dict[str, Any]) -> dict[str, str]:
        """The yardstick sends the request bytes the proxy sends, so the backend does the same work for both."""
        from proxy.event import parse_event  # noqa: PLC0415
        from proxy.upstream import build_upstream_request  # noqa: PLC0415

        config = self.handler.CONFIG
        upstream = build_upstream_request(parse_event(event), config.backend, withheld=config.withheld_headers)
        return dict(upstream.headers)

    def cases(self, label: str) -> dict[str, dict[str, Action]]:
        """GET (the backend answers `size` bytes of text) and POST (the client sends `size` bytes)."""
        size = SIZES[label]
        payload = text_body(size)
        get_event = proxy_event("GET", f"/text/{size}", b"")
        post_event = proxy_event("POST", "/upload", payload)
        get_headers, post_headers = self.upstream_headers(get_event), self.upstream_headers(post_event)
        text, post_body = payload.decode("ascii"), post_event["body"]
        get_url, post_url = f"{self.backend_url}/text/{size}", f"{self.backend_url}/upload"
        return {
            "GET": {
                "direct": lambda: self.direct.request("GET", get_url, headers=get_headers).data,
                "handler": lambda: self.invoke(get_event),
                "floor": lambda: json.dumps(text),  # the runtime JSON-encodes a text body
            },
            "POST": {
                "direct": lambda: self.direct.request("POST", post_url, body=payload, headers=post_headers).data,
                "handler": lambda: self.invoke(post_event),
                "floor": lambda: base64.b64decode(post_body),  # the event carries the body as base64
            },
        }


def warm(bench: Bench, rounds: dict[str, int]) -> dict[str, Samples]:
    results: dict[str, Samples] = {}
    for label, count in rounds.items():
        for method, actions in bench.cases(label).items():
            _progress(f"{method} {label}: {count} interleaved rounds")
            results[f"{method} {label}"] = interleaved(actions, count)
    return results


def breakdown(bench: Bench, rounds: int) -> Samples:
    """The parts of one warm 1 KB GET, each timed alone, and what each was measured against."""
    from bench import components  # noqa: PLC0415

    _progress(f"component breakdown: {rounds} interleaved rounds")
    return interleaved(components.actions(bench), rounds)


def extras(bench: Bench, rounds: int) -> dict[str, Any]:
    """Peak allocations for 5 MB bodies, the full local chain vs the handler alone, connections opened."""
    import tracemalloc  # noqa: PLC0415

    from local_gateway.integration import MethodRequest, RestApiIntegration  # noqa: PLC0415
    from local_gateway.sam_template import load_proxy_integration  # noqa: PLC0415

    size = SIZES["5 MB"]
    peaks = {}
    for label, event in (
        ("5 MB request (POST)", proxy_event("POST", "/upload", text_body(size))),
        ("5 MB response (GET)", proxy_event("GET", f"/text/{size}", b"")),
    ):
        bench.invoke(event)
        tracemalloc.start()
        bench.invoke(event)
        peaks[label] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    chain = RestApiIntegration(load_proxy_integration(), bench.invoke, stage="v1")
    body = text_body(1024)
    request = MethodRequest("POST", "/upload", headers=[("Content-Type", "application/octet-stream")], body=body)
    event = proxy_event("POST", "/upload", body)
    timings = interleaved({"chain": lambda: chain.handle(request), "handler": lambda: bench.invoke(event)}, rounds)

    stats = bench.direct.request("GET", f"{bench.backend_url}/stats")
    before = json.loads(stats.data)["connections_opened"]
    get_event = proxy_event("GET", "/text/1024", b"")
    for _ in range(1000):
        bench.invoke(get_event)
    after = json.loads(bench.direct.request("GET", f"{bench.backend_url}/stats").data)["connections_opened"]
    return {
        "tracemalloc": peaks,
        "chain": timings["chain"]["wall_ns"],
        "handler": timings["handler"]["wall_ns"],
        "connections": after - before,
    }


def _progress(message: str) -> None:
    print(f"    worker: {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.worker")
    parser.add_argument("--backend", required=True)
    parser.add_argument("--plan", choices=["warm", "breakdown", "rounds", "extras"], required=True)
    parser.add_argument("--rounds", type=json.loads, required=True, help='e.g. {"1 KB": 2000}')
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    bench = Bench(args.backend)
    if args.plan == "breakdown":
        result: Any = breakdown(bench, args.rounds["1 KB"])
    elif args.plan == "extras":
        result = extras(bench, args.rounds["1 KB"])
    elif args.plan == "rounds":
        actions = bench.cases("1 KB")["GET"]
        result = interleaved({"direct": actions["direct"], "handler": actions["handler"]}, args.rounds["1 KB"])
    else:
        result = warm(bench, args.rounds)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
