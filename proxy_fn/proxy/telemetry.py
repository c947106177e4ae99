"""Metrics (CloudWatch EMF, written to the log: no API call on the request path) and X-Ray tracing.

The EMF line is the one Powertools Metrics writes (namespace, `service` dimension, metric names, units, values as
lists, millisecond timestamp; POWERTOOLS_METRICS_DISABLED honoured), built by hand: Powertools' validation and
serialisation cost about 100 µs per invocation, a quarter of a warm request's own CPU time, and its metric set is one
per process, which several threads (make local) share. Here each invocation collects its own metrics.
"""

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "private-api-proxy")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "PrivateApiProxy")
# Powertools Metrics adds a `service` dimension only when POWERTOOLS_SERVICE_NAME is set (template.yaml sets it).
_SERVICE_DIMENSION = os.environ.get("POWERTOOLS_SERVICE_NAME")
MILLISECONDS, COUNT, BYTES = "Milliseconds", "Count", "Bytes"
# Writes through the handler's logger (same JSON, same correlation id).
logger = Logger(service=SERVICE, child=True)


class InvocationMetrics:
    """The metrics one invocation records, in recording order: name -> (unit, values)."""

    __slots__ = ("recorded",)

    def __init__(self) -> None:
        self.recorded: dict[str, tuple[str, list[float]]] = {}

    def add(self, name: str, unit: str, value: float) -> None:
        entry = self.recorded.get(name)
        if entry is None:
            self.recorded[name] = (unit, [float(value)])
        else:
            entry[1].append(float(value))

    def emf(self, timestamp_ms: int) -> str:
        """The EMF document Powertools Metrics' flush prints for the same metrics."""
        dimensions = {"service": _SERVICE_DIMENSION} if _SERVICE_DIMENSION else {}
        document: dict[str, Any] = {
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": name, "Unit": unit} for name, (unit, _) in self.recorded.items()],
                    }
                ],
            },
            **dimensions,
        }
        for name, (_, values) in self.recorded.items():
            document[name] = values
        return json.dumps(document, separators=(",", ":"))


class _Current(threading.local):
    metrics: InvocationMetrics | None = None


# One invocation per thread at a time: Lambda runs one per container, make local one per request thread.
_CURRENT = _Current()


def metrics_per_invocation[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """Collects the invocation's metrics and writes them as one EMF line when it ends, as Powertools'
    `log_metrics` does."""

    @wraps(handler)
    def measured(event: Any, context: Any) -> Any:
        collected = _CURRENT.metrics = InvocationMetrics()
        try:
            return handler(event, context)
        finally:
            _CURRENT.metrics = None
            _write(collected)

    return measured  # type: ignore[return-value]  # same signature as the handler it wraps


def metrics_per_stream[Stream: Callable[..., Iterator[bytes]]](stream: Stream) -> Stream:
    """The same for a streamed answer: its metrics are collected while it streams and written when it ends, however
    it ends. `stream(event, context)` yields the answer's chunks."""

    @wraps(stream)
    def measured(event: Any, context: Any) -> Iterator[bytes]:
        collected = _CURRENT.metrics = InvocationMetrics()
        try:
            yield from stream(event, context)
        finally:
            _CURRENT.metrics = None
            _write(collected)

    return measured  # type: ignore[return-value]  # same signature as the stream it wraps


def _write(collected: InvocationMetrics) -> None:
    if collected.recorded and not is_metrics_disabled():
        sys.stdout.write(collected.emf(time.time_ns() // 1_000_000) + "\n")


def _record(name: str, unit: str, value: float) -> None:
    collected = _CURRENT.metrics
    if collected is not None:  # outside an invocation (a test calling the client directly) nothing is written
        collected.add(name, unit, value)


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


def traced_stream[Stream: Callable[..., Iterator[bytes]]](stream: Stream) -> Stream:
    """An X-Ray subsegment, `## stream`, around a streamed answer from its start to its last byte (a handler's own
    subsegment would end when it returns the stream, before the first byte)."""
    if TRACER is None:
        return stream
    tracer = TRACER

    @wraps(stream)
    def traced_chunks(event: Any, context: Any) -> Iterator[bytes]:
        with tracer.provider.in_subsegment("## stream"):
            yield from stream(event, context)

    return traced_chunks  # type: ignore[return-value]  # same signature as the stream it wraps


def _no_status(status: int) -> None:
    return None


@contextmanager
def backend_call(method: str) -> Iterator[Callable[[int], None]]:
    """An X-Ray subsegment around the backend exchange; yields a function that records the status."""
    if TRACER is None:
        yield _no_status
        return
    with TRACER.provider.in_subsegment("## backend") as subsegment:
        subsegment.put_annotation("method", method)
        yield lambda status: subsegment.put_annotation("status", status)


def record_backend_answer(status: int, latency_ms: float) -> None:
    _record("BackendLatency", MILLISECONDS, latency_ms)
    _record(f"BackendStatus{status // 100}xx", COUNT, 1)


def record_stream(streamed_bytes: int, first_byte_ms: float | None) -> None:
    """A streamed answer's body size, and when its first byte (the prelude) went out."""
    _record("StreamedBytes", BYTES, streamed_bytes)
    if first_byte_ms is not None:
        _record("TimeToFirstByte", MILLISECONDS, first_byte_ms)


def record_failure(metric_name: str) -> None:
    _record(metric_name, COUNT, 1)


def record_dropped_cookies(count: int) -> None:
    _record("DroppedSetCookie", COUNT, count)


def record_retry(method: str, reason: str) -> None:
    """A stale pooled connection: counted, and logged without the target (query strings can carry tokens)."""
    _record("BackendRetry", COUNT, 1)
    logger.info("retrying on a fresh connection", extra={"method": method, "reason": reason})
