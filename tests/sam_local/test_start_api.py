"""`sam local start-api`: real HTTP through SAM CLI's local API Gateway to the function and a real backend.

One start-api process for every case, run as docs/sam-local.md shows it (samconfig.toml: IntegrationMode=PROXY,
AuthMode=NONE, BackendUrl http://host.docker.internal:8080, add_host, warm containers) on the template as built:
the function runs on arm64, as template.yaml says, under qemu on these x86_64 machines. Its warm container pays the
cold start once (about 7 s here), then each request takes a fraction of a second.

The last tests pin where SAM CLI's local gateway differs from API Gateway; docs/sam-local.md lists them.
"""

import base64
import http.client
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.sam_local.sam_cli import (
    BuiltTemplates,
    StartApi,
    container_architecture,
    record_timing,
    sam_local_start_api,
)
from tests.support.backend import HeaderLookup, ReceivedRequest, RecordingBackend, Reply

pytestmark = pytest.mark.sam_local

# Not UTF-8 (0x89 cannot start a UTF-8 character), so the function must answer it as base64.
BINARY = b"\x89PNG\r\n\x1a\n" + bytes(random.Random(7).randrange(256) for _ in range(4096))


@dataclass(frozen=True)
class Answer(HeaderLookup):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@pytest.fixture(scope="module")
def api(
    built: BuiltTemplates, gateway_backend: RecordingBackend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StartApi]:
    log = tmp_path_factory.mktemp("start-api") / "sam-local-start-api.log"
    with sam_local_start_api(built.arm64, built.build_dir, log) as running:
        gateway_backend.responder = lambda request: Reply(200, [("Content-Type", "text/plain")], b"warm")
        started = time.monotonic()
        first = send(running, "GET", "/warm-up", timing=None)
        record_timing("start-api: first request (cold start, arm64)", time.monotonic() - started)
        assert (first.status, first.body) == (200, b"warm"), running.log_text()[-6000:]
        yield running


def send(
    api: StartApi,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timing: str | None = "",
) -> Answer:
    """One request on a new connection; its time is recorded under `timing` (method and target if empty)."""
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    started = time.monotonic()
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        answer = Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()
    if timing is not None:
        record_timing(f"start-api request: {timing or f'{method} {target}'}", time.monotonic() - started)
    return answer


def answering(backend: RecordingBackend, reply: Reply) -> int:
    """Makes the backend answer `reply`; returns how many requests it had, to check it saw one more."""
    backend.responder = lambda request: reply
    return len(backend.requests)


def only_new_request(backend: RecordingBackend, before: int) -> ReceivedRequest:
    assert len(backend.requests) == before + 1
    return backend.last


def test_the_function_runs_on_arm64_as_the_template_says(api: StartApi) -> None:
    architectures = {container_architecture(container) for container in api.warm_containers}
    assert architectures == {"arm64"}


def test_get_with_a_query_reaches_the_backend_with_every_value(
    api: StartApi, gateway_backend: RecordingBackend
) -> None:
    before = answering(gateway_backend, Reply(200, [("Content-Type", "application/json")], b'{"orders": []}'))

    query = "status=open&customer=O%27Brien%20%26%20Sons&tag=a&tag=b"
    answer = send(api, "GET", f"/orders/42?{query}", headers={"Accept": "application/json"})

    received = only_new_request(gateway_backend, before)
    target = urlsplit(received.target)
    assert (received.method, target.path) == ("GET", "/orders/42")
    # Every value arrives, those of a repeated name in order; SAM CLI sorts the names (it serialises the event
    # with json.dumps(sort_keys=True), samcli/local/apigw/local_apigw_service.py).
    assert parse_qsl(target.query) == [("customer", "O'Brien & Sons"), ("status", "open"), ("tag", "a"), ("tag", "b")]
    assert received.header("X-Request-Id")
    assert (answer.status, answer.header("Content-Type"), answer.body) == (200, "application/json", b'{"orders": []}')


def test_post_json_arrives_byte_for_byte_and_so_does_the_echo(api: StartApi, gateway_backend: RecordingBackend) -> None:
    payload = json.dumps({"item": "café au lait", "note": 'it\'s "urgent"'}, ensure_ascii=False).encode()
    before = len(gateway_backend.requests)
    gateway_backend.responder = lambda request: Reply(201, [("Content-Type", "application/json")], request.body)

    answer = send(
        api, "POST", "/orders", payload, headers={"Content-Type": "application/json; charset=utf-8", "Accept": "*/*"}
    )

    received = only_new_request(gateway_backend, before)
    assert (received.method, received.target, received.body) == ("POST", "/orders", payload)
    assert received.header("Content-Type") == "application/json; charset=utf-8"
    assert (answer.status, answer.body) == (201, payload)


def test_put_binary_arrives_byte_for_byte(api: StartApi, gateway_backend: RecordingBackend) -> None:
    before = answering(gateway_backend, Reply(201, [("Location", "/files/avatar.png")], b""))

    answer = send(api, "PUT", "/files/avatar.png", BINARY, headers={"Content-Type": "image/png", "Accept": "*/*"})

    received = only_new_request(gateway_backend, before)
    assert (received.method, received.body, received.header("Content-Type")) == ("PUT", BINARY, "image/png")
    assert (answer.status, answer.header("Location")) == (201, "/files/avatar.png")


def test_head_returns_the_status_and_headers_without_a_body(api: StartApi, gateway_backend: RecordingBackend) -> None:
    before = answering(gateway_backend, Reply(200, [("Content-Type", "text/plain"), ("X-Version", "7")], b"unsent"))

    answer = send(api, "HEAD", "/health")

    assert only_new_request(gateway_backend, before).method == "HEAD"
    assert (answer.status, answer.header("X-Version"), answer.body) == (200, "7", b"")


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (418, [("Content-Type", "application/json")], b'{"error": "I\'m a teapot"}'),
        (503, [("Content-Type", "text/plain"), ("Retry-After", "30")], b"maintenance until 10:00\n"),
    ],
    ids=["4xx", "5xx"],
)
def test_an_error_status_passes_through_with_its_headers_and_body(
    api: StartApi, gateway_backend: RecordingBackend, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    answering(gateway_backend, Reply(status, headers, body))

    answer = send(api, "GET", f"/status/{status}", timing=f"GET answered {status}", headers={"Accept": "*/*"})

    assert (answer.status, answer.body) == (status, body)
    for name, value in headers:
        assert answer.header(name) == value


def test_a_binary_answer_comes_back_as_bytes(api: StartApi, gateway_backend: RecordingBackend) -> None:
    answering(gateway_backend, Reply(200, [("Content-Type", "application/octet-stream")], BINARY))

    answer = send(api, "GET", "/files/blob", headers={"Accept": "*/*"})  # what curl sends

    assert (answer.status, answer.header("Content-Type"), answer.body) == (200, "application/octet-stream", BINARY)


def test_a_redirect_is_returned_not_followed(api: StartApi, gateway_backend: RecordingBackend) -> None:
    before = answering(gateway_backend, Reply(302, [("Location", "/orders?page=2")], b""))

    answer = send(api, "GET", "/orders/old", headers={"Accept": "*/*"})

    assert only_new_request(gateway_backend, before).target == "/orders/old"
    assert (answer.status, answer.header("Location")) == (302, "/orders?page=2")


def test_every_set_cookie_reaches_the_client(api: StartApi, gateway_backend: RecordingBackend) -> None:
    cookies = ["session=abc; Path=/; HttpOnly", "theme=dark; Path=/"]
    answering(
        gateway_backend, Reply(200, [("Content-Type", "text/plain"), *(("Set-Cookie", c) for c in cookies)], b"ok")
    )

    answer = send(api, "GET", "/login", headers={"Accept": "*/*"})

    assert answer.headers_named("Set-Cookie") == cookies


# ---- Where SAM CLI 1.170's local gateway differs from API Gateway (docs/sam-local.md lists them) ----


@pytest.mark.parametrize("accept", ["application/json", None], ids=["first-accept-type-json", "no-accept"])
def test_sam_local_sends_binary_as_base64_text_unless_accept_matches_the_answers_type(
    api: StartApi, gateway_backend: RecordingBackend, accept: str | None
) -> None:
    """API Gateway decodes when the first Accept type matches binaryMediaTypes (*/* matches every type: "API
    Gateway uses the first Accept header from clients to determine if a response should return binary media").
    SAM CLI decodes only when the Accept header's best match for the answer's Content-Type is a binary type
    (samcli/local/apigw/local_apigw_service.py, _should_base64_decode_body); no Accept header matches nothing."""
    answering(gateway_backend, Reply(200, [("Content-Type", "application/octet-stream")], BINARY))

    headers = {"Accept": accept} if accept else {}
    answer = send(api, "GET", "/files/blob", headers=headers, timing=f"binary answer, Accept {accept}")

    assert answer.status == 200
    assert answer.body == base64.b64encode(BINARY)


def test_sam_local_answers_its_own_refusals_not_the_templates_gateway_responses(api: StartApi) -> None:
    """template.yaml gives every gateway refusal the proxy's {"message", "requestId"} shape; SAM CLI never reads
    x-amazon-apigateway-gateway-responses and answers from samcli/local/apigw/service_error_responses.py."""
    answer = send(api, "PROPFIND", "/orders")  # a method the API does not define

    assert answer.status == 403
    assert json.loads(answer.body) == {"message": "Missing Authentication Token"}


def test_sam_local_hands_a_request_over_lambdas_6_mb_to_the_function_cut_short(
    api: StartApi, gateway_backend: RecordingBackend
) -> None:
    """Lambda refuses a synchronous payload over 6 MB before the function runs (`make local` answers 413). Under
    SAM CLI the emulator passes the event on cut at about 6 MB, the runtime cannot parse it, and start-api answers
    a generic 502; nothing reaches the backend."""
    before = len(gateway_backend.requests)

    answer = send(
        api, "POST", "/upload", b"x" * (7 * 1024 * 1024), headers={"Content-Type": "application/octet-stream"}
    )

    assert (answer.status, json.loads(answer.body)) == (502, {"message": "Internal server error"})
    assert len(gateway_backend.requests) == before
    assert "Runtime.UnmarshalError" in api.log_text()
