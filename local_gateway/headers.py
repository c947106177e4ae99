"""The header sets API Gateway owns, how it merges a proxy answer's headers, and lookups in (name, value) lists.

What AWS did with the sets below was recorded by LocalStack's AWS-validated
test_apigateway_integrations.py::TestApiGatewayHeaderRemapping (AWS and AWS_PROXY, validated 2024-12-11): dropped
from the request before any template or event sees it, and renamed x-amzn-Remapped-<name> in the integration's answer.
"""

from typing import Any

Headers = list[tuple[str, str]]

DROPPED_REQUEST_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "content-md5",
        "expect",
        "max-forwards",
        "proxy-authenticate",
        "server",
        "te",
        "transfer-encoding",
        "trailer",
        "upgrade",
        "www-authenticate",
    }
)
REMAPPED_PROXY_RESPONSE_HEADERS = frozenset({"connection", "content-length", "date", "server"})
REMAPPED_RESPONSE_HEADERS = REMAPPED_PROXY_RESPONSE_HEADERS | {
    "authorization",
    "content-md5",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "trailer",
    "upgrade",
    "user-agent",
    "www-authenticate",
}
# Set by API Gateway in an AWS_PROXY event (the same recording); values as LocalStack's pipeline sets them.
PROXY_GATEWAY_HEADERS = frozenset({"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})


def remapped(headers: Headers, names: frozenset[str]) -> Headers:
    """An integration's headers as the client gets them: those API Gateway owns renamed, Transfer-Encoding dropped."""
    return [
        (f"x-amzn-Remapped-{name}" if name.lower() in names else name, value)
        for name, value in headers
        if name.lower() != "transfer-encoding"
    ]


def merged_proxy_headers(headers: dict[str, Any], multi_value_headers: dict[str, list[Any]]) -> Headers:
    """ "If you specify values for both headers and multiValueHeaders, API Gateway merges them into a single list.
    If the same key-value pair is specified in both, only the values from multiValueHeaders will appear.\""""
    merged = [(name, str(value)) for name, values in multi_value_headers.items() for value in values]
    return merged + [(name, str(value)) for name, value in headers.items() if (name, str(value)) not in merged]


def has_header(headers: Headers, name: str) -> bool:
    return any(key.lower() == name for key, _ in headers)


def last_value(headers: Headers, name: str) -> str | None:
    """The last value of a header (`name` in lower case), as API Gateway's single-value maps keep it."""
    values = [value for key, value in headers if key.lower() == name]
    return values[-1] if values else None


def first_accept(headers: Headers) -> str | None:
    """ "API Gateway only honors the first Accept media type"."""
    accept = last_value(headers, "accept")
    return accept.split(",", 1)[0] if accept else None


def first_values(pairs: Headers) -> dict[str, str]:
    first: dict[str, str] = {}
    for name, value in pairs:
        first.setdefault(name, value)
    return first


def grouped(pairs: Headers) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped
