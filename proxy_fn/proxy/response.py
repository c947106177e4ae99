"""Shapes the Lambda answer in the REST proxy response format that the response template and `sam local` read."""

import base64
import json
from http import HTTPStatus
from typing import Any

from proxy.backend import BackendResponse
from proxy.errors import BackendResponseTooLarge
from proxy.upstream import HOP_BY_HOP

# Lambda's synchronous response payload limit (6 MB), counted on the serialised JSON.
LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556
# API Gateway sets its own Content-Length; the backend's would be wrong after any re-encoding.
_NOT_RETURNED = HOP_BY_HOP | {"content-length"}
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form",
)
_TEXT_SUFFIXES = ("+json", "+xml")

LambdaResponse = dict[str, Any]


def to_lambda_response(backend_response: BackendResponse, cors_allow_origin: str | None = None) -> LambdaResponse:
    """`headers` has one value per name (cookies: the first), `multiValueHeaders` every value.

    With CORS on, the configured origin is added unless the backend answered CORS itself.
    """
    grouped: dict[str, tuple[str, list[str]]] = {}
    for name, value in backend_response.headers:
        if name.lower() not in _NOT_RETURNED:
            grouped.setdefault(name.lower(), (name, []))[1].append(value)
    if cors_allow_origin and "access-control-allow-origin" not in grouped:
        grouped["access-control-allow-origin"] = ("Access-Control-Allow-Origin", [cors_allow_origin])
        if cors_allow_origin != "*":
            grouped.setdefault("vary", ("Vary", []))[1].append("Origin")
    multi_value_headers = dict(grouped.values())
    headers = {
        name: values[0] if name.lower() == "set-cookie" else ", ".join(values)
        for name, values in multi_value_headers.items()
    }
    text = _as_text(backend_response.body, grouped)
    response: LambdaResponse = {
        "statusCode": backend_response.status,
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "body": text if text is not None else base64.b64encode(backend_response.body).decode("ascii"),
        "isBase64Encoded": text is None,
    }
    header_characters = sum(len(name) + len(value) for name, value in backend_response.headers)
    if 6 * (len(backend_response.body) + 2 * header_characters) + 1024 <= LAMBDA_RESPONSE_LIMIT_BYTES:
        return response  # fits even if every character became a six-character escape (headers appear twice)
    envelope = {key: value for key, value in response.items() if key != "body"}
    budget = LAMBDA_RESPONSE_LIMIT_BYTES - len(json.dumps(envelope)) - 16
    fits = _text_fits(backend_response.body, budget) if text is not None else len(response["body"]) + 2 <= budget
    if not fits:
        raise BackendResponseTooLarge(
            f"the backend response ({len(backend_response.body):,} bytes) is larger than the "
            f"{LAMBDA_RESPONSE_LIMIT_BYTES:,} bytes a Lambda response can carry once encoded"
        )
    return response


def error_response(status: HTTPStatus, message: str, request_id: str) -> LambdaResponse:
    body = json.dumps({"message": message, "requestId": request_id})
    headers = {"Content-Type": "application/json"}
    return {
        "statusCode": int(status),
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "body": body,
        "isBase64Encoded": False,
    }


def _as_text(body: bytes, grouped: dict[str, tuple[str, list[str]]]) -> str | None:
    """Text only when it is declared text, not content-encoded, and valid UTF-8; anything else goes as base64.

    `grouped` maps each lower-cased header name to (name as sent, values).
    """

    def first(name: str, default: str) -> str:
        return grouped[name][1][0] if name in grouped else default

    media_type = first("content-type", "").split(";", 1)[0].strip().lower()
    declared_text = media_type.startswith(_TEXT_TYPES) or media_type.endswith(_TEXT_SUFFIXES)
    if not declared_text or first("content-encoding", "identity").lower() != "identity":
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


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
