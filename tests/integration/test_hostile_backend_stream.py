"""The hostile-backend scripts (tests/support/hostile.py) against IntegrationMode=STREAM: whatever bytes a backend
sends, the client gets its own request's answer, a cut-off stream or an explained error, and the next request on the
same warm container gets its own answer.

The buffered modes' suite is test_hostile_backend.py. A stream differs in two ways: once the prelude is out, a
failure can only cut the answer off; and the whole answer has the stream's time limit, not BackendTimeoutSeconds
(which limits the head and each pause). So a script the buffered modes answer with the backend's status must stream
exactly that status and body; a script they refuse (502, 504) is refused the same way before the prelude, or streamed
with the backend's status and then cut off, or, when it is a valid answer that is only slow, streamed whole.
"""

import time
import uuid

import pytest

from tests.support.faults import FaultServer
from tests.support.hostile import HOLD_SECONDS, SCRIPTS, TIMEOUT_SECONDS, HostileScript, Playbook
from tests.support.streaming_cases import Streamed, proxy_event, stream

SLACK_SECONDS = 0.5


def own_request(method: str = "GET", path: str = "/after") -> tuple[str, Streamed]:
    request_id = str(uuid.uuid4())
    return request_id, stream(proxy_event(method, path, request_id))


def assert_own_answer(request_id: str, streamed: Streamed) -> None:
    assert (streamed.prelude["statusCode"], streamed.body, streamed.failure) == (200, request_id.encode(), None)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda script: script.name)
def test_a_hostile_stream_reaches_only_its_own_client_and_the_next_request_gets_its_own(
    stream_faults: FaultServer, script: HostileScript
) -> None:
    stream_faults.script = Playbook(script)
    assert_own_answer(*own_request(path="/warm"))

    started = time.monotonic()
    request_id, hostile = own_request(script.method, "/hostile")
    elapsed = time.monotonic() - started
    if script.then == "hold" and hostile.failure is None:
        # A slow but valid answer streams whole and its connection is pooled; the script then holds that connection
        # silent until it closes it, as a backend that stops answering does. The next request comes after that.
        time.sleep(HOLD_SECONDS)
    time.sleep(script.pause_before_next)
    assert_own_answer(*own_request())

    status = hostile.prelude["statusCode"]
    if script.status not in (502, 504):
        assert (status, hostile.body, hostile.failure) == (script.status, script.body, None)
    elif hostile.failure is not None:  # streamed, then cut off: never a complete-looking answer
        assert status < 500
    elif status == script.status:  # refused before the prelude, as buffered
        assert script.says in hostile.body.decode()
        assert request_id in hostile.body.decode()
    else:  # valid but slower than BackendTimeoutSeconds in all: a stream has no such limit, only an idle one
        assert (script.h11, status) == ("complete", 200)
        assert hostile.body
        assert hostile.body in script.sent
    assert b"stale" not in hostile.body
    assert elapsed < max(TIMEOUT_SECONDS, HOLD_SECONDS) + TIMEOUT_SECONDS + SLACK_SECONDS
