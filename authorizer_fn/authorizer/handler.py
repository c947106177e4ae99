"""Lambda TOKEN authorizer entry point: 401 without a Bearer token, Deny for an unknown one, Allow for a client."""

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
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


# log_event=False wins over POWERTOOLS_LOGGER_LOG_EVENT: the event carries the bearer token.
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        token = bearer_token(event.get("authorizationToken") if isinstance(event, dict) else None)
        policy = APIGatewayAuthorizerResponse.from_route_arn(event["methodArn"], principal_id=UNKNOWN_PRINCIPAL)
    except Exception:  # no token, or an event API Gateway would never send: refuse, never crash or allow
        logger.info("no usable bearer token or method ARN: 401")
        raise Exception("Unauthorized") from None  # the exact error API Gateway maps to 401
    try:
        store = parse_token_store(
            str(SSM.get(CONFIG.tokens_parameter, decrypt=True, max_age=CONFIG.token_cache_seconds))
        )
    except InvalidTokenStore as error:
        logger.error("token store is unusable, denying everyone", extra={"reason": str(error)})
        return _deny(policy)
    except Exception as error:  # any failure to read the store must deny, never allow
        logger.error("token store could not be read, denying everyone", extra={"reason": type(error).__name__})
        return _deny(policy)

    client = find_client(store, token)
    if client is None:
        logger.info("unknown token: deny")
        return _deny(policy)
    logger.info("allow", extra={"client": client})
    # The whole API and stage: a result cached for this token must not deny the client's next path.
    allowed = APIGatewayAuthorizerResponse(
        principal_id=client,
        region=policy.region,
        aws_account_id=policy.aws_account_id,
        api_id=policy.api_id,
        stage=policy.stage,
        context={CLIENT_CONTEXT_KEY: client},
        partition=policy.partition,
    )
    allowed.allow_all_routes()
    return allowed.asdict()


def _deny(policy: APIGatewayAuthorizerResponse) -> dict[str, Any]:
    policy.deny_all_routes()
    return policy.asdict()
