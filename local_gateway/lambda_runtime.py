"""Invokes a handler in process the way Lambda does: a context object, and failures turned into function errors."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from local_gateway.lambda_context import lambda_context
from local_gateway.model import FunctionError
from local_gateway.streaming import FunctionStream


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
        return FunctionStream(lambda: handler(event, lambda_context(function_name, timeout_ms=timeout_ms)))

    return invoke
