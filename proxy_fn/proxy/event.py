"""Reads the REST proxy (payload 1.0) event that the request template, `sam local` and AWS_PROXY all produce."""

import base64
import re
from typing import Any, NamedTuple

from proxy.errors import MalformedEvent

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")
# API Gateway's request id (a UUID) and source IP (an address, or the console's "test-invoke-source-ip") become
# header values: visible ASCII only.
_CONTEXT_VALUE = re.compile(r"[\x21-\x7e]{0,256}")


class ClientRequest(NamedTuple):
    """What the client sent, as API Gateway handed it over."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    request_id: str | None
    source_ip: str | None
    # Who API Gateway authenticated (Lambda authorizer principal, Cognito subject or IAM ARN); never a header.
    caller: str | None = None


def parse_event(event: Any) -> ClientRequest:
    if not isinstance(event, dict):
        raise MalformedEvent("the event is not a JSON object")
    method = event.get("httpMethod")
    if not isinstance(method, str) or not _TOKEN.fullmatch(method):
        raise MalformedEvent("httpMethod is missing or not an HTTP method")
    path = event.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise MalformedEvent("path is missing or does not start with '/'")
    _require_utf8(path, "path")
    context = _optional_dict(event, "requestContext")
    identity = _optional_dict(context, "identity")
    headers = _headers(event)
    return ClientRequest(
        method=method.upper(),
        path=path,
        query=_pairs(event, "multiValueQueryStringParameters", "queryStringParameters"),
        headers=headers,
        body=_body(event, headers),
        request_id=_context_value(context, "requestContext.requestId", "requestId"),
        source_ip=_context_value(identity, "requestContext.identity.sourceIp", "sourceIp"),
        caller=_caller(context, identity),
    )


def _caller(context: dict[str, Any], identity: dict[str, Any]) -> str | None:
    authorizer = _optional_dict(context, "authorizer")
    claims = _optional_dict(authorizer, "claims")
    candidates = (
        _optional_str(authorizer, "principalId"),
        _optional_str(claims, "sub"),
        _optional_str(identity, "userArn"),
    )
    caller = next((candidate for candidate in candidates if candidate), None)
    if caller is not None and _FORBIDDEN_IN_VALUE.search(caller):
        raise MalformedEvent("the authorizer's principal contains a line break or NUL")
    return caller


def _context_value(container: dict[str, Any], where: str, key: str) -> str | None:
    value = _optional_str(container, key)
    if value is not None and not _CONTEXT_VALUE.fullmatch(value):
        raise MalformedEvent(f"{where} must be at most 256 visible ASCII characters")
    return value or None


def _optional_dict(container: dict[str, Any], key: str) -> dict[str, Any]:
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"{key} must be an object")
    return value


def _optional_str(container: dict[str, Any], key: str) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f"{key} must be a string")
    return value


def _pairs(event: dict[str, Any], multi_key: str, single_key: str) -> list[tuple[str, str]]:
    """Prefer the multi-value map (all values of a repeated name); fall back to the single-value one."""
    multi = _optional_dict(event, multi_key)
    if multi:
        pairs: list[tuple[str, str]] = []
        for name, values in multi.items():
            if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
                raise MalformedEvent(f"{multi_key}.{_shown(name)} must be a list of strings")
            pairs.extend((name, value) for value in values)
        for name, value in pairs:
            _require_utf8(name + value, multi_key)
        return pairs
    single = _optional_dict(event, single_key)
    for name, value in single.items():
        if not isinstance(value, str):
            raise MalformedEvent(f"{single_key}.{_shown(name)} must be a string")
        _require_utf8(name + value, single_key)
    return list(single.items())


def _headers(event: dict[str, Any]) -> list[tuple[str, str]]:
    headers = _pairs(event, "multiValueHeaders", "headers")
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise MalformedEvent(f"header name {_shown(name)} is not a valid HTTP header name")
        if _FORBIDDEN_IN_VALUE.search(value):
            raise MalformedEvent(f"header {name} contains a line break or NUL")
    return headers


def _body(event: dict[str, Any], headers: list[tuple[str, str]]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedEvent("body must be a string or null")
    is_base64 = event.get("isBase64Encoded", False)
    if not isinstance(is_base64, bool):
        raise MalformedEvent("isBase64Encoded must be true or false")
    if not is_base64:
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        # Whether API Gateway converts a body sent without Content-Type as binary is not documented
        # (docs/api-gateway-assumptions.md, A06).
        hint = "" if any(name.lower() == "content-type" for name, _ in headers) else "; send a Content-Type header"
        raise MalformedEvent(f"body is marked isBase64Encoded but is not valid base64{hint}") from None


def _require_utf8(text: str, where: str) -> None:
    """A lone surrogate in the event stands for bytes that were never UTF-8; it cannot go on the wire."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedEvent(f"{where} is not valid UTF-8") from None


def _shown(name: str) -> str:
    """A client-supplied name made safe to echo in a message or a log line."""
    return repr(name[:64])
