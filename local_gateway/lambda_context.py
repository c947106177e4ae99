"""The one Lambda context object outside Lambda: make local's functions, the tests and the bench all use it.

Standard library only (the bench imports it next to functions whose cold start it measures, and a test hands it to a
function built by `sam build` in an interpreter without site-packages).
"""

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from local_gateway.model import function_arn

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# The buffered modes' function timeout (template.yaml's ProxyFunction Timeout).
DEFAULT_TIMEOUT_MS = 29_000


@dataclass
class LocalLambdaContext:
    """The LambdaContext attributes Powertools and the handlers read; the remaining time counts down from creation."""

    function_name: str = "local"
    memory_limit_in_mb: int = 512
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return self.function_name

    def get_remaining_time_in_millis(self) -> int:
        return max(self.timeout_ms - int((time.monotonic() - self._started) * 1000), 0)


def lambda_context(
    function_name: str = "local", *, timeout_ms: int = DEFAULT_TIMEOUT_MS, memory_mb: int = 512
) -> "LambdaContext":
    """A fresh context (a new request id) for one invocation."""
    return cast("LambdaContext", LocalLambdaContext(function_name, memory_mb, timeout_ms))
