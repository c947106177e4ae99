"""The token store: client name -> SHA-256 hex digests of that client's tokens. It never holds a usable token."""

import hashlib
import hmac
import json
import re

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# RFC 6750 b64token, the only thing a Bearer credential may be.
_BEARER = re.compile(r"Bearer ([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)

TokenStore = dict[str, list[str]]


class InvalidTokenStore(ValueError):
    """The parameter's value is not the documented JSON; the authorizer then fails rather than answer a policy."""


class MissingCredentials(Exception):
    """No usable `Authorization: Bearer <token>`: API Gateway answers 401."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_token_store(value: str) -> TokenStore:
    """`{"client": "<sha256 hex>"}` or `{"client": ["<old>", "<new>"]}` while a token is rotated."""
    try:
        document = json.loads(value)
    except json.JSONDecodeError as error:
        raise InvalidTokenStore(f"not JSON ({error.msg} at position {error.pos})") from None
    if not isinstance(document, dict):
        raise InvalidTokenStore("not a JSON object of client name to token hashes")
    store: TokenStore = {}
    for client, hashes in document.items():
        listed = [hashes] if isinstance(hashes, str) else hashes
        if not isinstance(listed, list) or not all(isinstance(h, str) and _SHA256_HEX.fullmatch(h) for h in listed):
            raise InvalidTokenStore(f"client {client!r}: each token hash must be 64 lower-case hex characters")
        store[client] = listed
    return store


def bearer_token(authorization: object) -> str:
    if not isinstance(authorization, str):
        raise MissingCredentials
    match = _BEARER.fullmatch(authorization.strip())
    if match is None:
        raise MissingCredentials
    return match.group(1)


def find_client(store: TokenStore, token: str) -> str | None:
    """Compares the token's hash with every stored hash in constant time, without stopping at a match."""
    presented = hash_token(token)
    owner = None
    for client, hashes in store.items():
        for stored in hashes:
            if hmac.compare_digest(presented, stored):
                owner = client
    return owner
