"""The TOKEN authorizer against SSM (moto, real boto3 calls): who gets in, who does not, and what is cached."""

import hashlib
import importlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError
from moto import mock_aws

from local_gateway.authorization import TokenAuthorization
from local_gateway.gateway_responses import REFUSALS
from local_gateway.lambda_context import lambda_context
from local_gateway.policy import is_allowed
from tests.support.logs import captured

PARAMETER = "/private-api-proxy/client-tokens"
API_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/v1"
ACME_TOKEN = "acme-0dd4c1b5e4f3a2b1c0d9e8f7a6b5c4d3"
ACME_NEXT_TOKEN = "acme-next-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
GLOBEX_TOKEN = "globex-31415926535897932384626433832795"


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ssm")


def store_tokens(ssm: Any, value: str) -> None:
    ssm.put_parameter(Name=PARAMETER, Value=value, Type="SecureString", Overwrite=True)


@pytest.fixture
def authorizer(ssm: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The handler module as a cold start sees it: settings from env, SSM client at module level."""
    monkeypatch.setenv("AUTH_TOKENS_PARAMETER", PARAMETER)
    monkeypatch.setenv("TOKEN_CACHE_SECONDS", "1")
    from authorizer import handler

    module = importlib.reload(handler)
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools ships it untyped
    yield module
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools ships it untyped


def authorize(
    module: ModuleType, authorization: object, route: str = "GET/orders", api_arn: str = API_ARN
) -> dict[str, Any]:
    event = {"type": "TOKEN", "authorizationToken": authorization, "methodArn": f"{api_arn}/{route}"}
    result: dict[str, Any] = module.lambda_handler(event, lambda_context())
    return result


def allowed(result: dict[str, Any], route: str = "GET/orders", api_arn: str = API_ARN) -> bool:
    return is_allowed(result["policyDocument"], f"{api_arn}/{route}")


def test_a_known_token_is_allowed_as_its_client(ssm: Any, authorizer: ModuleType) -> None:
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN)}))

    result = authorize(authorizer, f"Bearer {ACME_TOKEN}")

    assert allowed(result)
    assert result["principalId"] == "acme"
    assert result["context"] == {"client": "acme"}


@pytest.mark.parametrize(
    "token",
    ["not-a-client-token", ACME_TOKEN[:-1], ACME_TOKEN[:10], sha256(ACME_TOKEN), ACME_TOKEN + "x"],
    ids=["unknown", "prefix", "short-prefix", "the-stored-hash", "extended"],
)
def test_anything_but_the_exact_token_is_denied(ssm: Any, authorizer: ModuleType, token: str) -> None:
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN)}))

    result = authorize(authorizer, f"Bearer {token}")

    assert not allowed(result)
    assert result["principalId"] == "unknown"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Basic {ACME_TOKEN}", ACME_TOKEN, f"Bearer {ACME_TOKEN} extra", 42, "Bearer a\nb"],
)
def test_a_missing_or_malformed_header_is_a_401(ssm: Any, authorizer: ModuleType, authorization: object) -> None:
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN)}))

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(authorizer, authorization)


def test_the_scheme_is_case_insensitive(ssm: Any, authorizer: ModuleType) -> None:
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN)}))

    assert allowed(authorize(authorizer, f"bearer {ACME_TOKEN}"))


def test_two_clients_are_told_apart(ssm: Any, authorizer: ModuleType) -> None:
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN), "globex": [sha256(GLOBEX_TOKEN)]}))

    assert authorize(authorizer, f"Bearer {ACME_TOKEN}")["principalId"] == "acme"
    assert authorize(authorizer, f"Bearer {GLOBEX_TOKEN}")["principalId"] == "globex"


def test_a_rotation_takes_effect_after_the_cache_ttl_without_a_redeploy(ssm: Any, authorizer: ModuleType) -> None:
    store_tokens(ssm, json.dumps({"acme": [sha256(ACME_TOKEN)]}))
    assert allowed(authorize(authorizer, f"Bearer {ACME_TOKEN}"))
    assert not allowed(authorize(authorizer, f"Bearer {ACME_NEXT_TOKEN}"))

    # Rotation step 1: old and new both valid. Step 2: only the new one.
    store_tokens(ssm, json.dumps({"acme": [sha256(ACME_TOKEN), sha256(ACME_NEXT_TOKEN)]}))
    time.sleep(1.1)
    assert allowed(authorize(authorizer, f"Bearer {ACME_TOKEN}"))
    assert allowed(authorize(authorizer, f"Bearer {ACME_NEXT_TOKEN}"))

    store_tokens(ssm, json.dumps({"acme": [sha256(ACME_NEXT_TOKEN)]}))
    time.sleep(1.1)
    assert not allowed(authorize(authorizer, f"Bearer {ACME_TOKEN}"))
    assert allowed(authorize(authorizer, f"Bearer {ACME_NEXT_TOKEN}"))


@pytest.mark.parametrize(
    "value",
    [None, "not json", "[]", '{"acme": "tooshort"}', '{"acme": [42]}', '{"acme": "' + "A" * 64 + '"}'],
    ids=["missing", "not-json", "not-an-object", "short-hash", "not-a-string", "upper-case-hex"],
)
def test_an_unreadable_or_invalid_store_fails_the_invocation_instead_of_returning_a_cacheable_deny(
    ssm: Any, authorizer: ModuleType, value: str | None
) -> None:
    """API Gateway caches a returned policy per token for AuthorizerCacheTtlSeconds; a failed invocation returns
    none, so the client's next request, once the store reads again, is authorized afresh."""
    if value is not None:
        store_tokens(ssm, value)

    with captured(authorizer.logger) as logs, pytest.raises(authorizer.TokenStoreUnavailable) as failure:
        authorize(authorizer, f"Bearer {ACME_TOKEN}")

    assert str(failure.value) != "Unauthorized"  # which API Gateway would answer 401
    errors = logs.at_level("ERROR")
    assert len(errors) == 1
    assert ACME_TOKEN not in json.dumps(errors) + str(failure.value)


def test_a_throttled_store_read_fails_and_the_next_read_allows(
    ssm: Any, authorizer: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN)}))
    provider = authorizer.SSM
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetParameter")

    def throttle(*args: Any, **kwargs: Any) -> str:
        raise throttled

    monkeypatch.setattr(authorizer, "SSM", SimpleNamespace(get=throttle))
    with pytest.raises(authorizer.TokenStoreUnavailable, match="ClientError"):
        authorize(authorizer, f"Bearer {ACME_TOKEN}")
    monkeypatch.setattr(authorizer, "SSM", provider)

    assert allowed(authorize(authorizer, f"Bearer {ACME_TOKEN}"))


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_allow_and_deny_keep_the_method_arns_partition(ssm: Any, authorizer: ModuleType, partition: str) -> None:
    """A policy in another partition than the request's never matches: every request there would be denied."""
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN)}))
    api_arn = f"arn:{partition}:execute-api:eu-west-1:123456789012:abc123defg/v1"

    allow = authorize(authorizer, f"Bearer {ACME_TOKEN}", api_arn=api_arn)
    deny = authorize(authorizer, f"Bearer {GLOBEX_TOKEN}", api_arn=api_arn)

    for result in (allow, deny):
        assert [arn for statement in result["policyDocument"]["Statement"] for arn in statement["Resource"]] == [
            f"{api_arn}/*/*"
        ]
    assert allowed(allow, api_arn=api_arn)


def test_a_cached_allow_covers_the_clients_next_path_and_no_other_api(ssm: Any, authorizer: ModuleType) -> None:
    """API Gateway caches the result per token for the TTL and applies it to every later request."""
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN)}))

    cached = authorize(authorizer, f"Bearer {ACME_TOKEN}", route="GET/orders")

    for route in ("POST/orders", "DELETE/orders/42/items/7", "GET/", "PATCH/admin/settings"):
        assert allowed(cached, route), route
    assert not allowed(cached, "GET/orders", api_arn="arn:aws:execute-api:eu-west-1:123456789012:otherapi99/v1")
    assert not allowed(cached, "GET/orders", api_arn="arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod")


def test_no_token_reaches_the_logs(ssm: Any, authorizer: ModuleType) -> None:
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN)}))

    with captured(authorizer.logger) as lines:
        authorize(authorizer, f"Bearer {ACME_TOKEN}")
        authorize(authorizer, f"Bearer {GLOBEX_TOKEN}")

    logs = lines.text()
    assert [record["message"] for record in lines.records()] == ["allow", "unknown token: deny"]
    assert ACME_TOKEN not in logs
    assert GLOBEX_TOKEN not in logs
    assert sha256(ACME_TOKEN) not in logs


SAMPLE_EVENT_TOKEN = "sample-acme-token-for-local-tests-only"


@pytest.mark.parametrize(
    ("event_file", "outcome"),
    [("authorizer-allow", "Allow"), ("authorizer-deny", "Deny"), ("authorizer-missing", "401")],
)
def test_the_sample_events_get_their_named_outcome(
    ssm: Any, authorizer: ModuleType, event_file: str, outcome: str
) -> None:
    store_tokens(ssm, json.dumps({"acme": sha256(SAMPLE_EVENT_TOKEN)}))
    event = json.loads((Path(__file__).resolve().parents[2] / "events" / f"{event_file}.json").read_text())

    if outcome == "401":
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer.lambda_handler(event, lambda_context())
        return
    result = authorizer.lambda_handler(event, lambda_context())
    assert result["policyDocument"]["Statement"][0]["Effect"] == outcome


def test_the_local_gateway_answers_a_failed_authorizer_500_and_caches_nothing(
    ssm: Any, authorizer: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What API Gateway does with a failed authorizer is assumption A34; `make local` answers as it predicts."""
    gate = TokenAuthorization(
        lambda event: authorizer.lambda_handler(event, lambda_context()),
        r"Bearer .+",
        cache_ttl_seconds=300,
        api_arn=API_ARN,
    )
    store_tokens(ssm, "not the token store")

    failed = gate.decide(f"Bearer {ACME_TOKEN}", "GET", "/orders")
    store_tokens(ssm, json.dumps({"acme": sha256(ACME_TOKEN)}))
    authorizer.SSM.clear_cache()  # the authorizer's own copy of the store (TokenCacheSeconds)
    after = gate.decide(f"Bearer {ACME_TOKEN}", "GET", "/orders")

    assert failed.refusal == "AUTHORIZER_CONFIGURATION_ERROR"
    assert REFUSALS[failed.refusal][0] == 500
    assert (after.refusal, after.context.get("client")) == (None, "acme")
