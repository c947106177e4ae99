"""The measured side of warm invocations: one process, started by bench.warm, that runs a function as Lambda does.

    python -c "...; from bench.worker import main; ..." --plan PLAN --rounds JSON --out FILE [--backend URL]
        [--memory MB] [--group PROCS]

Started by bench.packages.python_running, which puts the function's package (or its folder) first on sys.path.
It imports the function at a full CPU (Lambda's init), then joins the CPU-share group `--group` (bench.cpu_share),
then measures: every invocation runs at the memory's share, as on Lambda. The proxy writes its INFO line and its EMF
line per request to stdout, which bench.warm sends to /dev/null: the formatting work is measured, the output is not
kept. Results go to FILE as JSON.

Plans: `warm` (handler, direct urllib3 request and the event format's forced floor, interleaved), `breakdown` (the
parts of one warm 1 KB request, each timed alone, and the alternatives they were chosen over), `rounds` (1 KB GET
only, for the memory table), `extras` (peak allocations, the local chain, connections, new TLS connections),
`authorizations` (the authorizer with its token store cached) and `store-reads` (the authorizer reading the store from
SSM each time, next to the SDK's own GetParameter).
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from bench import components
from bench.cases import Authorizer, Proxy
from bench.cpu_share import join_group
from bench.fixtures import SIZES, proxy_event, text_body
from bench.timing import Samples, interleaved

PROXY_PLANS = ("warm", "breakdown", "rounds", "extras")
# The extras' https backend (the SSM stand-in, over TLS) and the CA bundle that trusts it, from bench.run.
TLS_BACKEND, TLS_CA_BUNDLE = "BENCH_TLS_BACKEND", "BENCH_TLS_CA_BUNDLE"
TLS_PATH = "/"  # 236 bytes; moto_server closes the connection after each answer anyway
AUTHORIZER_PLANS = ("authorizations", "store-reads")


def warm(proxy: Proxy, rounds: dict[str, int]) -> dict[str, Samples]:
    results: dict[str, Samples] = {}
    for label, count in rounds.items():
        for method, actions in proxy.cases(label).items():
            _progress(f"{method} {label}: {count} interleaved rounds")
            results[f"{method} {label}"] = interleaved(actions, count)
    return results


def extras(proxy: Proxy, rounds: int) -> dict[str, Any]:
    """Peak allocations for 5 MB bodies, the full local chain vs the handler alone, connections opened, and the cost
    of a new TLS connection."""
    import tracemalloc  # noqa: PLC0415

    from local_gateway.integration import RestApiIntegration  # noqa: PLC0415
    from local_gateway.model import MethodRequest  # noqa: PLC0415
    from local_gateway.sam_template import load_proxy_integration  # noqa: PLC0415

    size = SIZES["5 MB"]
    peaks = {}
    for label, event in (
        ("5 MB request (POST)", proxy_event("POST", "/upload", text_body(size))),
        ("5 MB response (GET)", proxy_event("GET", f"/text/{size}", b"")),
    ):
        proxy.invoke(event)
        tracemalloc.start()
        proxy.invoke(event)
        peaks[label] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    chain = RestApiIntegration(load_proxy_integration(), proxy.invoke, stage="v1")
    body = text_body(1024)
    request = MethodRequest("POST", "/upload", headers=[("Content-Type", "application/octet-stream")], body=body)
    event = proxy_event("POST", "/upload", body)
    timings = interleaved({"chain": lambda: chain.handle(request), "handler": lambda: proxy.invoke(event)}, rounds)

    before = proxy.backend_stats()["connections_opened"]
    get_event = proxy_event("GET", "/text/1024", b"")
    for _ in range(1000):
        proxy.invoke(get_event)
    after = proxy.backend_stats()["connections_opened"]
    return {
        "tracemalloc": peaks,
        "chain": timings["chain"]["wall_ns"],
        "handler": timings["handler"]["wall_ns"],
        "connections": after - before,
        "new TLS connections": new_tls_connections(rounds // 3),
    }


def new_tls_connections(rounds: int) -> Samples:
    """One GET per new TLS connection (`Connection: close`) to an https backend trusted through a CA bundle of the
    SDK's certificates: the proxy's client, which loaded them at init, and a urllib3 PoolManager given the
    same bundle, which loads it for every connection."""
    import urllib3  # noqa: PLC0415

    from proxy.backend import BackendClient  # noqa: PLC0415
    from proxy.config import load_config  # noqa: PLC0415
    from proxy.response import LAMBDA_RESPONSE_LIMIT_BYTES  # noqa: PLC0415
    from proxy.upstream import UpstreamRequest  # noqa: PLC0415

    url, ca_bundle = os.environ[TLS_BACKEND], os.environ[TLS_CA_BUNDLE]
    config = load_config({"BACKEND_URL": url, "BACKEND_CA_BUNDLE": ca_bundle})
    client = BackendClient(config, LAMBDA_RESPONSE_LIMIT_BYTES)
    direct = urllib3.PoolManager(maxsize=1, retries=False, ca_certs=ca_bundle)
    host = url.removeprefix("https://")
    request = UpstreamRequest("GET", TLS_PATH, [("Host", host), ("Connection", "close")], b"")
    return interleaved(
        {
            "handler's client": lambda: client.send(request),
            "urllib3": lambda: direct.request("GET", url + TLS_PATH, headers={"Connection": "close"}).data,
        },
        rounds,
    )


def run_plan(plan: str, rounds: dict[str, int], backend_url: str, memory_mb: int, group: str | None) -> Any:
    if plan in AUTHORIZER_PLANS:
        authorizer = Authorizer(memory_mb)  # init, at a full CPU
        join_group(group)
        actions = authorizer.actions()
        if plan == "authorizations":
            actions = {"authorizer": actions["authorizer"]}
        _progress(f"{plan}: {rounds['1 KB']} interleaved rounds")
        return interleaved(actions, rounds["1 KB"])
    proxy = Proxy(backend_url, memory_mb)  # init, at a full CPU
    join_group(group)
    if plan == "breakdown":
        _progress(f"component breakdown: {rounds['1 KB']} interleaved rounds")
        return interleaved(components.actions(proxy), rounds["1 KB"])
    if plan == "extras":
        return extras(proxy, rounds["1 KB"])
    if plan == "rounds":
        actions = proxy.cases("1 KB")["GET"]
        return interleaved({"direct": actions["direct"], "handler": actions["handler"]}, rounds["1 KB"])
    return warm(proxy, rounds)


def _progress(message: str) -> None:
    print(f"    worker: {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.worker")
    parser.add_argument("--plan", choices=[*PROXY_PLANS, *AUTHORIZER_PLANS], required=True)
    parser.add_argument("--rounds", type=json.loads, required=True, help='e.g. {"1 KB": 2000}')
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--backend", default="", help="the bench backend's URL (proxy plans)")
    parser.add_argument("--memory", type=int, default=512, help="the context's memory_limit_in_mb")
    parser.add_argument("--group", help="the cgroup.procs file to join after init (default: stay unconstrained)")
    args = parser.parse_args()
    result = run_plan(args.plan, args.rounds, args.backend, args.memory, args.group)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
