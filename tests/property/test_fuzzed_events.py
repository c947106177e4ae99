"""Arbitrary and malformed events never raise out of a handler: proxy_fn answers JSON, authorizer_fn denies."""

import base64
import json
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authorizer.tokens import hash_token
from local_gateway.lambda_context import lambda_context
from local_gateway.local_tokens import LocalTokenStore
from tests.support.backend import RecordingBackend
from tests.support.chain import invoke_handler
from tests.support.sample_requests import event_path

VALID_EVENT: dict[str, Any] = json.loads(event_path("post-json").read_text(encoding="utf-8"))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Lone surrogates stand for bytes that were never UTF-8.
NASTY_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.text(st.characters(), max_size=30),  # includes lone surrogates
    st.just("a\r\nInjected: yes"),
    st.just("x" * 100_000),
    st.just("%%%not-base64==="),
    st.just("\x00"),
)


def _set(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    mutated: dict[str, Any] = json.loads(json.dumps(event))
    target = mutated
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
    return mutated


def _delete(event: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in event.items() if name != key}


FIELDS = [
    ("httpMethod",),
    ("path",),
    ("body",),
    ("isBase64Encoded",),
    ("headers",),
    ("headers", "X-Fuzz"),
    ("multiValueHeaders",),
    ("multiValueHeaders", "X-Fuzz"),
    ("queryStringParameters",),
    ("queryStringParameters", "q"),
    ("multiValueQueryStringParameters", "q"),
    ("requestContext",),
    ("requestContext", "requestId"),
    ("requestContext", "identity"),
    ("requestContext", "identity", "sourceIp"),
    ("requestContext", "authorizer", "principalId"),
]
MUTATED_EVENTS = st.one_of(
    JSON_VALUES,
    st.builds(_set, st.just(VALID_EVENT), st.sampled_from(FIELDS), st.one_of(JSON_VALUES, NASTY_TEXT)),
    st.builds(_delete, st.just(VALID_EVENT), st.sampled_from(sorted(VALID_EVENT))),
    st.builds(
        lambda body: {**VALID_EVENT, "body": body, "isBase64Encoded": True},
        st.one_of(NASTY_TEXT, st.binary(max_size=64).map(lambda raw: base64.b64encode(raw).decode()[:-1])),
    ),
)


@given(event=MUTATED_EVENTS)
def test_the_proxy_answers_every_event_with_json_and_never_raises(proxy_to: RecordingBackend, event: Any) -> None:
    response = invoke_handler(event)

    assert isinstance(response["statusCode"], int)
    if response["statusCode"] >= 400 and response["headers"].get("Content-Type") == "application/json":
        answer = json.loads(response["body"])
        assert set(answer) == {"message", "requestId"}
        assert answer["requestId"]
    assert set(response) == {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


@pytest.fixture
def authorizer(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("AUTH_TOKENS_PARAMETER", "/fuzz/client-tokens")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from authorizer import handler

    store = LocalTokenStore(inline_json=json.dumps({"acme": [hash_token("the-only-valid-token")]}))
    monkeypatch.setattr(handler, "SSM", store)
    return handler


AUTHORIZER_EVENTS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {"type": st.just("TOKEN")},
        optional={
            "authorizationToken": st.one_of(JSON_VALUES, NASTY_TEXT, NASTY_TEXT.map("Bearer ".__add__)),
            "methodArn": st.one_of(
                JSON_VALUES,
                NASTY_TEXT,
                st.just("arn:aws:execute-api:eu-west-1:123456789012:abc123defg/v1/GET/orders"),
            ),
        },
    ),
)


@given(event=AUTHORIZER_EVENTS)
def test_the_authorizer_never_allows_an_unknown_token_and_never_raises_otherwise(
    authorizer: ModuleType, event: Any
) -> None:
    try:
        result = authorizer.lambda_handler(event, lambda_context("authorizer"))
    except Exception as error:
        assert str(error) == "Unauthorized"  # noqa: PT017 - the one exception API Gateway maps to 401
        return
    assert [statement["Effect"] for statement in result["policyDocument"]["Statement"]] == ["Deny"]
