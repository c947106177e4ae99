"""Shapes a streamed answer's metadata prelude: API Gateway's "Lambda proxy integration format for response
streaming" (statusCode, headers, multiValueHeaders, cookies), sent before the body's raw bytes."""

from typing import Any

from proxy.response import SET_COOKIE, LambdaResponse, returned_headers


def stream_prelude(status: int, headers: list[tuple[str, str]], cors_allow_origin: str | None) -> dict[str, Any]:
    """The backend's status and headers as the buffered modes return them (response.returned_headers: repeated values
    joined by ", ", the CORS origin added), with every Set-Cookie in `cookies`, the streaming format's own field."""
    prelude: dict[str, Any] = {"statusCode": status, "headers": {}}
    for key, (name, values) in returned_headers(headers, cors_allow_origin).items():
        if key == SET_COOKIE:
            prelude["cookies"] = values
        else:
            prelude["headers"][name] = ", ".join(values)
    return prelude


def error_prelude_and_body(response: LambdaResponse) -> tuple[dict[str, Any], bytes]:
    """The proxy's own JSON answer (response.error_response) as a prelude and a body."""
    prelude = {"statusCode": response["statusCode"], "headers": response["headers"]}
    return prelude, str(response["body"]).encode()
