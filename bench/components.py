"""Where one warm 1 KB GET's time goes: each part of the handler timed alone, and the alternatives it was chosen over.

Used by bench.worker (plan `breakdown`) inside the measured process, and by bench.run to print the table.
"""

import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.worker import Bench

Action = Callable[[], object]

# The handler's own parts, in the order a request meets them; they should add up to about the whole handler.
PARTS = [
    "Lambda context + correlation id",
    "event parsing",
    "request shaping",
    "HTTP exchange (handler's client)",
    "response shaping",
    "logging: the 'proxied' INFO line",
    "metrics: record + EMF line",
]
WHOLE = "whole handler"
# Measured for comparison: what the parts were chosen over, and the yardsticks.
ALTERNATIVES = [
    "Powertools inject_lambda_context (+ jmespath correlation id)",
    "Powertools Logger.info('proxied', extra=…)",
    "Powertools Metrics: 2 × add_metric + flush",  # noqa: RUF001 - the multiplication sign
    "direct urllib3 PoolManager.request (the yardstick)",
    "stdlib http.client request (the leanest exchange)",
]


def actions(bench: "Bench") -> dict[str, Action]:
    import http.client  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    from aws_lambda_powertools import Logger, Metrics  # noqa: PLC0415
    from aws_lambda_powertools.logging import correlation_paths  # noqa: PLC0415
    from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

    from bench.worker import proxy_event  # noqa: PLC0415
    from proxy import handler, telemetry  # noqa: PLC0415
    from proxy.event import parse_event  # noqa: PLC0415
    from proxy.response import to_lambda_response  # noqa: PLC0415
    from proxy.upstream import build_upstream_request  # noqa: PLC0415

    config, context = handler.CONFIG, bench.context
    event = proxy_event("GET", "/text/1024", b"")
    request = parse_event(event)
    upstream = build_upstream_request(request, config.backend, text_only=True, withheld=config.withheld_headers)
    answer = handler.BACKEND.send(upstream)

    # Writes to the worker's stdout, which bench.run sends to /dev/null, as it does the handler's own lines.
    powertools_logger = Logger(service="bench-compare")
    powertools_metrics = Metrics(namespace="BenchCompare")

    @powertools_logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    def powertools_context(event: dict[str, Any], context: Any) -> None:
        return None

    @powertools_metrics.log_metrics
    def powertools_two_metrics(event: dict[str, Any], context: Any) -> None:
        powertools_metrics.add_metric(name="BackendLatency", unit=MetricUnit.Milliseconds, value=0.5)
        powertools_metrics.add_metric(name="BackendStatus2xx", unit=MetricUnit.Count, value=1)

    @handler.LOG.with_lambda_context
    def handler_context(event: dict[str, Any], context: Any) -> None:
        return None

    @telemetry.metrics_per_invocation
    def handler_metrics(event: dict[str, Any], context: Any) -> None:
        telemetry.record_backend_answer(200, 0.5)

    target = urlsplit(bench.backend_url)
    raw = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port)
    headers = bench.upstream_headers(event)
    direct_url = f"{bench.backend_url}/text/1024"

    def stdlib_exchange() -> bytes:
        raw.request("GET", "/text/1024", headers=headers)
        return raw.getresponse().read()

    return {
        WHOLE: lambda: bench.invoke(event),
        PARTS[0]: lambda: handler_context(event, context),
        PARTS[1]: lambda: parse_event(event),
        PARTS[2]: lambda: build_upstream_request(
            request, config.backend, text_only=True, withheld=config.withheld_headers
        ),
        PARTS[3]: lambda: handler.BACKEND.send(upstream),
        PARTS[4]: lambda: to_lambda_response(answer, config.cors_allow_origin, text_only=True),
        PARTS[5]: lambda: handler.LOG.info_line("proxied", {"method": "GET", "status": 200, "backend_ms": 0.5}),
        PARTS[6]: lambda: handler_metrics(event, context),
        ALTERNATIVES[0]: lambda: powertools_context(event, context),
        ALTERNATIVES[1]: lambda: powertools_logger.info(
            "proxied", extra={"method": "GET", "status": 200, "backend_ms": 0.5}
        ),
        ALTERNATIVES[2]: lambda: powertools_two_metrics(event, context),
        ALTERNATIVES[3]: lambda: bench.direct.request("GET", direct_url, headers=headers).data,
        ALTERNATIVES[4]: stdlib_exchange,
    }


def table(samples: dict[str, dict[str, list[int]]], column: str) -> str:
    cpu = {name: statistics.median(values["cpu_ns"]) / 1000 for name, values in samples.items()}
    whole = cpu[WHOLE]
    parts_sum = sum(cpu[name] for name in PARTS)
    rows = ["| Part of one warm 1 KB GET | CPU µs (median) | of the whole handler |", "| --- | --- | --- |"]
    rows += [f"| {name} | {cpu[name]:.1f} | {cpu[name] / whole:.0%} |" for name in PARTS]
    rows.append(f"| sum of the parts | {parts_sum:.1f} | {parts_sum / whole:.0%} |")
    rows.append(f"| **{WHOLE}** (measured as one call) | **{whole:.1f}** | 100% |")
    rows.append("| *measured for comparison* | | |")
    rows += [f"| {name} | {cpu[name]:.1f} | {cpu[name] / whole:.0%} |" for name in ALTERNATIVES]
    return f"\n## 2. Where one warm 1 KB GET's CPU time goes ({column})\n\n" + "\n".join(rows)
