"""API Gateway's own refusals, rendered from template.yaml's x-amazon-apigateway-gateway-responses."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from local_gateway.model import MethodResponse
from local_gateway.vtl import Input, render

# The gateway response type API Gateway uses for each refusal it makes itself, the message it shows, and its
# x-amzn-ErrorType header (sent with every refusal in LocalStack's AWS-recorded TestApiGatewayHeaderRemapping;
# the names are LocalStack's).
REFUSALS: dict[str, tuple[HTTPStatus, str | None, str]] = {
    "UNAUTHORIZED": (HTTPStatus.UNAUTHORIZED, "Unauthorized", "UnauthorizedException"),
    # A Lambda authorizer that fails: what AWS answers is not documented (docs/api-gateway-assumptions.md, A34);
    # community reports show a 500 with this error type and a null message.
    "AUTHORIZER_CONFIGURATION_ERROR": (
        HTTPStatus.INTERNAL_SERVER_ERROR,
        None,
        "AuthorizerConfigurationException",
    ),
    "ACCESS_DENIED": (HTTPStatus.FORBIDDEN, "User is not authorized to access this resource", "AccessDeniedException"),
    "MISSING_AUTHENTICATION_TOKEN": (
        HTTPStatus.FORBIDDEN,
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    ),
    "REQUEST_TOO_LARGE": (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Too Long", "RequestTooLargeException"),
    "UNSUPPORTED_MEDIA_TYPE": (HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type", "BadRequestException"),
    "INTEGRATION_TIMEOUT": (HTTPStatus.GATEWAY_TIMEOUT, "Endpoint request timed out", "InternalServerErrorException"),
    "INTEGRATION_FAILURE": (HTTPStatus.BAD_GATEWAY, "Internal server error", "InternalServerErrorException"),
    "DEFAULT_4XX": (HTTPStatus.BAD_REQUEST, "Bad request", "BadRequestException"),
    "DEFAULT_5XX": (HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error", "InternalServerErrorException"),
}


@dataclass(frozen=True)
class GatewayResponse:
    """One entry of x-amazon-apigateway-gateway-responses: a body template and its response headers."""

    template: str
    # (header name, source): a quoted static value, or method.request.header.<name> from the client's request
    headers: tuple[tuple[str, str], ...] = ()


_REQUEST_HEADER = "method.request.header."
# "Customizing the default gateway response for 413 REQUEST_TOO_LARGE isn't currently supported" (developer guide).
NOT_CUSTOMIZABLE = frozenset({"REQUEST_TOO_LARGE"})
AWS_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'  # AWS's own gateway response body


class GatewayResponses:
    def __init__(self, responses: Mapping[str, GatewayResponse], stage: str) -> None:
        self._responses = responses
        self._stage = stage

    def refuse(
        self, response_type: str, request_id: str, request_headers: Sequence[tuple[str, str]] = ()
    ) -> MethodResponse:
        """A type the API does not customize takes DEFAULT_4XX or DEFAULT_5XX, by its status class; a type AWS does not
        let an API customize always has AWS's own body."""
        status, message, error_type = REFUSALS[response_type]
        response = (
            self._responses.get(response_type) or self._responses["DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"]
        )
        if response_type in NOT_CUSTOMIZABLE:
            response = GatewayResponse(template=AWS_DEFAULT_TEMPLATE)
        context = {"requestId": request_id, "stage": self._stage, "error": {"messageString": json.dumps(message)}}
        body = render(response.template, Input(body=""), context, {}).output.encode("utf-8")
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", error_type),
            *_mapped_headers(response.headers, request_headers),
        ]
        return MethodResponse(int(status), headers, body, request_id)


def _mapped_headers(
    sources: Sequence[tuple[str, str]], request_headers: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Static values as they are; a request header's value when the client sent it, else no header."""
    headers = []
    for name, source in sources:
        if source.startswith("'"):
            headers.append((name, source.strip("'")))
        elif source.startswith(_REQUEST_HEADER):
            wanted = source.removeprefix(_REQUEST_HEADER).lower()
            value = next((value for key, value in reversed(request_headers) if key.lower() == wanted), None)
            if value is not None:
                headers.append((name, value))
    return headers
