"""What an operator sees: CloudWatch metrics in EMF lines, and an X-Ray subsegment for the backend call."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from local_gateway.model import MethodRequest
from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import ConfigureProxy
from tests.support.engines import BothEngines
from tests.support.processes import fresh_interpreter
from tests.support.xray import xray_daemon

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _emf_documents(output: str) -> list[dict[str, Any]]:
    return [
        document for line in output.splitlines() if line.startswith("{") and "_aws" in (document := json.loads(line))
    ]


def _metric_values(documents: list[dict[str, Any]]) -> dict[str, float]:
    """Metric name -> value (EMF writes a number, or a list when a metric is recorded several times)."""
    values: dict[str, float] = {}
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "PrivateApiProxy"
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values[metric["Name"]] = float(value[0] if isinstance(value, list) else value)
    return values


def test_each_answer_records_backend_latency_and_its_status_class(
    chain: BothEngines, proxy_to: RecordingBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy_to.responder = lambda _: Reply(503, [("Content-Type", "text/plain")], b"down")
    capsys.readouterr()

    chain.handle(MethodRequest("GET", "/x"))

    values = _metric_values(_emf_documents(capsys.readouterr().out))
    assert values["BackendStatus5xx"] == 1.0
    assert values["BackendLatency"] > 0


@pytest.mark.parametrize(
    ("setup", "metric"),
    [("refused", "BackendUnreachable"), ("slow", "BackendTimeout"), ("huge", "BackendResponseTooLarge")],
)
def test_each_failure_kind_is_counted(
    chain: BothEngines,
    proxy_to: RecordingBackend,
    configure_proxy: ConfigureProxy,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    metric: str,
) -> None:
    if setup == "refused":
        configure_proxy("http://127.0.0.1:9")
    elif setup == "slow":
        configure_proxy(proxy_to.url, backend_timeout_seconds="0.2")
        proxy_to.responder = lambda _: Reply(200, [], b"late", delay_before_headers=1)
    else:
        proxy_to.responder = lambda _: Reply(200, [("Content-Type", "application/octet-stream")], b"\0" * 5_000_000)
    capsys.readouterr()

    chain.handle(MethodRequest("GET", "/x"))

    assert metric in _metric_values(_emf_documents(capsys.readouterr().out))


INVOKE_WITH_XRAY = """
import json, sys
from local_gateway.lambda_context import lambda_context
from proxy import handler
event = {"httpMethod": "POST", "path": "/traced", "body": "c2VjcmV0LWJvZHk=", "isBase64Encoded": True,
         "requestContext": {"requestId": "trace-test"}}
print(json.dumps(handler.lambda_handler(event, lambda_context("traced"))["statusCode"]))
"""


def test_the_backend_call_is_an_xray_subsegment_without_bodies(backend: RecordingBackend) -> None:
    backend.responder = lambda _: Reply(201, [("Content-Type", "text/plain")], b"secret-answer")
    with xray_daemon() as daemon:
        environment = {
            **{name: value for name, value in os.environ.items() if not name.startswith(("BACKEND_", "POWERTOOLS_"))},
            "BACKEND_URL": backend.url,
            "AWS_XRAY_DAEMON_ADDRESS": daemon.address,
            "LAMBDA_TASK_ROOT": str(PROJECT_ROOT / "proxy_fn"),
            "AWS_LAMBDA_FUNCTION_NAME": "traced",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "PYTHONPATH": f"{PROJECT_ROOT / 'proxy_fn'}:{PROJECT_ROOT}",
        }
        result = fresh_interpreter(INVOKE_WITH_XRAY, env=environment)
        assert result.returncode == 0, result.stderr
        documents = daemon.received()

    subsegments = [sub for doc in documents for sub in [doc, *doc.get("subsegments", [])]]
    backend_spans = [sub for sub in subsegments if sub.get("name") == "## backend"]
    assert len(backend_spans) == 1
    assert backend_spans[0]["annotations"] == {"method": "POST", "status": 201}
    assert "secret" not in "".join(daemon.packets)
