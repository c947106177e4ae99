"""Invokes a handler in process the way Lambda does: a context object, and failures turned into function errors."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from local_gateway.integration import FunctionError
from local_gateway.streaming import FunctionStream

# The buffered modes' function timeout (template.yaml's ProxyFunction Timeout).
DEFAULT_TIMEOUT_MS = 29_000


@dataclass
class LocalLambdaContext:
    """The LambdaContext attributes Powertools and handlers read."""

    function_name: str = "local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(self.timeout_ms - int((time.monotonic() - self._started) * 1000), 0)


def lambda_context(function_name: str = "local", timeout_ms: int = DEFAULT_TIMEOUT_MS) -> LambdaContext:
    return cast(LambdaContext, LocalLambdaContext(function_name=function_name, timeout_ms=timeout_ms))


def invoker(handler: Callable[[Any, LambdaContext], Any], function_name: str) -> Callable[[dict[str, Any]], Any]:
    """A raised exception becomes a FunctionError, as the Lambda service reports it to API Gateway."""

    def invoke(event: dict[str, Any]) -> Any:
        try:
            return handler(event, lambda_context(function_name))
        except Exception as error:
            raise FunctionError(f"{type(error).__name__}: {error}") from error

    return invoke


def stream_invoker(
    handler: Callable[[Any, LambdaContext], Any], function_name: str, timeout_ms: int
) -> Callable[[dict[str, Any]], FunctionStream]:
    """A streaming handler (proxy.stream_handler), run in a thread of its own with a `timeout_ms` deadline."""

    def invoke(event: dict[str, Any]) -> FunctionStream:
        return FunctionStream(lambda: handler(event, lambda_context(function_name, timeout_ms)))

    return invoke
