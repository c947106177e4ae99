"""The TOKEN authorizer as API Gateway runs it: header check, authorizer_fn in process, result cache, policy."""

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local_gateway.policy import is_allowed

AuthorizerFunction = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Decision:
    """`refusal` names the gateway response to send; `context` is what becomes $context.authorizer."""

    refusal: str | None
    context: dict[str, Any]


class TokenAuthorization:
    def __init__(
        self,
        authorizer: AuthorizerFunction,
        validation_expression: str,
        cache_ttl_seconds: float,
        api_arn: str,
    ) -> None:
        self._authorizer = authorizer
        # API Gateway's expression is Java regex; the template's fits Python's re unchanged.
        self._validation = re.compile(validation_expression)
        self._cache_ttl = cache_ttl_seconds
        self._api_arn = api_arn
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def decide(self, authorization: str | None, method: str, path: str) -> Decision:
        if not authorization or not self._validation.fullmatch(authorization):
            return Decision("UNAUTHORIZED", {})
        method_arn = f"{self._api_arn}/{method}{path}"
        result = self._cached(authorization) or self._authorize(authorization, method_arn)
        if isinstance(result, str):
            return Decision(result, {})
        if not is_allowed(result["policyDocument"], method_arn):
            return Decision("ACCESS_DENIED", {})
        return Decision(None, {"principalId": result["principalId"], **result.get("context", {})})

    def _cached(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._cache.get(token)
        if entry and time.monotonic() - entry[0] < self._cache_ttl:
            return entry[1]
        return None

    def _authorize(self, token: str, method_arn: str) -> dict[str, Any] | str:
        """The authorizer's policy (cached), or the refusal for its failure (not cached: only policies are)."""
        try:
            result = self._authorizer({"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn})
        except Exception as error:
            # "Unauthorized" is the one error API Gateway answers 401; any other failure of the function is a 500.
            return "UNAUTHORIZED" if str(error) == "Unauthorized" else "AUTHORIZER_CONFIGURATION_ERROR"
        if self._cache_ttl > 0:
            with self._lock:
                self._cache[token] = (time.monotonic(), result)
        return result
