"""The Lambda answer built from a backend response: text or base64, headers, the 6 MB limit."""

import base64
import json

import pytest

from proxy.backend import BackendResponse
from proxy.errors import BackendResponseTooLarge
from proxy.response import to_lambda_response


def test_repeated_headers_are_kept_and_hop_by_hop_ones_dropped() -> None:
    response = to_lambda_response(
        BackendResponse(
            200,
            [
                ("Set-Cookie", "a=1"),
                ("set-cookie", "b=2"),
                ("Vary", "Accept"),
                ("Vary", "Accept-Encoding"),
                ("Connection", "keep-alive"),
                ("Transfer-Encoding", "chunked"),
                ("Content-Length", "3"),
            ],
            b"abc",
        )
    )

    assert response["multiValueHeaders"] == {
        "Set-Cookie": ["a=1", "b=2"],
        "Vary": ["Accept", "Accept-Encoding"],
    }
    assert response["headers"] == {"Set-Cookie": "a=1", "Vary": "Accept, Accept-Encoding"}


@pytest.mark.parametrize(
    ("content_type", "body", "as_text"),
    [
        ("application/json; charset=utf-8", '{"é": 1}'.encode(), True),
        ("text/csv", b"a,b\n1,2\n", True),
        ("application/vnd.api+json", b"{}", True),
        ("image/png", b"\x89PNG", False),
        ("text/plain", b"\xff\xfe", False),
        ("", b"hello", False),
    ],
)
def test_declared_utf8_text_is_returned_as_text_and_everything_else_as_base64(
    content_type: str, body: bytes, as_text: bool
) -> None:
    headers = [("Content-Type", content_type)] if content_type else []
    response = to_lambda_response(BackendResponse(200, headers, body))

    assert response["isBase64Encoded"] is not as_text
    decoded = response["body"].encode() if as_text else base64.b64decode(response["body"])
    assert decoded == body


def test_a_text_body_that_grows_past_6_mb_once_json_escaped_is_refused() -> None:
    quotes = b'"' * 3_500_000  # 3.5 MB of text becomes 7 MB of JSON

    with pytest.raises(BackendResponseTooLarge, match="once encoded"):
        to_lambda_response(BackendResponse(200, [("Content-Type", "text/plain")], quotes))


def test_cors_adds_the_configured_origin_unless_the_backend_answered_cors_itself() -> None:
    plain = BackendResponse(200, [("Vary", "Accept")], b"")
    own_cors = BackendResponse(200, [("Access-Control-Allow-Origin", "https://other.example")], b"")

    with_origin = to_lambda_response(plain, "https://app.example.com")
    assert with_origin["headers"]["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert with_origin["multiValueHeaders"]["Vary"] == ["Accept", "Origin"]
    assert to_lambda_response(plain, "*")["headers"] == {"Vary": "Accept", "Access-Control-Allow-Origin": "*"}
    assert to_lambda_response(own_cors, "*")["headers"] == {"Access-Control-Allow-Origin": "https://other.example"}
    assert "Access-Control-Allow-Origin" not in to_lambda_response(plain)["headers"]


@pytest.mark.parametrize(
    "text",
    ['quote " and \\ backslash', "tab\tnew\nline\r\x08\x0c", "\x00\x01\x1f\x7f", "café €😀", "plain"],
)
def test_the_size_check_agrees_with_json_at_the_exact_limit(text: str) -> None:
    from proxy.response import _text_fits

    raw = (text * 400_000).encode()
    exact = len(json.dumps(raw.decode()))

    assert _text_fits(raw, exact)
    assert not _text_fits(raw, exact - 1)
