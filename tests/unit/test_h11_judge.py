"""h11, python-hyper's strict HTTP/1.1 parser, judges the framing of every hostile-backend script independently.

Where h11 calls a script's bytes a protocol error, the proxy must answer 502 (tests/integration/test_hostile_backend.py
shows that it does). Where h11 parses them, the script says why the proxy answers as it does, and where the proxy
returns the backend's answer, h11 must have parsed the same status and body.
"""

from dataclasses import dataclass, field

import h11
import pytest

from proxy.http1 import HEAD_LIMIT_BYTES
from tests.support.hostile import SCRIPTS, HostileScript


@dataclass
class Judgement:
    verdict: str
    statuses: list[int] = field(default_factory=list)  # every answer's status, informational ones first
    body: bytes = b""
    error: str = ""


def judge(script: HostileScript) -> Judgement:
    """h11's reading of the script's bytes as the answer to its request; the connection's end counts only where
    the script ends it (a reset is an end too)."""
    connection = h11.Connection(h11.CLIENT, max_incomplete_event_size=HEAD_LIMIT_BYTES)
    connection.send(h11.Request(method=script.method, target="/", headers=[("Host", "backend")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(script.sent)
    if script.then in ("close", "reset"):
        connection.receive_data(b"")
    judgement = Judgement("incomplete")
    try:
        while True:
            event = connection.next_event()
            if isinstance(event, h11.InformationalResponse | h11.Response):
                judgement.statuses.append(event.status_code)
            elif isinstance(event, h11.Data):
                judgement.body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                judgement.verdict = "complete+extra" if connection.trailing_data[0] else "complete"
                return judgement
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return judgement
    except h11.RemoteProtocolError as error:
        return Judgement("error", error=str(error))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda script: script.name)
def test_h11s_verdict_on_every_script_is_the_recorded_one_and_an_error_is_always_a_502(script: HostileScript) -> None:
    judgement = judge(script)

    assert judgement.verdict == script.h11, judgement.error
    if judgement.verdict == "error":
        assert script.status == 502
        return
    assert script.why, "h11 finds no protocol error here: say why the proxy answers as it does"
    if script.status not in (502, 504):
        assert judgement.statuses[-1] == script.status
        assert judgement.body == (b"" if script.method == "HEAD" else script.body)


def test_the_suite_covers_each_class_of_the_issue_with_at_least_40_scripts() -> None:
    verdicts = {script.h11 for script in SCRIPTS}
    outcomes = {script.status for script in SCRIPTS}

    assert len(SCRIPTS) >= 40
    assert len({script.name for script in SCRIPTS}) == len(SCRIPTS)
    assert verdicts == {"error", "complete", "complete+extra", "incomplete"}
    assert {200, 204, 304, 502, 504} <= outcomes
