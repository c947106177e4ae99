"""Deployment configuration of the authorizer, read and validated once at cold start."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

_PARAMETER_NAME = re.compile(r"/[A-Za-z0-9_.\-/]{1,1010}")
MAX_TOKEN_CACHE_SECONDS = 3600


class ConfigError(ValueError):
    """A setting is missing or invalid; raised at init so the authorizer never runs with it."""


@dataclass(frozen=True)
class AuthorizerConfig:
    tokens_parameter: str
    token_cache_seconds: int


def load_config(environ: Mapping[str, str]) -> AuthorizerConfig:
    name = environ.get("AUTH_TOKENS_PARAMETER", "")
    if not _PARAMETER_NAME.fullmatch(name):
        raise ConfigError(f"AUTH_TOKENS_PARAMETER must be an SSM parameter name starting with '/', got {name!r}")
    raw_seconds = environ.get("TOKEN_CACHE_SECONDS", "60")
    if not raw_seconds.isdigit() or int(raw_seconds) > MAX_TOKEN_CACHE_SECONDS:
        raise ConfigError(f"TOKEN_CACHE_SECONDS must be a whole number from 0 to 3600, got {raw_seconds!r}")
    return AuthorizerConfig(tokens_parameter=name, token_cache_seconds=int(raw_seconds))
