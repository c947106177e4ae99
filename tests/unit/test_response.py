"""The Lambda answer built from a backend response: text or base64, headers, the 6 MB limit."""

import base64
import json

import pytest

from proxy.backend import BackendResponse
from proxy.errors import BackendResponseTooLarge, BodyNotText
from proxy.response import set_cookie_values, to_lambda_response


def test_each_header_name_is_in_exactly_one_map() -> None:
    """AWS merges headers and multiValueHeaders and LocalStack repeats a value named in both: only disjoint maps
    mean the same to both. Several cookies need the multi-value map; other repeats join into one line."""
    response = to_lambda_response(
        BackendResponse(
            200,
            [
                ("Set-Cookie", "a=1"),
                ("set-cookie", "b=2"),
                ("Vary", "Accept"),
                ("Vary", "Accept-Encoding"),
                ("ETag", '"v1"'),
                ("Connection", "keep-alive"),
                ("Transfer-Encoding", "chunked"),
                ("Content-Length", "3"),
            ],
            b"abc",
        )
    )

    assert response["multiValueHeaders"] == {"Set-Cookie": ["a=1", "b=2"]}
    assert response["headers"] == {"Vary": "Accept, Accept-Encoding", "ETag": '"v1"'}
    assert not response["headers"].keys() & response["multiValueHeaders"].keys()
    assert set_cookie_values(response) == ["a=1", "b=2"]


def test_a_single_cookie_is_an_ordinary_header() -> None:
    response = to_lambda_response(BackendResponse(200, [("Set-Cookie", "a=1; Path=/")], b""))

    assert (response["headers"], response["multiValueHeaders"]) == ({"Set-Cookie": "a=1; Path=/"}, {})
    assert set_cookie_values(response) == ["a=1; Path=/"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json; charset=utf-8", '{"é": 1}'.encode()),
        ("text/csv", b"a,b\n1,2\n"),
        ("image/svg+xml", b"<svg/>"),
        ("application/octet-stream", b"plain ascii, declared binary"),
        ("", "no type, ünïcode".encode()),
        ("text/plain", b""),
    ],
)
def test_utf8_bytes_are_text_whatever_the_content_type(content_type: str, body: bytes) -> None:
    headers = [("Content-Type", content_type)] if content_type else []

    for text_only in (False, True):
        response = to_lambda_response(BackendResponse(200, headers, body), text_only=text_only)
        assert response["isBase64Encoded"] is False
        assert response["body"].encode("utf-8") == body


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("image/png", b"\x89PNG\r\n\x1a\n"), ("text/plain", b"\xff\xfe latin-1 \xe9"), ("", bytes(range(256)))],
)
def test_bytes_that_are_not_utf8_are_base64_or_refused_where_only_text_passes(content_type: str, body: bytes) -> None:
    headers = [("Content-Type", content_type)] if content_type else []

    response = to_lambda_response(BackendResponse(200, headers, body))
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == body

    with pytest.raises(BodyNotText, match="IntegrationMode=PROXY") as refused:
        to_lambda_response(BackendResponse(200, headers, body), text_only=True)
    assert f"Content-Type: {content_type or 'none'}" in refused.value.message


def test_a_text_body_that_grows_past_6_mb_once_json_escaped_is_refused() -> None:
    quotes = b'"' * 3_500_000  # 3.5 MB of text becomes 7 MB of JSON

    with pytest.raises(BackendResponseTooLarge, match="once encoded"):
        to_lambda_response(BackendResponse(200, [("Content-Type", "text/plain")], quotes))


def test_cors_adds_the_configured_origin_unless_the_backend_answered_cors_itself() -> None:
    plain = BackendResponse(200, [("Vary", "Accept")], b"")
    own_cors = BackendResponse(200, [("Access-Control-Allow-Origin", "https://other.example")], b"")

    with_origin = to_lambda_response(plain, "https://app.example.com")
    assert with_origin["headers"]["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert with_origin["headers"]["Vary"] == "Accept, Origin"
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
