"""The requests behind events/*.json; `make events` renders them through template.yaml's request template.

Each event is exactly what API Gateway's VTL produces for that request, so `sam local invoke -e` exercises
the same input the deployed function gets.
"""

import dataclasses
import json
import sys
from pathlib import Path

from local_gateway.integration import RestApiIntegration
from local_gateway.model import IntegrationContext, MethodRequest, MethodResponse
from local_gateway.sam_template import PROJECT_ROOT, load_proxy_integration

EVENTS_DIR = PROJECT_ROOT / "events"
STAGE = "v1"
CONTEXT = IntegrationContext(request_id="5b1e2c3d-4f50-4a6b-8c7d-9e0f1a2b3c4d", request_time_epoch_ms=1_763_719_200_000)
_GATEWAY_HEADERS = [
    ("Host", "abc123defg.execute-api.eu-west-1.amazonaws.com"),
    ("User-Agent", "curl/8.5.0"),
    ("X-Forwarded-For", "203.0.113.9"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Port", "443"),
]
_PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")

SAMPLE_REQUESTS: dict[str, MethodRequest] = {
    "get-with-query": MethodRequest(
        "GET",
        "/orders",
        query=[("status", "open"), ("customer", "O'Brien & Sons"), ("limit", "10")],
        headers=[*_GATEWAY_HEADERS, ("Accept", "application/json")],
    ),
    "post-json": MethodRequest(
        "POST",
        "/orders",
        headers=[*_GATEWAY_HEADERS, ("Content-Type", "application/json")],
        body=json.dumps({"item": "café au lait", "qty": 2, "note": 'it\'s "urgent"'}).encode(),
    ),
    "post-form": MethodRequest(
        "POST",
        "/login",
        headers=[*_GATEWAY_HEADERS, ("Content-Type", "application/x-www-form-urlencoded")],
        body=b"username=jane&password=s%3Dcr%26t%2B1",
    ),
    "put-binary": MethodRequest(
        "PUT",
        "/files/avatar.png",
        headers=[*_GATEWAY_HEADERS, ("Content-Type", "image/png")],
        body=_PNG_BYTES,
    ),
    "head": MethodRequest("HEAD", "/health", headers=_GATEWAY_HEADERS),
    "delete": MethodRequest("DELETE", "/orders/42", headers=_GATEWAY_HEADERS),
}


# As API Gateway sees a caller on the internet.
SAMPLE_REQUESTS = {
    name: dataclasses.replace(request, source_ip="203.0.113.9") for name, request in SAMPLE_REQUESTS.items()
}


def _never_invoked(event: dict[str, object]) -> None:
    raise AssertionError("rendering an event invokes no function")


def render_sample(name: str) -> str:
    integration = RestApiIntegration(load_proxy_integration(), _never_invoked, stage=STAGE, api_id="abc123defg")
    rendered = integration.render_event(SAMPLE_REQUESTS[name], CONTEXT)
    if isinstance(rendered, MethodResponse):
        raise ValueError(f"{name}: API Gateway would refuse this request ({rendered.status})")
    return json.dumps(json.loads(rendered), indent=2, ensure_ascii=False) + "\n"


def event_path(name: str) -> Path:
    return EVENTS_DIR / f"{name}.json"


def main() -> int:
    for name in SAMPLE_REQUESTS:
        event_path(name).write_text(render_sample(name), encoding="utf-8")
        print(f"wrote {event_path(name).relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
