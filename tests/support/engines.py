"""Runs each request through our engine and LocalStack's, and fails on any disagreement.

    engines = BothEngines.for_template(invoke_handler)                # template.yaml with its defaults
    response = engines.handle(MethodRequest("POST", "/orders", body=b"{}"))

What is compared:
- what the function received: each engine's event read by the proxy's own proxy.event.parse_event (headers by
  case-insensitive name and value, query pairs, as multisets), or the same MalformedEvent message, or no call at
  all from either engine (the gateway answered by itself);
- the method responses: status, body bytes, headers (case-insensitive names, any order), with the wire-level
  transport headers of localstack.engine.TRANSPORT_HEADERS left out on both sides (our engine leaves
  Content-Length to local_gateway.server).

The backend: by default (`replay=True`) only our engine calls the function; LocalStack's Lambda then answers
with a replay of that result (or of the same FunctionError), so a backend behind the handler sees each request
once, exactly as in a test without LocalStack, and both engines shape the same answer. `replay=False` calls the
function from both engines; `backend_calls_per_request` says how many requests a backend then sees per handle().
"""

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from local_gateway.integration import RestApiIntegration
from local_gateway.model import (
    Engine,
    EngineFactory,
    FunctionError,
    IntegrationContext,
    LambdaInvoker,
    MethodRequest,
    MethodResponse,
)
from local_gateway.sam_template import ProxyIntegration, load_proxy_integration
from proxy.errors import MalformedEvent
from proxy.event import ClientRequest, parse_event
from tests.support.localstack.engine import (
    TRANSPORT_HEADERS,
    LocalStackDeployment,
    LocalStackIntegration,
    template_deployment,
)

# Our server drops these from a method response and writes its own Content-Length.
_SERVER_DROPPED = frozenset({"content-length", "transfer-encoding"})
_SHOWN_BODY_BYTES = 300


class EnginesDisagree(AssertionError):
    """The readable diff is the message; the same lines are kept apart for tests that expect a known difference."""

    def __init__(self, title: str, event_problems: list[str], response_problems: list[str]) -> None:
        super().__init__("\n".join([title, *event_problems, *response_problems]))
        self.event_problems = event_problems
        self.response_problems = response_problems


@dataclass
class _Call:
    """One engine's view of one request: the events its function received and what it answered."""

    events: list[Any] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Comparison:
    """Both engines' events and responses for the last request, for tests that want to look closer."""

    request: MethodRequest
    ours_events: list[Any]
    localstack_events: list[Any]
    ours: MethodResponse
    localstack: MethodResponse


class BothEngines(Engine):
    def __init__(
        self, ours: EngineFactory, localstack: EngineFactory, invoke: LambdaInvoker, *, replay: bool = True
    ) -> None:
        self._function = invoke
        self._replay = replay
        self._ours = ours(self._invoke_ours)
        self._localstack = localstack(self._invoke_localstack)
        self._lock = threading.Lock()
        self._calls = (_Call(), _Call())
        self.last: Comparison | None = None
        # Raised ones, kept: inside a server thread the exception only drops the client's connection.
        self.disagreements: list[EnginesDisagree] = []

    @classmethod
    def for_template(
        cls,
        invoke: LambdaInvoker,
        *,
        api: ProxyIntegration | None = None,
        deployment: LocalStackDeployment | None = None,
        stage: str = "v1",
        replay: bool = True,
    ) -> "BothEngines":
        """Our RestApiIntegration over template.yaml's integration and LocalStack over template.yaml's ProxyApi
        (defaults of every parameter unless given a deployment, e.g. template_deployment(IntegrationMode="PROXY"))."""
        definition = api or load_proxy_integration()
        deployed = deployment or template_deployment()
        return cls(
            lambda function: RestApiIntegration(definition, function, stage),
            lambda function: LocalStackIntegration(deployed, function),
            invoke,
            replay=replay,
        )

    @property
    def answers_preflight(self) -> bool:
        return self._ours.answers_preflight

    @property
    def backend_calls_per_request(self) -> int:
        """How many times the function (and a backend behind it) is called per handle() that reaches it."""
        return 1 if self._replay else 2

    def answer(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> MethodResponse:
        with self._lock:
            self._calls = (_Call(), _Call())
            ours = self._ours.handle(request, context, authorizer)
            localstack = self._localstack.handle(request, context, authorizer)
            ours_call, localstack_call = self._calls
        self.last = Comparison(request, ours_call.events, localstack_call.events, ours, localstack)
        event_problems = _event_differences(ours_call.events, localstack_call.events)
        response_problems = _response_differences(ours, localstack)
        if event_problems or response_problems:
            title = f"our engine and LocalStack's disagree on {request.method} {request.path} ({context.request_id}):"
            disagreement = EnginesDisagree(title, event_problems, response_problems)
            self.disagreements.append(disagreement)
            raise disagreement
        return ours

    def _invoke_ours(self, event: Any) -> Any:
        call = self._calls[0]
        call.events.append(event)
        try:
            result = self._function(event)
        except FunctionError as error:
            call.results.append(error)
            raise
        call.results.append(result)
        return result

    def _invoke_localstack(self, event: Any) -> Any:
        ours, call = self._calls
        call.events.append(event)
        if self._replay and ours.results:
            # Each engine calls the function once per request; the n-th call replays our engine's n-th answer.
            answer = ours.results[min(len(call.events), len(ours.results)) - 1]
            if isinstance(answer, FunctionError):
                raise FunctionError(str(answer))
            return answer
        return self._function(event)


def _read(event: Any) -> ClientRequest | MalformedEvent:
    try:
        return parse_event(event)
    except MalformedEvent as error:
        return error


def _event_differences(ours: list[Any], localstack: list[Any]) -> list[str]:
    if len(ours) != len(localstack):
        return [f"  the function was called {len(ours)} time(s) by our engine, {len(localstack)} by LocalStack's"]
    problems: list[str] = []
    for ours_event, localstack_event in zip(ours, localstack, strict=True):
        mine, theirs = _read(ours_event), _read(localstack_event)
        if isinstance(mine, MalformedEvent) or isinstance(theirs, MalformedEvent):
            if not (
                isinstance(mine, MalformedEvent) and isinstance(theirs, MalformedEvent) and str(mine) == str(theirs)
            ):
                problems.append(f"  event: ours reads as {_shown(mine)}, LocalStack's as {_shown(theirs)}")
            continue
        for name in ("method", "path", "body", "request_id", "source_ip", "caller"):
            if getattr(mine, name) != getattr(theirs, name):
                problems.append(
                    f"  event {name}: ours {_shown(getattr(mine, name))}, LocalStack {_shown(getattr(theirs, name))}"
                )
        problems += _multiset_differences("event header", _headers(mine.headers), _headers(theirs.headers))
        problems += _multiset_differences("event query", Counter(mine.query), Counter(theirs.query))
    return problems


def _response_differences(ours: MethodResponse, localstack: MethodResponse) -> list[str]:
    problems: list[str] = []
    if ours.status != localstack.status:
        problems.append(f"  status: ours {ours.status}, LocalStack {localstack.status}")
    if ours.body != localstack.body:
        problems.append(f"  body: ours {_shown(ours.body)}, LocalStack {_shown(localstack.body)}")
    problems += _multiset_differences(
        "response header", _response_headers(as_our_server_sends(ours.headers)), _response_headers(localstack.headers)
    )
    return problems


def as_our_server_sends(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """local_gateway.server's dropping (it writes its own Content-Length), applied to our engine's response."""
    return [(name, value) for name, value in headers if name.lower() not in _SERVER_DROPPED]


def _headers(pairs: list[tuple[str, str]]) -> Counter[tuple[str, str]]:
    return Counter((name.lower(), value) for name, value in pairs)


def _response_headers(pairs: list[tuple[str, str]]) -> Counter[tuple[str, str]]:
    return Counter((name.lower(), value) for name, value in pairs if name.lower() not in TRANSPORT_HEADERS)


def _multiset_differences(what: str, ours: Counter[Any], localstack: Counter[Any]) -> list[str]:
    problems = []
    if only_ours := sorted((ours - localstack).elements()):
        problems.append(f"  {what}s only in ours: {only_ours}")
    if only_localstack := sorted((localstack - ours).elements()):
        problems.append(f"  {what}s only in LocalStack's: {only_localstack}")
    return problems


def _shown(value: Any) -> str:
    if isinstance(value, bytes) and len(value) > _SHOWN_BODY_BYTES:
        return f"{value[:_SHOWN_BODY_BYTES]!r}... ({len(value)} bytes)"
    if isinstance(value, MalformedEvent):
        return f"MalformedEvent({str(value)!r})"
    return repr(value)
