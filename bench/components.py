"""Where one warm 1 KB GET's time goes: each part of the handler timed alone, and the alternatives it was chosen over.

Used by bench.worker (plan `breakdown`) inside the measured process, and by bench.reports to print the table.
"""

import statistics
from typing import Any

from bench.cases import Proxy
from bench.fixtures import proxy_event
from bench.timing import Action, Samples

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
SUM = "sum of the parts"
# Measured for comparison: what the parts were chosen over, and the yardsticks.
ALTERNATIVES = [
    "Powertools inject_lambda_context (+ jmespath correlation id)",
    "Powertools Logger.info('proxied', extra=…)",
    "Powertools Metrics: 2 × add_metric + flush",
    "direct urllib3 PoolManager.request (the yardstick)",
    "stdlib http.client request (the leanest exchange)",
]


def actions(proxy: Proxy) -> dict[str, Action]:
    import http.client  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    from aws_lambda_powertools import Logger, Metrics  # noqa: PLC0415
    from aws_lambda_powertools.logging import correlation_paths  # noqa: PLC0415
    from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

    from proxy import handler, telemetry  # noqa: PLC0415
    from proxy.event import parse_event  # noqa: PLC0415
    from proxy.response import to_lambda_response  # noqa: PLC0415
    from proxy.upstream import build_upstream_request  # noqa: PLC0415

    config, context = handler.CONFIG, proxy.context
    event = proxy_event("GET", "/text/1024", b"")
    request = parse_event(event)
    withheld = {"withheld": config.withheld_headers, "withheld_query": config.withheld_query}
    upstream = build_upstream_request(request, config.backend, text_only=True, **withheld)
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

    target = urlsplit(proxy.backend_url)
    raw = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port)
    headers = proxy.headers_sent_for(event)
    direct_url = f"{proxy.backend_url}/text/1024"

    def stdlib_exchange() -> bytes:
        raw.request("GET", "/text/1024", headers=headers)
        return raw.getresponse().read()

    return {
        WHOLE: lambda: proxy.invoke(event),
        PARTS[0]: lambda: handler_context(event, context),
        PARTS[1]: lambda: parse_event(event),
        PARTS[2]: lambda: build_upstream_request(request, config.backend, text_only=True, **withheld),
        PARTS[3]: lambda: handler.BACKEND.send(upstream),
        PARTS[4]: lambda: to_lambda_response(answer, config.cors_allow_origin, text_only=True),
        PARTS[5]: lambda: handler.LOG.info_line("proxied", {"method": "GET", "status": 200, "handler_ms": 0.5}),
        PARTS[6]: lambda: handler_metrics(event, context),
        ALTERNATIVES[0]: lambda: powertools_context(event, context),
        ALTERNATIVES[1]: lambda: powertools_logger.info(
            "proxied", extra={"method": "GET", "status": 200, "handler_ms": 0.5}
        ),
        ALTERNATIVES[2]: lambda: powertools_two_metrics(event, context),
        ALTERNATIVES[3]: lambda: proxy.direct.request("GET", direct_url, headers=headers).data,
        ALTERNATIVES[4]: stdlib_exchange,
    }


def table(columns: dict[str, Samples]) -> str:
    """Median CPU µs of each part in each measured process (unconstrained, at a share), and its share of the
    whole handler."""
    medians = [
        {name: statistics.median(values["cpu_ns"]) / 1000 for name, values in samples.items()}
        for samples in columns.values()
    ]
    for cpu in medians:
        cpu[SUM] = sum(cpu[name] for name in PARTS)

    def row(label: str, name: str) -> str:
        return f"| {label} | " + " | ".join(f"{cpu[name]:.0f} ({cpu[name] / cpu[WHOLE]:.0%})" for cpu in medians) + " |"

    header = "| Part of one warm 1 KB GET | " + " | ".join(f"{column}: CPU µs (of the whole)" for column in columns)
    rows = [header + " |", "| --- |" + " --- |" * len(columns)]
    rows += [row(name, name) for name in [*PARTS, SUM]]
    rows.append(
        f"| **{WHOLE}** (measured as one call) | " + " | ".join(f"**{cpu[WHOLE]:.0f}**" for cpu in medians) + " |"
    )
    rows.append("| *measured for comparison* |" + " |" * len(columns))
    rows += [row(name, name) for name in ALTERNATIVES]
    return "\n".join(rows)
