"""Decides whether an authorizer's IAM policy lets a request through, as API Gateway does (explicit Deny wins)."""

from fnmatch import fnmatchcase
from typing import Any


def is_allowed(policy_document: dict[str, Any], method_arn: str) -> bool:
    allowed = False
    for statement in _as_list(policy_document.get("Statement")):
        if "execute-api:Invoke" not in _as_list(statement.get("Action")):
            continue
        # IAM wildcards: '*' spans any characters, '/' included; '?' is one character.
        if not any(fnmatchcase(method_arn, resource) for resource in _as_list(statement.get("Resource"))):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
