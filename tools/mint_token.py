"""Mint a bearer token for a client and store only its SHA-256 hash in the authorizer's SSM parameter.

    python -m tools.mint_token --parameter /private-api-proxy/client-tokens --client acme [--replace]
    python -m tools.mint_token --parameter /private-api-proxy/sam-local-tokens --client acme --token-stdin <file

The token is printed once, on stdout; it is stored nowhere. Without --replace the client's older tokens stay
valid, so callers can switch over before you mint again with --replace (rotation). --token-stdin stores the hash
of a token you already hold (read from stdin, so it never shows in a process list) and prints nothing on stdout:
the sample events' token, for a parameter only `sam local` reads. Boto3 honours AWS_ENDPOINT_URL_SSM, so the
same command seeds a local SSM API such as moto.
"""

import argparse
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "authorizer_fn"))
from authorizer.tokens import (
    InvalidTokenStore,
    MissingCredentials,
    TokenStore,
    bearer_token,
    hash_token,
    parse_token_store,
)

# As long as a minted token (token_urlsafe(32) is 43 characters); shorter ones are easier to guess.
MIN_GIVEN_TOKEN_LENGTH = 32


def mint(
    ssm: Any, parameter: str, client: str, replace: bool, kms_key_id: str | None, *, token: str | None = None
) -> str:
    """Stores the hash of `token`, or of a fresh one when None, and returns the token."""
    store = _current_store(ssm, parameter)
    token = secrets.token_urlsafe(32) if token is None else token
    store[client] = [hash_token(token)] if replace else [*store.get(client, []), hash_token(token)]
    options = {"KeyId": kms_key_id} if kms_key_id else {}
    ssm.put_parameter(Name=parameter, Value=json.dumps(store), Type="SecureString", Overwrite=True, **options)
    return token


def _current_store(ssm: Any, parameter: str) -> TokenStore:
    try:
        value = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return {}
    return parse_token_store(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mint_token", description=__doc__.split("\n\n")[0])
    parser.add_argument("--parameter", required=True, help="SSM parameter name, e.g. /private-api-proxy/client-tokens")
    parser.add_argument(
        "--client", required=True, help="client name; becomes the principalId and X-Authenticated-Client"
    )
    parser.add_argument("--replace", action="store_true", help="revoke the client's other tokens")
    parser.add_argument("--kms-key-id", help="customer managed KMS key for the SecureString (default: aws/ssm)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or your AWS profile's)")
    parser.add_argument(
        "--token-stdin",
        action="store_true",
        help="store the hash of the token read from stdin (one line) instead of minting one; prints no token",
    )
    args = parser.parse_args(argv)
    if not args.parameter.startswith("/"):
        parser.error("--parameter must start with '/'")
    given = _given_token(parser) if args.token_stdin else None
    # boto3 reads AWS_DEFAULT_REGION only; the AWS CLI (and Lambda) also AWS_REGION, which wins.
    region = args.region or os.environ.get("AWS_REGION") or None
    try:
        ssm = boto3.client("ssm", region_name=region)
        token = mint(ssm, args.parameter, args.client, args.replace, args.kms_key_id, token=given)
    except (InvalidTokenStore, ClientError, BotoCoreError) as error:
        print(f"mint_token: {_failure(error, args.parameter)}", file=sys.stderr)
        return 2
    if given is not None:
        print(f"Stored the hash of the given token for {args.client!r} in {args.parameter}", file=sys.stderr)
        return 0
    print(f"Token for {args.client!r} (shown once; only its hash is stored in {args.parameter}):", file=sys.stderr)
    print(token)
    return 0


def _failure(error: Exception, parameter: str) -> str:
    """What went wrong, said so that the next step is clear; the more specific botocore errors come first."""
    if isinstance(error, InvalidTokenStore):
        return f"{parameter} is not a token store ({error}); nothing was changed"
    if isinstance(error, NoRegionError):
        return (
            "no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION, or a region in your AWS profile; "
            "nothing was sent to AWS"
        )
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials found: run 'aws configure' or 'aws sso login', or set AWS_PROFILE "
            "(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); nothing was sent to AWS"
        )
    if isinstance(error, ClientError):
        return f"AWS refused: {error}"
    return f"could not complete the call to AWS: {error}"


def _given_token(parser: argparse.ArgumentParser) -> str:
    """The first line of stdin, checked the way the authorizer reads a Bearer credential; never echoed."""
    token = sys.stdin.readline().strip()
    try:
        bearer_token(f"Bearer {token}")
    except MissingCredentials:
        parser.error("--token-stdin: the token must be one RFC 6750 b64token (letters, digits, -._~+/, then any =)")
    if len(token) < MIN_GIVEN_TOKEN_LENGTH:
        parser.error(f"--token-stdin: the token must have at least {MIN_GIVEN_TOKEN_LENGTH} characters")
    return token


if __name__ == "__main__":
    sys.exit(main())
