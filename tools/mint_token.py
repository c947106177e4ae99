"""Mint a bearer token for a client and store only its SHA-256 hash in the authorizer's SSM parameter.

    python -m tools.mint_token --parameter /private-api-proxy/client-tokens --client acme [--replace]

The token is printed once, on stdout; it is stored nowhere. Without --replace the client's older tokens stay
valid, so callers can switch over before you mint again with --replace (rotation).
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
from authorizer.tokens import InvalidTokenStore, TokenStore, hash_token, parse_token_store


def mint(ssm: Any, parameter: str, client: str, replace: bool, kms_key_id: str | None) -> str:
    store = _current_store(ssm, parameter)
    token = secrets.token_urlsafe(32)
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
    args = parser.parse_args(argv)
    if not args.parameter.startswith("/"):
        parser.error("--parameter must start with '/'")
    # boto3 reads AWS_DEFAULT_REGION only; the AWS CLI (and Lambda) also AWS_REGION, which wins.
    region = args.region or os.environ.get("AWS_REGION") or None
    try:
        ssm = boto3.client("ssm", region_name=region)
        token = mint(ssm, args.parameter, args.client, args.replace, args.kms_key_id)
    except InvalidTokenStore as error:
        print(f"mint_token: {args.parameter} is not a token store ({error}); nothing was changed", file=sys.stderr)
        return 2
    except NoRegionError:
        print(
            "mint_token: no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION, or a region in your "
            "AWS profile; nothing was sent to AWS",
            file=sys.stderr,
        )
        return 2
    except NoCredentialsError:
        print(
            "mint_token: no AWS credentials found: run 'aws configure' or 'aws sso login', or set AWS_PROFILE "
            "(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); nothing was sent to AWS",
            file=sys.stderr,
        )
        return 2
    except ClientError as error:
        print(f"mint_token: AWS refused: {error}", file=sys.stderr)
        return 2
    except BotoCoreError as error:
        print(f"mint_token: could not complete the call to AWS: {error}", file=sys.stderr)
        return 2
    print(f"Token for {args.client!r} (shown once; only its hash is stored in {args.parameter}):", file=sys.stderr)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
