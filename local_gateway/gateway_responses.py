"""API Gateway's own refusals, rendered from template.yaml's x-amazon-apigateway-gateway-responses."""

import json
from dataclasses import dataclass
from http import HTTPStatus

from local_gateway.vtl import Input, render


@dataclass(frozen=True)
class MethodResponse:
    """What the client gets back."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_id: str

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


# The gateway response type API Gateway uses for each refusal it makes itself, and the message it shows.
REFUSALS: dict[str, tuple[HTTPStatus, str]] = {
    "UNAUTHORIZED": (HTTPStatus.UNAUTHORIZED, "Unauthorized"),
    "ACCESS_DENIED": (HTTPStatus.FORBIDDEN, "User is not authorized to access this resource"),
    "REQUEST_TOO_LARGE": (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Too Long"),
    "UNSUPPORTED_MEDIA_TYPE": (HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type"),
    "INTEGRATION_TIMEOUT": (HTTPStatus.GATEWAY_TIMEOUT, "Endpoint request timed out"),
    "INTEGRATION_FAILURE": (HTTPStatus.BAD_GATEWAY, "Internal server error"),
    "DEFAULT_4XX": (HTTPStatus.BAD_REQUEST, "Bad request"),
    "DEFAULT_5XX": (HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error"),
}


class GatewayResponses:
    def __init__(self, templates: dict[str, str], stage: str) -> None:
        self._templates = templates
        self._stage = stage

    def refuse(self, response_type: str, request_id: str) -> MethodResponse:
        status, message = REFUSALS[response_type]
        template = (
            self._templates.get(response_type) or self._templates["DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"]
        )
        context = {"requestId": request_id, "stage": self._stage, "error": {"messageString": json.dumps(message)}}
        body = render(template, Input(body=""), context, {}).output.encode("utf-8")
        return MethodResponse(int(status), [("Content-Type", "application/json")], body, request_id)
