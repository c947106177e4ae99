"""One test per assumption in tests/e2e/assumptions.py, over HTTPS against the deployed stack, as a client would.

Each test names its assumption by marker alone (`@assumption("A01")`): this module does not import the registry. Each
test asserts what its assumption predicts a client sees; `make e2e` prints the table of results. The backend is
httpbin-compatible (the demo backend, or your own httpbin): /anything echoes the request it received.
"""

import base64
import json
import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import urllib3
from urllib3.exceptions import ProtocolError

from tests.support.deployed import E2E, HTTP, PROXY, STREAM, VTL, Call, Caller, Stack, only_in

pytestmark = E2E
assumption = pytest.mark.assumption
RecordProperty = Any  # pytest's record_property fixture: (name, value) -> None

# Set to 1 to let A15 break the proxy function's configuration for about a minute (restored afterwards).
BREAK_FUNCTION_VARIABLE = "E2E_BREAK_PROXY_FUNCTION"
# Set to 1 to let A34 make the token store unreadable for about two minutes (restored afterwards).
BREAK_TOKEN_STORE_VARIABLE = "E2E_BREAK_TOKEN_STORE"
# Latin-1 text: not UTF-8, so only a binary conversion keeps it byte for byte.
NOT_UTF8 = b'caf\xe9 "it\'s" \\ back/slash \x00\xff end'


def _echo(response: urllib3.BaseHTTPResponse) -> dict[str, Any]:
    """httpbin's /anything echo of the request the backend received."""
    assert response.status == 200, response.data[:300]
    document: dict[str, Any] = response.json()
    return document


def _received_body(echo: dict[str, Any]) -> bytes:
    """The body bytes the backend got: httpbin echoes text as is and other bytes as a base64 data URI."""
    data = str(echo["data"])
    if data.startswith("data:") and ";base64," in data:
        return base64.b64decode(data.split(",", 1)[1])
    return data.encode("utf-8")


def _received_header(echo: dict[str, Any], name: str) -> str | None:
    return next((str(value) for key, value in echo["headers"].items() if key.lower() == name.lower()), None)


def _received_target(echo: dict[str, Any]) -> tuple[str, str]:
    """Path (still percent-encoded) and query of the URL the backend was asked for."""
    target = urlsplit(echo["url"])
    return target.path, target.query


def _seeded_bytes(seed: int, size: int) -> bytes:
    """What httpbin's /bytes/<size>?seed=<seed> answers: both httpbin and the demo backend draw randrange(256)
    from a Mersenne Twister seeded with the integer, whose sequence every Python 3 shares."""
    generator = random.Random(seed)
    return bytes(generator.randrange(256) for _ in range(size))


def _utf8_text_seed(size: int) -> int:
    """The first seed whose /bytes answer is UTF-8 text with non-ASCII characters (41 for 6 bytes)."""
    for seed in range(1_000_000):
        candidate = _seeded_bytes(seed, size)
        try:
            text = candidate.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if not text.isascii() and text.isprintable():
            return seed
    raise AssertionError("no seed gives UTF-8 text")  # pragma: no cover - seed 41 does


# ---- Request side ----


@assumption("A01")
def test_every_content_type_is_binary_under_star_star(call: Call) -> None:
    for content_type in ("text/plain", "application/json", "application/xml"):
        echo = _echo(call("PUT", "/anything", body=NOT_UTF8, headers={"Content-Type": content_type}))

        assert _received_body(echo) == NOT_UTF8, content_type


def _upload_every_byte_value(call: Call) -> None:
    payload = bytes(range(256)) * 16
    echo = _echo(call("PUT", "/anything", body=payload, headers={"Content-Type": "application/octet-stream"}))

    assert _received_body(echo) == payload


@assumption("A02")
def test_vtl_a_binary_body_reaches_the_template_as_base64(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    _upload_every_byte_value(call)


@assumption("A03")
def test_proxy_a_binary_body_reaches_the_function_as_base64(call: Call, stack_mode: str) -> None:
    only_in(PROXY, stack_mode)
    _upload_every_byte_value(call)


@assumption("A04")
def test_vtl_an_empty_body_is_no_body_and_a_braces_body_is_kept(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    empty = _echo(call("GET", "/anything"))
    braces = _echo(call("POST", "/anything", body=b"{}", headers={"Content-Type": "application/json"}))

    assert _received_body(empty) == b""
    assert (_received_body(braces), braces["json"]) == (b"{}", {})


@assumption("A05")
def test_vtl_a_request_without_content_type_is_mapped_not_refused(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    echo = _echo(call("POST", "/anything/no-content-type"))

    assert echo["method"] == "POST"


@assumption("A06")
def test_a_body_without_content_type_arrives_byte_for_byte(call: Call, record_property: RecordProperty) -> None:
    echo = _echo(call("POST", "/anything", body=NOT_UTF8))

    record_property("observed", f"Content-Type at the backend: {_received_header(echo, 'Content-Type')}")
    assert _received_body(echo) == NOT_UTF8


@assumption("A07")
def test_vtl_a_content_type_with_parameters_uses_its_mime_types_template(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    document = {"item": "café", "n": 2}
    as_json = call(
        "POST",
        "/anything",
        body=json.dumps(document).encode(),
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    as_text = call("POST", "/anything", body="plain ü".encode(), headers={"Content-Type": "text/plain;charset=utf-8"})

    assert _echo(as_json)["json"] == document
    assert _received_body(_echo(as_text)) == "plain ü".encode()


def _unlisted_type(call: Call) -> tuple[str, urllib3.BaseHTTPResponse]:
    content_type = "application/x-e2e-unlisted"
    return content_type, call("PUT", "/anything", body=b"x", headers={"Content-Type": content_type})


@assumption("A08")
def test_vtl_an_unlisted_content_type_is_a_415_before_the_function(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    _, response = _unlisted_type(call)

    assert response.status == 415
    assert set(response.json()) == {"message", "requestId"}
    assert "Unsupported Media Type" in response.json()["message"]


@assumption("A09")
def test_vtl_the_415_names_the_refused_content_type(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    content_type, response = _unlisted_type(call)

    assert (response.status, response.headers.get("X-Unsupported-Content-Type")) == (415, content_type)


@assumption("A10")
def test_vtl_a_repeated_query_key_keeps_its_last_value(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    echo = _echo(call("GET", "/anything?tag=a&tag=b&single=1", headers={"X-E2e-Probe": "one"}))

    _, query = _received_target(echo)
    assert sorted(parse_qsl(query)) == [("single", "1"), ("tag", "b")]
    assert _received_header(echo, "X-E2e-Probe") == "one"


@assumption("A11")
def test_vtl_quotes_backslashes_and_non_ascii_text_arrive_unchanged(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    value = 'it\'s "quoted" \\ back/slash café €'
    header = 'it\'s "quoted" \\ back/slash'
    echo = _echo(call("GET", f"/anything?q={quote(value, safe='')}", headers={"X-E2e-Quote": header}))

    assert echo["args"]["q"] == value
    assert _received_header(echo, "X-E2e-Quote") == header


@assumption("A12")
def test_the_backend_path_has_no_stage(call: Call, stack: Stack) -> None:
    echo = _echo(call("GET", "/anything/e2e/no-stage"))

    received, _ = _received_target(echo)
    assert received == "/anything/e2e/no-stage", f"stage {stack.stage!r}"


def _backend_echoes_raw_targets(call: Call) -> bool:
    """The demo backend answers an unknown route with JSON naming the raw path; httpbin answers an HTML 404."""
    response = call("GET", "/e2e-backend-probe")
    return response.status == 404 and b"no route for GET /e2e-backend-probe" in response.data


@assumption("A13")
def test_the_backend_path_keeps_the_clients_percent_encoding(call: Call) -> None:
    if not _backend_echoes_raw_targets(call):
        pytest.skip(
            "this backend decodes the path before echoing it (werkzeug-based httpbin); the demo backend shows it"
        )
    path = "/anything/e2e/a%2Bb%40c%20d"
    echo = _echo(call("GET", path))

    received, _ = _received_target(echo)
    assert received == path


# ---- The function's answer ----


@assumption("A14")
def test_vtl_a_normal_return_selects_the_default_response_whatever_its_status(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    for status in (500, 503):
        response = call("GET", f"/status/{status}")

        assert response.status == status
        assert b"the proxy function failed" not in response.data


@contextmanager
def _proxy_function_failing_at_init(stack: Stack) -> Iterator[None]:
    """An invalid BACKEND_TIMEOUT_SECONDS fails the function's cold start, as a crash would; restored on exit."""
    import boto3

    client = boto3.client("lambda")
    name = stack.outputs["ProxyFunctionName"]
    original = client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**original, "BACKEND_TIMEOUT_SECONDS": "not-a-number"}}
    )
    try:
        client.get_waiter("function_updated_v2").wait(FunctionName=name)
        yield
    finally:
        client.get_waiter("function_updated_v2").wait(FunctionName=name)
        client.update_function_configuration(FunctionName=name, Environment={"Variables": original})
        client.get_waiter("function_updated_v2").wait(FunctionName=name)


@assumption("A15")
def test_a_failed_invocation_is_a_502(call: Call, stack: Stack, record_property: RecordProperty) -> None:
    if os.environ.get(BREAK_FUNCTION_VARIABLE) != "1":
        pytest.skip(
            "a function failure cannot be caused from outside; "
            f"{BREAK_FUNCTION_VARIABLE}=1 lets this test break the proxy's configuration for a minute and restore it"
        )
    with _proxy_function_failing_at_init(stack):
        response = call("GET", "/anything")

    record_property("observed", f"{response.status} {response.data[:120].decode('utf-8', 'replace')}")
    assert response.status == 502
    if stack.mode == VTL:
        assert response.json()["message"] == "the proxy function failed"


@assumption("A16")
def test_vtl_the_answer_reaches_the_client_through_the_response_template(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    response = call("GET", "/anything?probe=1")

    assert _echo(response)["args"] == {"probe": "1"}
    assert response.headers["Content-Type"] == "application/json"


@assumption("A17")
def test_vtl_the_response_template_copies_the_answers_headers(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    redirect = call("GET", "/redirect-to?url=%2Fe2e-target")
    cookie = call("GET", "/cookies/set?e2e=1")

    assert redirect.headers.get("Location") == "/e2e-target"
    assert cookie.headers.get("Set-Cookie", "").startswith("e2e=1")


@assumption("A18")
def test_vtl_response_override_sets_any_status_and_header_name(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    statuses = [call("GET", f"/status/{status}").status for status in (201, 404, 418, 503)]
    redirect = call("GET", "/redirect-to?url=%2Fmoved&status_code=307")

    assert statuses == [201, 404, 418, 503]
    assert (redirect.status, redirect.headers.get("Location")) == (307, "/moved")


@assumption("A19")
def test_vtl_only_the_first_set_cookie_reaches_the_client(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    cookies = call("GET", "/cookies/set?a=1&b=2").headers.getlist("Set-Cookie")

    assert len(cookies) == 1, cookies
    assert cookies[0].startswith("a=1")


@assumption("A20")
def test_vtl_non_ascii_utf8_text_arrives_byte_for_byte(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    size = 6
    seed = _utf8_text_seed(size)
    response = call("GET", f"/bytes/{size}?seed={seed}")

    assert response.status == 200
    assert response.data == _seeded_bytes(seed, size)


@assumption("A21")
def test_vtl_the_response_template_applies_whatever_accept(call: Call, stack_mode: str) -> None:
    only_in(VTL, stack_mode)
    statuses = {
        accept: call("GET", "/status/418", headers={"Accept": accept} if accept else {}).status
        for accept in ("", "image/png", "text/html", "application/json")
    }

    assert statuses == dict.fromkeys(statuses, 418)


@assumption("A22")
def test_the_cors_preflight_is_answered_by_the_mock(stack: Stack, api_url: str) -> None:
    allowed = stack.parameters.get("CorsAllowOrigin", "")
    if not allowed:
        pytest.skip("CorsAllowOrigin is empty: this stack has no preflight mock")
    origin = "https://e2e.example.com" if allowed == "*" else allowed
    # A browser's preflight carries no credentials.
    response = HTTP.request(
        "OPTIONS",
        f"{api_url}/anything",
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
    )

    assert response.status == 204
    assert response.headers.get("Access-Control-Allow-Origin") == allowed
    assert "PUT" in response.headers.get("Access-Control-Allow-Methods", "")


# ---- AWS_PROXY answers ----

DOWNLOAD_SEED, DOWNLOAD_SIZE = 3, 4096


@assumption("A23")
def test_proxy_base64_answers_come_back_as_bytes_for_any_accept(call: Call, stack_mode: str) -> None:
    only_in(PROXY, stack_mode)
    expected = _seeded_bytes(DOWNLOAD_SEED, DOWNLOAD_SIZE)
    for accept in ("image/png", "*/*", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json"):
        response = call("GET", f"/bytes/{DOWNLOAD_SIZE}?seed={DOWNLOAD_SEED}", headers={"Accept": accept})

        assert response.status == 200, accept
        assert response.data == expected, f"Accept: {accept}: {response.data[:60]!r}"


@assumption("A24")
def test_proxy_without_accept_a_base64_answer_stays_base64_text(call: Call, stack_mode: str) -> None:
    only_in(PROXY, stack_mode)
    response = call("GET", f"/bytes/{DOWNLOAD_SIZE}?seed={DOWNLOAD_SEED}")  # urllib3 sends no Accept

    assert response.status == 200
    assert response.data == base64.b64encode(_seeded_bytes(DOWNLOAD_SEED, DOWNLOAD_SIZE))


@assumption("A25")
def test_proxy_headers_and_multi_value_headers_both_arrive_once(call: Call, stack_mode: str) -> None:
    only_in(PROXY, stack_mode)
    response = call("GET", "/cookies/set?a=1&b=2")
    cookies = sorted(response.headers.getlist("Set-Cookie"))

    assert response.headers.getlist("Location") == ["/cookies"]
    assert [cookie.split(";", 1)[0] for cookie in cookies] == ["a=1", "b=2"]


# ---- Access control ----


def _token_stack(stack: Stack) -> None:
    if stack.auth_mode != "TOKEN":
        pytest.skip(f"concerns AuthMode=TOKEN; this stack runs {stack.auth_mode}")


@assumption("A26")
def test_a_cached_allow_covers_the_clients_next_paths(call: Call, stack: Stack) -> None:
    _token_stack(stack)
    # Other methods and paths than the /status/200 that first authorized this token (conftest's wait).
    requests = [
        ("GET", "/anything/first"),
        ("POST", "/anything/second/x"),
        ("DELETE", "/status/204"),
        ("GET", "/headers"),
    ]

    statuses = [call(method, path).status for method, path in requests]

    assert statuses == [200, 200, 204, 200]


@assumption("A27")
def test_missing_malformed_and_unknown_tokens_are_refused_with_json(
    stack: Stack, api_url: str, credentials: dict[str, str]
) -> None:
    _token_stack(stack)
    api_key = {name: value for name, value in credentials.items() if name == "x-api-key"}
    missing = HTTP.request("GET", f"{api_url}/anything", headers=api_key)
    malformed = HTTP.request("GET", f"{api_url}/anything", headers={**api_key, "Authorization": "Basic ZTJlOmUyZQ=="})
    unknown = HTTP.request(
        "GET", f"{api_url}/anything", headers={**api_key, "Authorization": f"Bearer unknown-{uuid.uuid4().hex}"}
    )

    assert [missing.status, malformed.status, unknown.status] == [401, 401, 403]
    assert all(set(response.json()) == {"message", "requestId"} for response in (missing, malformed, unknown))


@assumption("A28")
def test_the_authorizers_context_reaches_the_backend_as_the_client_name(
    call: Call, stack: Stack, caller: Caller
) -> None:
    _token_stack(stack)
    echo = _echo(call("GET", "/anything"))

    assert _received_header(echo, "X-Authenticated-Client") == caller.client


@contextmanager
def _token_store_unreadable(stack: Stack) -> Iterator[float]:
    """The token parameter holds text that is not the documented JSON, until the authorizer's cached copy has
    expired; restored on exit, again waiting that long. Yields TokenCacheSeconds plus a margin."""
    import boto3

    ssm = boto3.client("ssm")
    name = stack.outputs["AuthTokensParameterName"]
    original = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    settle = float(stack.parameters.get("TokenCacheSeconds", "60")) + 10
    ssm.put_parameter(Name=name, Value="not the token store", Type="SecureString", Overwrite=True)
    try:
        time.sleep(settle)
        yield settle
    finally:
        ssm.put_parameter(Name=name, Value=original, Type="SecureString", Overwrite=True)


@assumption("A34")
def test_a_failed_authorizer_is_a_500_and_is_not_cached(
    stack: Stack, api_url: str, credentials: dict[str, str], record_property: RecordProperty
) -> None:
    _token_stack(stack)
    if os.environ.get(BREAK_TOKEN_STORE_VARIABLE) != "1":
        pytest.skip(
            "an authorizer failure cannot be caused from outside; "
            f"{BREAK_TOKEN_STORE_VARIABLE}=1 lets this test make the token store unreadable for about two minutes "
            "(every client is refused meanwhile) and restore it"
        )
    api_key = {name: value for name, value in credentials.items() if name == "x-api-key"}
    # A token never presented before: nothing is cached for it, and once the store reads again it is a Deny.
    headers = {**api_key, "Authorization": f"Bearer unknown-{uuid.uuid4().hex}"}
    with _token_store_unreadable(stack) as settle:
        failed = HTTP.request("GET", f"{api_url}/anything", headers=headers)
    time.sleep(settle)  # the authorizer reads the restored store; API Gateway's cache TTL is far longer
    after = HTTP.request("GET", f"{api_url}/anything", headers=headers)

    record_property(
        "observed",
        f"{failed.status} {failed.headers.get('x-amzn-ErrorType')} {failed.data[:80].decode('utf-8', 'replace')}; "
        f"then {after.status}",
    )
    assert failed.status == 500
    assert after.status == 403  # a cached failure would still be a 500


# ---- Limits ----


@assumption("A29")
def test_a_request_over_10_mb_is_a_413(call: Call, record_property: RecordProperty) -> None:
    response = call("POST", "/anything", body=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "text/plain"})

    try:
        ours = set(json.loads(response.data)) == {"message", "requestId"}
    except ValueError:
        ours = False
    record_property("observed", "the template's JSON" if ours else f"body {response.data[:80]!r}")
    assert response.status == 413


@assumption("A30")
def test_an_event_over_lambdas_6_mb_is_refused_before_the_function(call: Call, record_property: RecordProperty) -> None:
    # 5,000,000 bytes are 6,666,668 characters of base64 in the event: over 6 MB in both modes.
    response = call("POST", "/anything", body=b"\x00" * 5_000_000, headers={"Content-Type": "application/octet-stream"})

    record_property("observed", f"{response.status} {response.data[:120].decode('utf-8', 'replace')}")
    assert response.status >= 400
    assert b'"args"' not in response.data  # not the backend's echo


@assumption("A32")
def test_the_backends_date_and_server_headers_arrive_renamed(call: Call, record_property: RecordProperty) -> None:
    response = call("GET", "/anything/remapped")

    record_property("observed", ", ".join(sorted(name for name in response.headers if "remapped" in name.lower())))
    assert response.status == 200
    assert response.headers.get("x-amzn-Remapped-Date")  # every httpbin-compatible backend sends a Date


@assumption("A33")
def test_max_forwards_and_content_md5_never_reach_the_backend(call: Call) -> None:
    echo = _echo(
        call("GET", "/anything/dropped", headers={"Max-Forwards": "5", "Content-MD5": "Q2hlY2s=", "X-Kept": "1"})
    )

    assert _received_header(echo, "X-Kept") == "1"
    assert _received_header(echo, "Max-Forwards") is None
    assert _received_header(echo, "Content-MD5") is None


@assumption("A31")
def test_api_gateway_waits_longer_than_backend_timeout_seconds(
    call: Call, stack: Stack, record_property: RecordProperty
) -> None:
    # Just inside the proxy's own deadline (a cold start counts against API Gateway's 29 s as well).
    delay = max(1.0, min(float(stack.parameters.get("BackendTimeoutSeconds", "20")) - 2, 26.0))
    started = time.monotonic()
    response = call("GET", f"/delay/{delay:g}")
    waited = time.monotonic() - started

    record_property("observed", f"answered after {waited:.1f} s for a {delay:g} s backend")
    assert response.status == 200
    assert waited >= delay


# ---- Response streaming (IntegrationMode=STREAM) ----

MB = 1024 * 1024


@assumption("A35")
def test_stream_api_gateway_may_invoke_the_function_with_a_stream(call: Call, stack_mode: str) -> None:
    only_in(STREAM, stack_mode)
    response = call("GET", "/anything/streamed")

    assert response.status == 200, response.data[:300]
    assert _echo(response)["method"] == "GET"


@assumption("A36")
def test_stream_the_prelude_gives_status_headers_each_cookie_and_the_raw_bytes(call: Call, stack_mode: str) -> None:
    only_in(STREAM, stack_mode)
    cookies = call("GET", "/cookies/set?first=1&second=2")
    data = call("GET", "/bytes/1024?seed=5", headers={"Accept": "text/plain"})

    assert cookies.status == 302
    assert sorted(cookie.split(";")[0] for cookie in cookies.headers.getlist("Set-Cookie")) == ["first=1", "second=2"]
    assert data.headers["Content-Type"] == "application/octet-stream"
    assert data.data == _seeded_bytes(5, 1024)


@assumption("A37")
def test_stream_headers_arrive_before_the_body_is_complete(
    call: Call, stack_mode: str, record_property: RecordProperty
) -> None:
    only_in(STREAM, stack_mode)
    started = time.monotonic()
    response = call("GET", "/drip?numbytes=4&duration=6&delay=0", preload_content=False)
    head = time.monotonic() - started
    body = response.read()
    last = time.monotonic() - started

    record_property("observed", f"headers after {head:.1f} s, last byte after {last:.1f} s")
    assert body == b"****"
    assert head < last - 3


@assumption("A38")
def test_stream_an_answer_past_10_mb_arrives_whole(
    call: Call, stack_mode: str, record_property: RecordProperty
) -> None:
    only_in(STREAM, stack_mode)
    size = 24 * MB
    response = call("GET", f"/drip?numbytes={size}&duration=0&delay=0", preload_content=False)
    received, past_ten = 0, 0.0
    for chunk in response.stream(MB):
        received += len(chunk)
        if not past_ten and received >= 10 * MB:
            past_ten = time.monotonic()
    seconds = time.monotonic() - past_ten
    if received == 10 * MB:
        pytest.skip("the backend stops a drip at 10 MB (httpbin does; the demo backend goes to 200 MiB)")

    record_property("observed", f"{received:,} bytes; {(received - 10 * MB) / seconds / 1e6:.1f} MB/s after 10 MB")
    assert received == size


@assumption("A39")
def test_stream_a_stream_that_fails_midway_reaches_the_client_cut_off(
    call: Call, stack: Stack, stack_mode: str, record_property: RecordProperty
) -> None:
    only_in(STREAM, stack_mode)
    idle = float(stack.parameters.get("BackendTimeoutSeconds", "20"))
    # Two bytes: the second comes after more than the proxy's idle limit, which ends the stream with an error.
    response = call("GET", f"/drip?numbytes=2&duration={idle * 2 + 10:g}&delay=0", preload_content=False)
    received: list[bytes] = []
    with pytest.raises(ProtocolError) as cut:
        received.extend(response.stream(1))

    record_property("observed", f"{len(b''.join(received))} byte(s), then {type(cut.value).__name__}: {cut.value}")
    assert response.status == 200
    assert b"".join(received) == b"*"


@assumption("A40")
def test_stream_the_gates_still_refuse_before_the_function(stack: Stack, api_url: str, caller: Caller) -> None:
    only_in(STREAM, stack.mode)
    if stack.auth_mode != "TOKEN" and "ApiKeyId" not in stack.outputs:
        pytest.skip("this stack has no gate to check (AuthMode NONE and no API key)")
    if stack.auth_mode == "TOKEN":
        key = {name: value for name, value in caller.headers.items() if name == "x-api-key"}
        assert HTTP.request("GET", f"{api_url}/anything", headers=key).status == 401
        assert (
            HTTP.request("GET", f"{api_url}/anything", headers={**key, "Authorization": "Bearer wrong"}).status == 403
        )
    if "ApiKeyId" in stack.outputs:
        without_key = {name: value for name, value in caller.headers.items() if name != "x-api-key"}
        assert HTTP.request("GET", f"{api_url}/anything", headers=without_key).status == 403


@assumption("A41")
def test_stream_a_pause_under_the_proxys_idle_limit_completes_on_this_endpoint(
    call: Call, stack: Stack, record_property: RecordProperty
) -> None:
    only_in(STREAM, stack.mode)
    import boto3

    endpoint = boto3.client("apigateway").get_rest_api(restApiId=stack.outputs["ApiId"])["endpointConfiguration"]
    pause = float(stack.parameters.get("BackendTimeoutSeconds", "20")) - 5
    started = time.monotonic()
    response = call("GET", f"/drip?numbytes=2&duration={pause * 2:g}&delay=0")

    record_property(
        "observed", f"{endpoint['types']} endpoint; {time.monotonic() - started:.1f} s, one {pause:g} s pause"
    )
    assert (response.status, response.data) == (200, b"**")


@assumption("A42")
def test_stream_the_integration_and_function_keep_the_streams_time_limit(stack: Stack) -> None:
    only_in(STREAM, stack.mode)
    import boto3

    gateway, seconds = boto3.client("apigateway"), int(stack.parameters.get("StreamTimeoutSeconds", "300"))
    resources = gateway.get_resources(restApiId=stack.outputs["ApiId"])["items"]
    integrations = [
        gateway.get_integration(restApiId=stack.outputs["ApiId"], resourceId=resource["id"], httpMethod="ANY")
        for resource in resources
        if "ANY" in resource.get("resourceMethods", {})
    ]
    function = boto3.client("lambda").get_function_configuration(FunctionName=stack.outputs["ProxyFunctionName"])

    assert len(integrations) == 2  # / and /{proxy+}
    for integration in integrations:
        assert integration["responseTransferMode"] == "STREAM"
        assert integration["timeoutInMillis"] == seconds * 1000
        assert integration["uri"].endswith("/response-streaming-invocations")
    assert function["Timeout"] == seconds
