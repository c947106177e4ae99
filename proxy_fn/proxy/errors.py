"""The failures the proxy answers itself, each with the HTTP status and message a client sees."""

from http import HTTPStatus


class ProxyError(Exception):
    """A failure turned into a JSON answer; `message` is safe to show a client (no backend internals)."""

    status: HTTPStatus = HTTPStatus.BAD_GATEWAY
    kind: str = "proxy_error"
    metric: str = "ProxyError"  # the CloudWatch metric that counts it

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedEvent(ProxyError):
    status = HTTPStatus.BAD_REQUEST
    kind = "malformed_event"
    metric = "MalformedEvent"


class RefusedPath(ProxyError):
    """A path the proxy does not forward: a '.' or '..' segment could leave the backend's base path."""

    status = HTTPStatus.BAD_REQUEST
    kind = "refused_path"
    metric = "RefusedPath"


class BackendUnreachable(ProxyError):
    status = HTTPStatus.BAD_GATEWAY
    kind = "backend_unreachable"
    metric = "BackendUnreachable"


class BackendTimeout(ProxyError):
    status = HTTPStatus.GATEWAY_TIMEOUT
    kind = "backend_timeout"
    metric = "BackendTimeout"


class BackendInvalidResponse(ProxyError):
    """The backend's answer broke HTTP/1.1 (status, header fields, framing) or ended before its framing said."""

    status = HTTPStatus.BAD_GATEWAY
    kind = "backend_invalid_response"
    metric = "BackendInvalidResponse"


class BackendResponseTooLarge(ProxyError):
    status = HTTPStatus.BAD_GATEWAY
    kind = "response_too_large"
    metric = "BackendResponseTooLarge"


class BodyNotText(ProxyError):
    """A mapping-template response is text: bytes that are not UTF-8 cannot pass it unchanged."""

    status = HTTPStatus.BAD_GATEWAY
    kind = "body_not_text"
    metric = "BodyNotText"
