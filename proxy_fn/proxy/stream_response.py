"""Shapes a streamed answer's metadata prelude: API Gateway's "Lambda proxy integration format for response
streaming" (statusCode, headers, multiValueHeaders, cookies), sent before the body's raw bytes."""

from typing import Any

from proxy.response import LambdaResponse
from proxy.upstream import HOP_BY_HOP

# As in the buffered modes: API Gateway sets its own Content-Length.
_NOT_RETURNED = HOP_BY_HOP | {"content-length"}
_SET_COOKIE = "set-cookie"


def stream_prelude(status: int, headers: list[tuple[str, str]], cors_allow_origin: str | None) -> dict[str, Any]:
    """The backend's status and headers as the buffered modes return them (repeated values joined by ", ", the
    configured CORS origin added unless the backend answered CORS itself), with every Set-Cookie in `cookies`, the
    field the streaming format gives them."""
    grouped: dict[str, tuple[str, list[str]]] = {}
    for name, value in headers:
        if name.lower() not in _NOT_RETURNED:
            grouped.setdefault(name.lower(), (name, []))[1].append(value)
    if cors_allow_origin and "access-control-allow-origin" not in grouped:
        grouped["access-control-allow-origin"] = ("Access-Control-Allow-Origin", [cors_allow_origin])
        if cors_allow_origin != "*":
            grouped.setdefault("vary", ("Vary", []))[1].append("Origin")
    prelude: dict[str, Any] = {"statusCode": status, "headers": {}}
    for key, (name, values) in grouped.items():
        if key == _SET_COOKIE:
            prelude["cookies"] = values
        else:
            prelude["headers"][name] = ", ".join(values)
    return prelude


def error_prelude_and_body(response: LambdaResponse) -> tuple[dict[str, Any], bytes]:
    """The proxy's own JSON answer (response.error_response) as a prelude and a body."""
    prelude = {"statusCode": response["statusCode"], "headers": response["headers"]}
    return prelude, str(response["body"]).encode()
