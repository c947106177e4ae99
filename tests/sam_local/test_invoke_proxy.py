"""`sam local invoke ProxyFunction -e events/<each>.json`: each event reaches a real backend, and its answer returns.

The command is docs/sam-local.md's, run with the project's samconfig.toml (IntegrationMode=PROXY, BackendUrl
http://host.docker.internal:8080, add_host) on a fresh build. It invokes the x86_64 copy of the build: arm64 runs
under qemu here, where SAM CLI 1.170's `sam local invoke` gives up before the emulator answers (sam_cli.py,
_x86_64_copy). test_start_api.py runs the template's own arm64.
"""

import base64
import json
import subprocess
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from local_gateway.sam_template import load_template
from proxy.http1 import HOP_BY_HOP
from proxy.upstream import PROXY_OWNED
from tests.sam_local.sam_cli import PROJECT_ROOT, BuiltTemplates, record_timing, sam_environment, sam_local_invoke
from tests.support.backend import ReceivedRequest, RecordingBackend, Reply
from tests.support.sample_requests import EVENTS_DIR, SAMPLE_REQUESTS, event_path

pytestmark = pytest.mark.sam_local

# A different status per method, so that an answer cannot pass for another request's.
STATUS_BY_METHOD = {"GET": 200, "POST": 201, "PUT": 202, "HEAD": 203, "DELETE": 410}
# UTF-8 text the backend sends when the request had no body; a request's own bytes are echoed (the PNG of
# put-binary is not UTF-8, so its answer must come back as base64).
TEXT_ANSWER = 'ça marche: it\'s "done" ✓\n'.encode()


def backend_reply(request: ReceivedRequest) -> Reply:
    return Reply(
        STATUS_BY_METHOD[request.method],
        [
            ("Content-Type", request.header("Content-Type") or "text/plain; charset=utf-8"),
            ("X-Backend-Saw", f"{request.method} {request.target}"),
            ("Set-Cookie", "session=abc; Path=/; HttpOnly"),
            ("Set-Cookie", "theme=dark; Path=/"),
        ],
        request.body or TEXT_ANSWER,
    )


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(event_path(name).read_text(encoding="utf-8"))
    return event


def event_body(event: dict[str, Any]) -> bytes:
    if event["body"] is None:
        return b""
    return base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()


def answer_body(answer: dict[str, Any]) -> bytes:
    body: str = answer["body"]
    return base64.b64decode(body) if answer["isBase64Encoded"] else body.encode()


def test_every_proxy_event_in_events_has_a_case_here() -> None:
    on_disk = {path.stem for path in EVENTS_DIR.glob("*.json")}
    assert {name for name in on_disk if not name.startswith("authorizer-")} == set(SAMPLE_REQUESTS)


@pytest.mark.parametrize("name", sorted(SAMPLE_REQUESTS))
def test_sam_local_invoke_delivers_the_event_to_the_backend_and_returns_its_answer(
    name: str, built: BuiltTemplates, gateway_backend: RecordingBackend
) -> None:
    event = load_event(name)
    gateway_backend.responder = backend_reply
    already_received = len(gateway_backend.requests)

    run = sam_local_invoke(built.x86_64, "ProxyFunction", event_path(name), timing=f"sam local invoke {name} (x86_64)")

    answer = run.function_result()
    assert len(gateway_backend.requests) == already_received + 1, run.describe()
    received = gateway_backend.last
    # What the backend received: the event's method, path, query, headers, request id and body bytes.
    assert received.method == event["httpMethod"]
    target = urlsplit(received.target)
    assert target.path == event["path"]
    assert parse_qsl(target.query, keep_blank_values=True) == list((event["queryStringParameters"] or {}).items())
    for header, value in event["headers"].items():
        if header.lower() not in PROXY_OWNED | HOP_BY_HOP:
            assert received.headers_named(header) == [value], header
    assert received.header("X-Request-Id") == event["requestContext"]["requestId"]
    assert received.body == event_body(event)
    # What came back: the backend's status, headers (Set-Cookie twice, so in multiValueHeaders) and body.
    sent = backend_reply(received)
    assert answer["statusCode"] == sent.status
    assert answer["headers"]["X-Backend-Saw"] == f"{received.method} {received.target}"
    assert answer["headers"]["Content-Type"] == dict(sent.headers)["Content-Type"]
    assert answer["multiValueHeaders"] == {"Set-Cookie": ["session=abc; Path=/; HttpOnly", "theme=dark; Path=/"]}
    expected_body = b"" if event["httpMethod"] == "HEAD" else sent.body
    assert answer_body(answer) == expected_body
    assert answer["isBase64Encoded"] is (name == "put-binary")


def documented_x86_64_commands() -> str:
    """The shell block of docs/sam-local.md's "arm64 on an x86_64 machine" section."""
    page = (PROJECT_ROOT / "docs" / "sam-local.md").read_text(encoding="utf-8")
    section = page.split("## arm64 on an x86_64 machine\n", 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


def test_the_documented_x86_64_commands_work_as_written(
    built: BuiltTemplates, gateway_backend: RecordingBackend
) -> None:
    """Runs the documented lines, on this session's build instead of `sam build`'s default folder, with
    SAM_SKIP_PULL_IMAGE=1 (no registry here): its copy is the one the other tests invoke, and the invoke works."""
    commands = documented_x86_64_commands()
    assert "sam local invoke ProxyFunction -e events/post-json.json" in commands
    gateway_backend.responder = backend_reply
    already_received = len(gateway_backend.requests)

    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands.replace(".aws-sam/build", str(built.build_dir))],
        cwd=PROJECT_ROOT,
        env=sam_environment(SAM_SKIP_PULL_IMAGE="1"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    record_timing("the documented x86_64 copy and invoke", time.monotonic() - started)

    assert result.returncode == 0, result.stderr[-4000:]
    assert load_template(built.build_dir / "template-x86_64.yaml") == load_template(built.x86_64)
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(gateway_backend.requests) == already_received + 1
    assert (gateway_backend.last.method, gateway_backend.last.target) == ("POST", "/orders")
    assert gateway_backend.last.body == event_body(load_event("post-json"))
    assert (answer["statusCode"], answer_body(answer)) == (201, gateway_backend.last.body)
