"""Generated requests and responses through the whole chain arrive byte-identical, or hit a documented limit.

Chain, in each IntegrationMode: request template or AWS_PROXY event (template.yaml, AWS semantics) -> proxy_fn ->
backend on 127.0.0.1 -> proxy_fn -> response template or AWS_PROXY answer. What the generators leave out is each
a documented API Gateway limitation (docs/request-flow.md, "Limits"). The one answer that cannot pass unchanged, a
body that is not UTF-8 under mapping templates, must be the explained 502.
"""

import base64
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from local_gateway.model import MethodRequest
from proxy.upstream import DOT_SEGMENT
from tests.support.backend import RecordingBackend, Reply
from tests.support.engines import BothEngines

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CONTENT_TYPES = [
    "application/json",
    "text/plain; charset=utf-8",
    "application/octet-stream",
    "image/png",
    "application/x-www-form-urlencoded",
    "application/xml",
    "text/csv",
]
# Any Unicode text but control characters and lone surrogates (neither survives an HTTP header or URL).
TEXT = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
# Headers: leading/trailing spaces are not part of an HTTP field value (RFC 9110 5.5), so none are generated.
HEADER_VALUE = st.text(TEXT, min_size=1, max_size=40).map(str.strip).filter(bool)
TOKEN = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), min_size=1, max_size=12)
# A path with a '.' or '..' segment (an encoded '/' counts as a separator) is refused on purpose (test_security).
PATH = (
    st.lists(st.text(TEXT, min_size=1, max_size=12), min_size=0, max_size=4)
    .map(lambda segments: "/" + "/".join(quote(segment, safe="") for segment in segments))
    .filter(lambda path: not DOT_SEGMENT.search(path))
)
# Unique names: a repeated query key keeps only its last value (a non-proxy integration limit).
QUERY = st.dictionaries(st.text(TEXT, min_size=1, max_size=10), st.text(TEXT, max_size=20), max_size=4)
# Unique, prefixed names: proxy-owned and hop-by-hop headers are replaced or dropped on purpose.
REQUEST_HEADERS = st.dictionaries(TOKEN.map("X-Req-".__add__), HEADER_VALUE, max_size=4)
RESPONSE_HEADERS = st.dictionaries(TOKEN.map("X-Res-".__add__), HEADER_VALUE, max_size=4)
# 204 and 304 carry no body by definition; 1xx are not final answers.
STATUS = st.integers(200, 599).filter(lambda status: status not in (204, 304))
# Mostly small bodies; one draw in ten is around 64 KB, to cross buffer and chunk boundaries.
BODY = st.integers(1, 10).flatmap(
    lambda draw: st.binary(min_size=60_000, max_size=70_000) if draw == 10 else st.binary(max_size=2048)
)
# Half the answers are UTF-8 text (any characters), which must pass mapping templates unchanged too.
RESPONSE_BODY = st.one_of(BODY, st.text(st.characters(codec="utf-8"), max_size=2048).map(str.encode))
# The client's Accept: AWS_PROXY returns bytes only when its first type is a binary media type (any, under */*).
ACCEPT = st.sampled_from([None, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8", "image/png"])


@dataclass(frozen=True)
class ChainCase:
    method: str
    path: str
    query: dict[str, str]
    request_headers: dict[str, str]
    content_type: str
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_type: str
    response_body: bytes
    accept: str | None


CASES = st.builds(
    ChainCase,
    method=st.sampled_from(METHODS),
    path=PATH,
    query=QUERY,
    request_headers=REQUEST_HEADERS,
    content_type=st.sampled_from(CONTENT_TYPES),
    request_body=BODY,
    status=STATUS,
    response_headers=RESPONSE_HEADERS,
    response_type=st.sampled_from(CONTENT_TYPES),
    response_body=RESPONSE_BODY,
    accept=ACCEPT,
)


def _lowercase_names(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@given(case=CASES)  # 1,000 per mode by default: 2,000 chain cases
def test_the_chain_delivers_every_part_unchanged(
    chain: BothEngines, proxy_to: RecordingBackend, integration_mode: str, case: ChainCase
) -> None:
    response_headers = [*case.response_headers.items(), ("Content-Type", case.response_type)]
    proxy_to.responder = lambda _: Reply(case.status, response_headers, case.response_body)
    accept = [("Accept", case.accept)] if case.accept else []
    request = MethodRequest(
        case.method,
        case.path,
        query=list(case.query.items()),
        headers=[*case.request_headers.items(), ("Content-Type", case.content_type), *accept],
        body=case.request_body,
    )

    response = chain.handle(request)

    received = proxy_to.last
    target = urlsplit(received.target)
    assert (received.method, target.path) == (case.method, case.path)
    assert {name: values[0] for name, values in parse_qs(target.query, keep_blank_values=True).items()} == case.query
    received_headers = {name.lower(): received.header(name) for name, _ in received.headers}
    assert _lowercase_names(case.request_headers).items() <= received_headers.items()
    assert received.body == case.request_body
    expected = b"" if case.method == "HEAD" else case.response_body
    if not _is_utf8(expected) and integration_mode == "VTL":
        assert response.status == 502
        assert "IntegrationMode=PROXY" in json.loads(response.body)["message"]
        return
    assert response.status == case.status
    client_headers = _lowercase_names(dict(response.headers))
    assert _lowercase_names(case.response_headers).items() <= client_headers.items()
    assert client_headers["content-type"] == case.response_type
    if not _is_utf8(expected) and case.accept is None:  # AWS_PROXY: no Accept, no binary media type
        assert base64.b64decode(response.body) == expected
    else:
        assert response.body == expected


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
