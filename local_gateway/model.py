"""The REST API pipeline's model, shared by every engine: what a client sends and gets back, what only API Gateway
knows about a request, how a function fails, the Engine every pipeline is, Lambda's limits, and the fixed identity
(account, region, API) that the local gateway, the tests' engines and the bench give their deployment.

Standard library only: the bench imports it next to functions whose cold start it measures.
"""

import json
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

# The deployment every local engine pretends to be (no AWS account is involved).
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"
API_ID = "local"
STACK_NAME = "private-api-proxy"
# What CloudFormation would give a template deployed there.
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": PARTITION,
    "AWS::StackName": STACK_NAME,
    "AWS::URLSuffix": "amazonaws.com",
}
RESOURCE_ID = "local"  # every resource of the API: the engines compare $context.resourceId

# Lambda's synchronous Invoke limits: 6 MB request; the response limit as Lambda's own error message states it.
LAMBDA_REQUEST_LIMIT_BYTES = 6_291_456
LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556
# What Lambda's Invoke API answers (413 RequestEntityTooLargeException) for a larger event.
LAMBDA_REQUEST_TOO_LARGE = (
    f"Request must be smaller than {LAMBDA_REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation"
)
# The function error Lambda reports for a larger answer (errorType Function.ResponseSizeTooLarge).
LAMBDA_RESPONSE_TOO_LARGE = (
    f"Response payload size exceeded maximum allowed payload size ({LAMBDA_RESPONSE_LIMIT_BYTES} bytes)."
)


def lambda_refusal(message: str) -> str:
    """The body of an Invoke call Lambda refuses before running the function (a 4XX of the Lambda API)."""
    return json.dumps({"Type": "User", "message": message})


def function_arn(function_name: str) -> str:
    return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"


LambdaInvoker = Callable[[dict[str, Any]], Any]


class FunctionError(Exception):
    """The function failed (raised, timed out, crashed): API Gateway selects the error integration response."""


@dataclass(frozen=True)
class MethodRequest:
    """What a client sent: the path without the stage, still percent-encoded; query values decoded."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class MethodResponse:
    """What the client gets back: `body`, or with a streaming integration the chunks of `stream` as they come."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_id: str
    stream: Generator[bytes] | None = None

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


@dataclass(frozen=True)
class IntegrationContext:
    """Per-request values that only API Gateway knows."""

    request_id: str
    request_time_epoch_ms: int

    @classmethod
    def fresh(cls) -> "IntegrationContext":
        return cls(request_id=str(uuid.uuid4()), request_time_epoch_ms=int(time.time() * 1000))

    @property
    def trace_id(self) -> str:
        """An X-Ray trace header for this request, derived from its id (X-Ray's Root=1-<epoch hex>-<24 hex>)."""
        epoch = f"{self.request_time_epoch_ms // 1000:08x}"
        return f"Root=1-{epoch}-{self.request_id.replace('-', '')[:24]};Parent={self.request_id[-16:]};Sampled=0"


class Engine(ABC):
    """A REST API integration pipeline: ours (RestApiIntegration), LocalStack's, or the tests' pair of both."""

    @property
    @abstractmethod
    def answers_preflight(self) -> bool:
        """Whether the API has an OPTIONS method of its own (the CORS mock), which needs no authorization."""

    def handle(
        self,
        request: MethodRequest,
        context: IntegrationContext | None = None,
        authorizer: dict[str, Any] | None = None,
    ) -> MethodResponse:
        """The method response. `context`: a fresh request id and time unless given; `authorizer`: what API Gateway
        exposes as $context.authorizer (principalId plus the authorizer's context), None without an authorizer."""
        return self.answer(request, context or IntegrationContext.fresh(), authorizer)

    @abstractmethod
    def answer(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> MethodResponse:
        """handle() with every argument given."""


EngineFactory = Callable[[LambdaInvoker], Engine]
