"""Payload conversion as API Gateway does it: binary media types, contentHandling, and the media types it reads.

Source: the conversion tables of
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
"""

import base64
import binascii
from collections.abc import Sequence

# "None: API Gateway defaults to application/json" (integration-passthrough-behaviors.html).
DEFAULT_CONTENT_TYPE = "application/json"
# What the Lambda service answers API Gateway with: "By default, the content type is application/json".
LAMBDA_RESULT_TYPE = "application/json"


class ConfigurationError(Exception):
    """What AWS answers with its 500 "Internal server error": a conversion or template the API cannot apply."""


def is_binary_media_type(media_type: str | None, binary_media_types: Sequence[str]) -> bool:
    """Whether a MIME type is one of the API's binary media types; `*/*` "includes all content types"."""
    if not media_type:
        return False
    kind, _, subtype = mime_type(media_type).partition("/")
    for pattern in binary_media_types:
        pattern_kind, _, pattern_subtype = mime_type(pattern).partition("/")
        if pattern_kind == "*" and pattern_subtype == "*":
            return True
        if pattern_kind == kind and pattern_subtype in ("*", subtype):
            return True
    return False


def convert_payload(payload: bytes, binary: bool, content_handling: str | None, binary_when_unset: bool) -> str | bytes:
    """The documented conversion tables: text (str) or binary (bytes) after `contentHandling`.

    `binary`: the payload's type is a binary media type. Without contentHandling a request payload keeps its kind
    and a response payload takes the kind of the client's first Accept type: `binary_when_unset` says which.
    """
    to_binary = content_handling == "CONVERT_TO_BINARY" or (content_handling is None and binary_when_unset)
    if binary:
        return payload if to_binary else base64.b64encode(payload).decode("ascii")
    if to_binary:
        try:
            return base64.b64decode(payload, validate=True)
        except binascii.Error:
            raise ConfigurationError("a text payload that is not base64 cannot be converted to binary") from None
    return payload.decode("utf-8", "replace")


def mime_type(content_type: str) -> str:
    """ "Only the MIME type is used from the Accept and Content-Type headers when selecting a mapping template"."""
    return content_type.split(";", 1)[0].strip().lower()
