"""The proxy's hand-built log line and EMF line are byte for byte what Powertools Logger and Metrics would write.

The handler builds its per-request "proxied" line and its metrics line itself (bench.components measures why); these
tests hold them to Powertools' own output for the same input, at the same instant.
"""

import io
import itertools
import json
import logging
import threading
import time
from typing import Any

import pytest
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from local_gateway.lambda_context import lambda_context
from proxy import telemetry
from proxy.logs import InvocationLog

FIELDS = {"method": "GET", "status": 200, "handler_ms": 0.5}
EVENT = {"httpMethod": "GET", "path": "/x", "requestContext": {"requestId": "3f2c-request"}}
_services = itertools.count()


def new_logger(**options: Any) -> tuple[Logger, io.StringIO]:
    """A Powertools logger of its own (a new service name each time) writing to a string."""
    stream = io.StringIO()
    logger = Logger(service=f"fidelity-{next(_services)}", logger_handler=logging.StreamHandler(stream), **options)
    return logger, stream


def without_root_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on Lambda, where Powertools filters its records out of the root handlers it found at import. pytest adds
    its capture handler to root as the test body starts (the line would then rightly go through Powertools), so
    tests call this from their body, not from a fixture."""
    monkeypatch.setattr(logging.root, "handlers", [])


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both lines stamped at the same nanosecond (LogRecord and the fast path both read time.time_ns)."""
    monkeypatch.setattr(time, "time_ns", lambda: 1_795_326_476_694_123_456)


@pytest.mark.usefixtures("frozen_clock")
@pytest.mark.parametrize("trace", [None, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"])
def test_the_proxied_line_is_the_one_powertools_writes(monkeypatch: pytest.MonkeyPatch, trace: str | None) -> None:
    without_root_handlers(monkeypatch)
    if trace:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", trace)
    logger, stream = new_logger()
    log = InvocationLog(logger)
    logger.append_keys(cold_start=False, function_name="proxy", correlation_id="3f2c-request")

    def write(direct: bool) -> None:  # both calls on one line: "location" names the caller's function and line
        log.info_line("proxied", FIELDS) if direct else logger.info("proxied", extra=FIELDS)

    assert log._line("proxied", FIELDS, _a_frame()) is not None  # the direct path is the one taken here
    write(direct=True)
    write(direct=False)

    ours, theirs = stream.getvalue().splitlines()
    assert ours == theirs
    assert json.loads(ours)["message"] == "proxied"
    assert ("xray_trace_id" in json.loads(ours)) is bool(trace)


def _a_frame() -> Any:
    import sys

    return sys._getframe()


def test_powertools_writes_the_line_itself_whenever_it_might_write_something_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_root_handlers(monkeypatch)
    logger, stream = new_logger()
    log = InvocationLog(logger)

    logger.setLevel("WARNING")  # POWERTOOLS_LOG_LEVEL=WARNING, or LogLevel in template.yaml
    log.info_line("proxied", FIELDS)
    assert stream.getvalue() == ""

    logger.setLevel("DEBUG")
    logging.root.addHandler(logging.NullHandler())  # a root handler Powertools did not filter: it gets the record
    assert log._line("proxied", FIELDS, _a_frame()) is None
    log.info_line("proxied", FIELDS)
    assert json.loads(stream.getvalue())["message"] == "proxied"

    logging.root.handlers.clear()
    logger.append_keys(process="%(process)d")  # a record attribute: Powertools fills it in
    assert log._line("proxied", FIELDS, _a_frame()) is None


def test_the_level_comes_from_powertools_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
    logger, stream = new_logger()

    InvocationLog(logger).info_line("proxied", FIELDS)

    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    "event",
    [
        EVENT,
        {"httpMethod": "GET"},
        {"requestContext": "not an object"},
        {"requestContext": {"requestId": 42}},
        ["not", "an", "object"],
    ],
    ids=["request-id", "no-context", "context-not-object", "id-not-string", "event-not-object"],
)
def test_the_invocation_keys_are_the_ones_inject_lambda_context_sets(event: Any) -> None:
    ours, _ = new_logger()
    theirs, _ = new_logger()

    @InvocationLog(ours).with_lambda_context
    def handler(event: Any, context: Any) -> None:
        return None

    @theirs.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
    def powertools_handler(event: Any, context: Any) -> None:
        return None

    context = lambda_context("proxy")
    handler(event, context)
    powertools_handler(event, context)

    mine, powertools = ours.get_current_keys(), theirs.get_current_keys()
    mine.pop("service"), powertools.pop("service")
    mine.pop("cold_start"), powertools.pop("cold_start")  # Powertools' flag is per process: tested below
    assert mine == powertools


def test_cold_start_is_true_for_the_first_invocation_only() -> None:
    logger, _ = new_logger()
    seen = []

    @InvocationLog(logger).with_lambda_context
    def handler(event: Any, context: Any) -> None:
        seen.append(logger.get_current_keys()["cold_start"])

    for _ in range(3):
        handler(EVENT, lambda_context())

    assert seen == [True, False, False]


def powertools_emf(recorded: list[tuple[str, str, float]], service: str | None, timestamp_ms: int) -> str:
    metrics = Metrics(namespace=telemetry.NAMESPACE, service=service)
    metrics.clear_metrics()
    metrics.set_timestamp(timestamp_ms)
    for name, unit, value in recorded:
        metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)
    document = metrics.serialize_metric_set()
    metrics.clear_metrics()
    return json.dumps(document, separators=(",", ":"))


RECORDED = [
    ("BackendRetry", telemetry.COUNT, 1),
    ("BackendLatency", telemetry.MILLISECONDS, 12.5),
    ("BackendStatus5xx", telemetry.COUNT, 1),
    ("BackendLatency", telemetry.MILLISECONDS, 3),
]


@pytest.mark.parametrize("service", ["private-api-proxy", None])
def test_the_emf_line_is_the_one_powertools_metrics_writes(
    monkeypatch: pytest.MonkeyPatch, service: str | None
) -> None:
    monkeypatch.setattr(telemetry, "_SERVICE_DIMENSION", service)
    collected = telemetry.InvocationMetrics()
    for name, unit, value in RECORDED:
        collected.add(name, unit, value)

    assert collected.emf(1_795_326_476_694) == powertools_emf(RECORDED, service, 1_795_326_476_694)


@pytest.fixture
def stdout_lines(capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    return lambda: [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_one_emf_line_per_invocation_even_when_the_handler_raises(stdout_lines: Any) -> None:
    @telemetry.metrics_per_invocation
    def failing(event: Any, context: Any) -> None:
        telemetry.record_failure("ProxyInternalError")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing({}, None)

    [document] = stdout_lines()
    assert document["ProxyInternalError"] == [1.0]
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "PrivateApiProxy"


def test_powertools_metrics_disabled_is_honoured(monkeypatch: pytest.MonkeyPatch, stdout_lines: Any) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    telemetry.metrics_per_invocation(lambda event, context: telemetry.record_failure("BackendTimeout"))({}, None)

    assert stdout_lines() == []


def test_concurrent_invocations_each_write_their_own_metrics(stdout_lines: Any) -> None:
    """Powertools Metrics keeps one metric set per process; make local's threads would take each other's."""
    started = threading.Barrier(2)

    @telemetry.metrics_per_invocation
    def invocation(event: str, context: Any) -> None:
        started.wait(timeout=5)
        telemetry.record_failure(event)

    threads = [threading.Thread(target=invocation, args=(name, None)) for name in ("BackendTimeout", "MalformedEvent")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    documents = stdout_lines()
    assert sorted(tuple(m["Name"] for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for d in documents) == [
        ("BackendTimeout",),
        ("MalformedEvent",),
    ]
