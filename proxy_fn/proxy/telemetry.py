"""Metrics (CloudWatch EMF, written to the log: no API call on the request path) and X-Ray tracing."""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "private-api-proxy")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "PrivateApiProxy"))
# Writes through the handler's logger (same JSON, same correlation id).
logger = Logger(service=SERVICE, child=True)


def _tracing_active() -> bool:
    """X-Ray's daemon address is set only where Lambda's active tracing can receive segments."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes")
    return bool(os.environ.get("AWS_XRAY_DAEMON_ADDRESS")) and not disabled


def _make_tracer() -> Any:
    # aws_xray_sdk brings botocore with it (~0.4 s); only a function that can send traces pays for it.
    from aws_lambda_powertools import Tracer  # noqa: PLC0415

    return Tracer(auto_patch=False)


TRACER = _make_tracer() if _tracing_active() else None


def traced[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """The handler's X-Ray subsegment; responses are never captured (they carry the backend's bodies)."""
    if TRACER is None:
        return handler
    wrapped: Handler = TRACER.capture_lambda_handler(handler, capture_response=False)
    return wrapped


@contextmanager
def backend_call(method: str) -> Iterator[Callable[[int], None]]:
    """An X-Ray subsegment around the backend exchange; yields a function that records the status."""
    if TRACER is None:
        yield lambda status: None
        return
    with TRACER.provider.in_subsegment("## backend") as subsegment:
        subsegment.put_annotation("method", method)
        yield lambda status: subsegment.put_annotation("status", status)


def record_backend_answer(status: int, latency_ms: float) -> None:
    metrics.add_metric(name="BackendLatency", unit=MetricUnit.Milliseconds, value=latency_ms)
    metrics.add_metric(name=f"BackendStatus{status // 100}xx", unit=MetricUnit.Count, value=1)


def record_failure(metric_name: str) -> None:
    metrics.add_metric(name=metric_name, unit=MetricUnit.Count, value=1)


def record_dropped_cookies(count: int) -> None:
    metrics.add_metric(name="DroppedSetCookie", unit=MetricUnit.Count, value=count)


def record_retry(method: str, reason: str) -> None:
    """A stale pooled connection: counted, and logged without the target (query strings can carry tokens)."""
    metrics.add_metric(name="BackendRetry", unit=MetricUnit.Count, value=1)
    logger.info("retrying on a fresh connection", extra={"method": method, "reason": reason})
