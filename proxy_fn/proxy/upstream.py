"""Shapes the request sent to the backend: fixed target, cleaned path and query, rewritten forwarding headers."""

import re
from functools import cache
from typing import NamedTuple
from urllib.parse import quote, urlencode

from proxy.config import BackendTarget
from proxy.errors import RefusedPath
from proxy.event import ClientRequest
from proxy.http1 import HOP_BY_HOP

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
# Dropped: the client's address or URL as other proxies and CDNs report them, and method overrides. Frameworks
# trust them (a client IP for an allowlist, a path or method for routing) though only the client wrote them here;
# X-Forwarded-For carries the caller's address, and API Gateway already checked the real method and path.
CLIENT_CLAIMS = frozenset(
    {
        "x-real-ip",
        "true-client-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "cf-connecting-ip",
        "fastly-client-ip",
        "x-forwarded",
        "forwarded-for",
        "x-forwarded-prefix",
        "x-original-url",
        "x-rewrite-url",
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
    }
)
# Mapping templates return text only: a compressed answer could not pass, so the backend is asked for none.
IDENTITY_ENCODING = ("Accept-Encoding", "identity")
FORWARDED_PROTO = ("X-Forwarded-Proto", "https")
REQUEST_ID_HEADER = "X-Request-Id"
CALLER_HEADER = "X-Authenticated-Client"

# Characters allowed literally in a path (RFC 3986 pchar, '/', and '%' because REST APIs hand the path
# over still percent-encoded); everything else, e.g. space, '?', '#', non-ASCII, is percent-encoded, and so is a
# '%' that does not start a valid escape (the valid ones are never touched).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_PATH_NEEDS_NO_QUOTING = re.compile(r"(?:[A-Za-z0-9/:@!$&'()*+,;=\-._~]|%[0-9A-Fa-f]{2})*")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# A '.' or '..' segment, literal or percent-encoded, counting encoded slashes and backslashes (which some servers
# decode, or treat as '/') as separators, and ';' (Tomcat's path parameters) as the segment's end.
DOT_SEGMENT = re.compile(r"(?:^|/|\\|%2f|%5c)(?:\.|%2e){1,2}(?=$|/|\\|%2f|%5c|;)", re.IGNORECASE)


class UpstreamRequest(NamedTuple):
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
    withheld_query: frozenset[str] = frozenset(),
) -> UpstreamRequest:
    """`text_only`: the answer must be text (mapping templates), so the backend is asked not to compress it.
    `withheld`, `withheld_query`: lower-case names of the credentials API Gateway consumed (headers, query
    parameters), which the backend never sees. A path with a dot segment is refused: it could leave the base path
    on any backend that resolves it."""
    path = request.path
    if DOT_SEGMENT.search(path):
        raise RefusedPath("the path has a '.' or '..' segment (literal or percent-encoded), which is not forwarded")
    if not _PATH_NEEDS_NO_QUOTING.fullmatch(path):
        path = _LONE_PERCENT.sub("%25", quote(path, safe=_PATH_SAFE))
    target = backend.base_path + path
    query = request.query
    if withheld_query and query:
        query = [(name, value) for name, value in query if name.lower() not in withheld_query]
    if query:
        target += "?" + urlencode(query, quote_via=quote, safe="")
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
    # Mapping templates: never compressed. Otherwise the client's Accept-Encoding, or none accepted if it sent none.
    if text_only or "accept-encoding" not in client_value:
        headers.append(IDENTITY_ENCODING)
    forwarded_for = _forwarded_for(client_value.get("x-forwarded-for"), request.source_ip)
    if forwarded_for:
        headers.append(("X-Forwarded-For", forwarded_for))
    # "All of the APIs created with Amazon API Gateway expose HTTPS endpoints only" (API Gateway FAQ).
    headers.append(FORWARDED_PROTO)
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
    return (
        HOP_BY_HOP
        | PROXY_OWNED
        | CLIENT_CLAIMS
        | withheld
        | (frozenset({"accept-encoding"}) if text_only else frozenset())
    )


def _forwarded_for(chain: str | None, source_ip: str | None) -> str:
    """Keep the chain the gateway saw and make sure it ends with the caller's address."""
    hops = [hop.strip() for hop in (chain or "").split(",") if hop.strip()]
    if source_ip and (not hops or hops[-1] != source_ip):
        hops.append(source_ip)
    return ", ".join(hops)


def _wire(value: str) -> str:
    """Header text goes on the wire as Latin-1 (one byte per character); this makes a UTF-8 value reach the
    backend as UTF-8 bytes."""
    if value.isascii():  # the same either way
        return value
    return value.encode("utf-8", "surrogatepass").decode("latin-1")
