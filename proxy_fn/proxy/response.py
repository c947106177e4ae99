"""Shapes the Lambda answer in the REST proxy response format that the response template and AWS_PROXY read."""

import base64
import json
from http import HTTPStatus
from typing import Any

from proxy.backend import BackendResponse
from proxy.errors import BackendResponseTooLarge, BodyNotText
from proxy.http1 import HOP_BY_HOP

# Lambda's synchronous response payload limit (6 MB), counted on the serialised JSON.
LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556
# API Gateway sets its own Content-Length; the backend's would be wrong after any re-encoding.
_NOT_RETURNED = HOP_BY_HOP | {"content-length"}
# The one header whose values cannot be joined into one line (RFC 9110 5.3, RFC 6265 3).
SET_COOKIE = "set-cookie"

LambdaResponse = dict[str, Any]


def to_lambda_response(
    backend_response: BackendResponse, cors_allow_origin: str | None = None, *, text_only: bool = False
) -> LambdaResponse:
    """The REST proxy answer that both the response template and AWS_PROXY read.

    Each header name is in exactly one map: `multiValueHeaders` holds a Set-Cookie sent more than once, `headers`
    everything else, with repeated values joined by ", " (RFC 9110 5.3). AWS merges the two maps and LocalStack
    repeats a value named in both, so only disjoint maps mean the same to both. The body is text whenever its
    bytes are UTF-8, whatever the Content-Type, and base64 otherwise; `text_only` (mapping templates, which
    cannot return other bytes) refuses the latter. With CORS on, the configured origin is added unless the
    backend answered CORS itself.
    """
    grouped = returned_headers(backend_response.headers, cors_allow_origin)
    headers: dict[str, str] = {}
    multi_value_headers: dict[str, list[str]] = {}
    for key, (name, values) in grouped.items():
        if key == SET_COOKIE and len(values) > 1:
            multi_value_headers[name] = values
        else:
            headers[name] = ", ".join(values)
    try:
        body, is_base64 = backend_response.body.decode("utf-8"), False
    except UnicodeDecodeError:
        if text_only:
            raise BodyNotText(_not_text_message(grouped)) from None
        body, is_base64 = base64.b64encode(backend_response.body).decode("ascii"), True
    response: LambdaResponse = {
        "statusCode": backend_response.status,
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "body": body,
        "isBase64Encoded": is_base64,
    }
    header_characters = sum(len(name) + len(value) for name, value in backend_response.headers)
    if 6 * (len(backend_response.body) + header_characters) + 1024 <= LAMBDA_RESPONSE_LIMIT_BYTES:
        return response  # fits even if every character became a six-character escape
    envelope = {key: value for key, value in response.items() if key != "body"}
    budget = LAMBDA_RESPONSE_LIMIT_BYTES - len(json.dumps(envelope)) - 16
    fits = len(body) + 2 <= budget if is_base64 else _text_fits(backend_response.body, budget)
    if not fits:
        raise BackendResponseTooLarge(
            f"the backend response ({len(backend_response.body):,} bytes) is larger than the "
            f"{LAMBDA_RESPONSE_LIMIT_BYTES:,} bytes a Lambda response can carry once encoded"
        )
    return response


def returned_headers(
    backend_headers: list[tuple[str, str]], cors_allow_origin: str | None
) -> dict[str, tuple[str, list[str]]]:
    """The backend's headers that go back to the client, by lower-case name: (name as first sent, every value), with
    the configured CORS origin added unless the backend answered CORS itself."""
    grouped: dict[str, tuple[str, list[str]]] = {}
    for name, value in backend_headers:
        key = name.lower()
        if key not in _NOT_RETURNED:
            grouped.setdefault(key, (name, []))[1].append(value)
    if cors_allow_origin and "access-control-allow-origin" not in grouped:
        grouped["access-control-allow-origin"] = ("Access-Control-Allow-Origin", [cors_allow_origin])
        if cors_allow_origin != "*":
            grouped.setdefault("vary", ("Vary", []))[1].append("Origin")
    return grouped


def set_cookie_values(response: LambdaResponse) -> list[str]:
    """Every Set-Cookie value of an answer, whichever map holds them."""
    for name, values in response["multiValueHeaders"].items():
        if name.lower() == SET_COOKIE:
            return list(values)
    return [value for name, value in response["headers"].items() if name.lower() == SET_COOKIE]


def error_response(status: HTTPStatus, message: str, request_id: str) -> LambdaResponse:
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "body": json.dumps({"message": message, "requestId": request_id}),
        "isBase64Encoded": False,
    }


def _not_text_message(grouped: dict[str, tuple[str, list[str]]]) -> str:
    content_type = grouped["content-type"][1][0] if "content-type" in grouped else "none"
    return (
        f"the backend answered with a body that is not UTF-8 text (Content-Type: {content_type}), which a "
        "mapping-template integration cannot return unchanged; deploy with IntegrationMode=PROXY for binary bodies"
    )


# What json.dumps escapes in ASCII text: these become two characters (\" \n ...), the rest six (\u0001).
_ESCAPED_IN_JSON = bytes(range(32)) + b'"\\\x7f'


def _text_fits(raw: bytes, budget: int) -> bool:
    """Whether the UTF-8 text `raw` fits `budget` once JSON-encoded, scanning it as little as possible.

    The Lambda runtime JSON-encodes the answer anyway; building that copy here as well would double the cost.
    """
    if len(raw) * 6 + 2 <= budget:  # even if every byte became a six-character escape
        return True
    if raw.isascii():
        escapable = len(raw) - len(raw.translate(None, _ESCAPED_IN_JSON))
        if len(raw) + 2 + 5 * escapable <= budget:  # an escape writes at most six characters
            return True
    return len(json.dumps(raw.decode("utf-8"))) <= budget
