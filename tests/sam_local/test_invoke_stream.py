"""`sam local invoke` on a STREAM-mode build: SAM CLI's container starts the python3.13 image's bootstrap, which execs
stream-wrapper (template.yaml sets AWS_LAMBDA_EXEC_WRAPPER in STREAM mode), and SAM's emulator returns the streamed
bytes: the prelude, the delimiter and the body.

The command is the README's, with samconfig.toml's invoke settings and IntegrationMode=STREAM given on the command
line. The body is UTF-8 text: SAM CLI 1.170 parses what its emulator returns as JSON and, for bytes that are not
UTF-8, fails with a UnicodeDecodeError (samcli/local/docker/container.py, _make_http_request) before printing them.
"""

import json

import pytest

from tests.sam_local.sam_cli import (
    RUNTIME_IMAGES,
    BuiltTemplates,
    image_starts_wrappers,
    sam_local_invoke,
    samconfig_parameters,
    unavailable,
)
from tests.support.backend import RecordingBackend, Reply
from tests.support.sample_requests import event_path

pytestmark = pytest.mark.sam_local

CSV = "id;name\n1;café\n2;naïve ✓\n".encode()


def stream_overrides() -> str:
    """samconfig.toml's parameter_overrides for `sam local invoke`, with IntegrationMode=STREAM."""
    parameters = samconfig_parameters("local invoke") | {"IntegrationMode": "STREAM"}
    return " ".join(f"{name}={value}" for name, value in parameters.items())


def test_sam_local_invoke_of_a_stream_build_runs_the_wrapper_and_returns_the_stream(
    built: BuiltTemplates, gateway_backend: RecordingBackend
) -> None:
    if not image_starts_wrappers(RUNTIME_IMAGES["x86_64"]):
        unavailable(
            f"{RUNTIME_IMAGES['x86_64']}'s /var/runtime/bootstrap cannot start an AWS_LAMBDA_EXEC_WRAPPER script "
            "(Lambda's own bootstrap execs it under bash; a /bin/sh that is dash refuses `exec --`)"
        )
    gateway_backend.responder = lambda _: Reply(
        200,
        [("Content-Type", "text/csv; charset=utf-8"), ("Set-Cookie", "session=abc; HttpOnly"), ("Set-Cookie", "b=2")],
        CSV,
    )
    already_received = len(gateway_backend.requests)

    run = sam_local_invoke(
        built.x86_64,
        "ProxyFunction",
        event_path("get-with-query"),
        "--parameter-overrides",
        stream_overrides(),
        timing="sam local invoke, IntegrationMode=STREAM (x86_64)",
    )

    assert run.returncode == 0, run.describe()
    metadata, delimiter, body = run.stdout.partition("\0" * 8)
    assert delimiter, run.describe()
    assert json.loads(metadata) == {
        "statusCode": 200,
        "headers": {"Content-Type": "text/csv; charset=utf-8"},
        "cookies": ["session=abc; HttpOnly", "b=2"],
    }
    assert body.encode() == CSV
    assert len(gateway_backend.requests) == already_received + 1
    proxied = [json.loads(line) for line in run.stderr.splitlines() if '"message":"proxied"' in line]
    assert [(line["status"], line["streamed_bytes"]) for line in proxied] == [(200, len(CSV))]
