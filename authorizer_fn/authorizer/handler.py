"""Lambda TOKEN authorizer entry point: 401 without a Bearer token, Deny for an unknown one, Allow for a client.

A token store that cannot be read is an error, not a policy: API Gateway caches a policy per token for the
authorizer's TTL, so a Deny returned during a second of SSM throttling would lock the client out for minutes.
"""

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.base import BaseProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from authorizer.config import load_config
from authorizer.tokens import InvalidTokenStore, bearer_token, find_client, parse_token_store

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "private-api-authorizer"))
CONFIG = load_config(os.environ)
SSM: BaseProvider = SSMProvider()
UNKNOWN_PRINCIPAL = "unknown"
# The context key the request template reads as $context.authorizer.client.
CLIENT_CONTEXT_KEY = "client"


class TokenStoreUnavailable(Exception):
    """The store could not be read or is not the documented JSON: the invocation fails, and nothing is cached."""


# log_event=False wins over POWERTOOLS_LOGGER_LOG_EVENT: the event carries the bearer token.
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        token = bearer_token(event.get("authorizationToken") if isinstance(event, dict) else None)
        route = parse_api_gateway_arn(event["methodArn"])
    except Exception:  # no token, or an event API Gateway would never send: refuse, never crash or allow
        logger.info("no usable bearer token or method ARN: 401")
        raise Exception("Unauthorized") from None  # the exact error API Gateway maps to 401
    # The whole API and stage, in the method ARN's own partition (aws, aws-cn, aws-us-gov, ...): a result cached
    # for this token must not deny the client's next path, and must not reach another API.
    policy = APIGatewayAuthorizerResponse(
        principal_id=UNKNOWN_PRINCIPAL,
        region=route.region,
        aws_account_id=route.aws_account_id,
        api_id=route.api_id,
        stage=route.stage,
        partition=route.partition,
    )
    client = find_client(_token_store(), token)
    if client is None:
        logger.info("unknown token: deny")
        policy.deny_all_routes()
        return policy.asdict()
    logger.info("allow", extra={"client": client})
    policy.principal_id = client
    policy.context = {CLIENT_CONTEXT_KEY: client}
    policy.allow_all_routes()
    return policy.asdict()


def _token_store() -> dict[str, list[str]]:
    try:
        value = SSM.get(CONFIG.tokens_parameter, decrypt=True, max_age=CONFIG.token_cache_seconds)
    except Exception as error:
        logger.error(
            "token store could not be read: failing, so that no policy is cached",
            extra={"reason": type(error).__name__},
        )
        raise TokenStoreUnavailable(f"token store could not be read ({type(error).__name__})") from None
    try:
        return parse_token_store(str(value))
    except InvalidTokenStore as error:
        logger.error(
            "token store is not the documented JSON: failing, so that no policy is cached", extra={"reason": str(error)}
        )
        raise TokenStoreUnavailable(f"token store is unusable: {error}") from None
