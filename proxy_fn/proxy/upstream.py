"""Shapes the request sent to the backend: fixed target, cleaned path and query, rewritten forwarding headers."""

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urlencode

from proxy.config import BackendTarget
from proxy.event import ClientRequest

# RFC 9110 7.6.1: meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Set by the proxy alone: a client's own value is dropped so it cannot spoof them.
PROXY_OWNED = frozenset(
    {
        "host",
        "content-length",
        "expect",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-request-id",
        "x-authenticated-client",
    }
)
# Mapping templates return text only: a compressed answer could not pass, so the backend is asked for none.
IDENTITY_ENCODING = ("Accept-Encoding", "identity")
REQUEST_ID_HEADER = "X-Request-Id"
CALLER_HEADER = "X-Authenticated-Client"

# Characters allowed literally in a path (RFC 3986 pchar, '/', and '%' because REST APIs hand the path
# over still percent-encoded); everything else, e.g. space, '?', '#', non-ASCII, is percent-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_PATH_NEEDS_NO_QUOTING = re.compile(r"[A-Za-z0-9/%:@!$&'()*+,;=\-._~]*")


@dataclass(frozen=True)
class UpstreamRequest:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


def build_upstream_request(
    request: ClientRequest,
    backend: BackendTarget,
    *,
    text_only: bool = False,
    withheld: frozenset[str] = frozenset(),
) -> UpstreamRequest:
    """`text_only`: the answer must be text (mapping templates), so the backend is asked not to compress it.
    `withheld`: lower-case names of credentials API Gateway consumed, which the backend never sees."""
    path = request.path
    target = backend.base_path + (path if _PATH_NEEDS_NO_QUOTING.fullmatch(path) else quote(path, safe=_PATH_SAFE))
    if request.query:
        target += "?" + urlencode(request.query, quote_via=quote, safe="")
    return UpstreamRequest(
        method=request.method,
        target=target,
        headers=_forwarded_headers(request, backend, text_only, withheld),
        body=request.body,
    )


def _forwarded_headers(
    request: ClientRequest, backend: BackendTarget, text_only: bool, withheld: frozenset[str]
) -> list[tuple[str, str]]:
    lowered = [(name.lower(), name, value) for name, value in request.headers]
    dropped = _always_dropped(withheld, text_only)
    if "connection" in {key for key, _, _ in lowered}:
        dropped = dropped | {
            token.strip().lower() for key, _, value in lowered if key == "connection" for token in value.split(",")
        }
    client_value: dict[str, str] = {}
    for key, _, value in lowered:
        client_value.setdefault(key, value)

    headers = [(name, _wire(value)) for key, name, value in lowered if key not in dropped]
    headers.append(("Host", backend.host_header))
    if text_only:
        headers.append(IDENTITY_ENCODING)
    forwarded_for = _forwarded_for(client_value.get("x-forwarded-for"), request.source_ip)
    if forwarded_for:
        headers.append(("X-Forwarded-For", forwarded_for))
    proto = client_value.get("x-forwarded-proto", "").lower()
    headers.append(("X-Forwarded-Proto", proto if proto in ("http", "https") else "https"))
    if "host" in client_value:
        headers.append(("X-Forwarded-Host", _wire(client_value["host"])))
    if request.request_id:
        headers.append((REQUEST_ID_HEADER, request.request_id))
    if request.caller:
        headers.append((CALLER_HEADER, _wire(request.caller)))
    return headers


@cache
def _always_dropped(withheld: frozenset[str], text_only: bool) -> frozenset[str]:
    """What no request forwards under this configuration (computed once per configuration)."""
    return HOP_BY_HOP | PROXY_OWNED | withheld | (frozenset({"accept-encoding"}) if text_only else frozenset())


def _forwarded_for(chain: str | None, source_ip: str | None) -> str:
    """Keep the chain the gateway saw and make sure it ends with the caller's address."""
    hops = [hop.strip() for hop in (chain or "").split(",") if hop.strip()]
    if source_ip and (not hops or hops[-1] != source_ip):
        hops.append(source_ip)
    return ", ".join(hops)


def _wire(value: str) -> str:
    """http.client sends header text as Latin-1; this makes a UTF-8 value reach the backend as UTF-8 bytes."""
    if value.isascii():  # the same either way
        return value
    return value.encode("utf-8", "surrogatepass").decode("latin-1")
