"""events/ holds exactly what the request template renders, and each event works with the handler."""

import json

import pytest

from tests.support.backend import RecordingBackend, Reply
from tests.support.chain import invoke_handler
from tests.support.sample_requests import SAMPLE_REQUESTS, event_path, render_sample


@pytest.mark.parametrize("name", SAMPLE_REQUESTS)
def test_the_event_file_is_what_the_template_renders(name: str) -> None:
    assert event_path(name).read_text(encoding="utf-8") == render_sample(name), "run `make events`"


@pytest.mark.parametrize("name", SAMPLE_REQUESTS)
def test_the_handler_forwards_the_sample_event(name: str, proxy_to: RecordingBackend) -> None:
    request = SAMPLE_REQUESTS[name]
    event = json.loads(event_path(name).read_text(encoding="utf-8"))
    proxy_to.responder = lambda _: Reply(200, [("Content-Type", "application/json")], b'{"stored": true}')

    response = invoke_handler(event)

    assert response["statusCode"] == 200
    assert response["body"] == ("" if request.method == "HEAD" else '{"stored": true}')
    assert proxy_to.last.method == request.method
    assert proxy_to.last.body == request.body
