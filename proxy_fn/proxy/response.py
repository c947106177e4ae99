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
    text = _as_text(backend_response.body, headers)
    response: LambdaResponse = {
        "statusCode": backend_response.status,
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "body": text if text is not None else base64.b64encode(backend_response.body).decode("ascii"),
        "isBase64Encoded": text is None,
    }
    _check_size(response, escaped_body=text is not None)
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


def _as_text(body: bytes, headers: dict[str, str]) -> str | None:
    """Text only when it is declared text, not content-encoded, and valid UTF-8; anything else goes as base64."""
    lowered = {name.lower(): value for name, value in headers.items()}
    media_type = lowered.get("content-type", "").split(";", 1)[0].strip().lower()
    declared_text = media_type.startswith(_TEXT_TYPES) or media_type.endswith(_TEXT_SUFFIXES)
    if not declared_text or lowered.get("content-encoding", "identity").lower() != "identity":
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _check_size(response: LambdaResponse, escaped_body: bool) -> None:
    # A base64 body serialises to its own length; only a text body needs escaping to be measured.
    body = response["body"]
    body_size = len(json.dumps(body)) if escaped_body else len(body) + 2
    envelope = {key: value for key, value in response.items() if key != "body"}
    if body_size + len(json.dumps(envelope)) + 16 > LAMBDA_RESPONSE_LIMIT_BYTES:
        raise BackendResponseTooLarge(
            f"the backend response ({body_size:,} bytes once encoded) is larger than the "
            f"{LAMBDA_RESPONSE_LIMIT_BYTES:,} bytes a Lambda response can carry"
        )
