"""Stands in for the SSM parameter so authorizer_fn runs unchanged: the same JSON, from a file or a variable."""

import json
import secrets
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.parameters.base import BaseProvider

from authorizer.tokens import hash_token

LOCAL_CLIENT = "local-dev"


class LocalTokenStore(BaseProvider):
    """`{"client": ["<sha256 of token>", ...]}`, exactly what tools/mint_token.py keeps in SSM."""

    def __init__(self, path: Path | None = None, inline_json: str | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Powertools ships it untyped
        if (path is None) == (inline_json is None):
            raise ValueError("give a token file or inline JSON, not both")
        self._path = path
        self._inline_json = inline_json

    def _get(self, name: str, **sdk_options: Any) -> str:
        return self._inline_json if self._inline_json is not None else self._path.read_text(encoding="utf-8")  # type: ignore[union-attr]

    def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, str]:
        raise NotImplementedError("the authorizer reads one parameter")


def mint_session_token(path: Path) -> str:
    """A fresh token for this gateway session; only its hash is written, as in SSM."""
    token = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({LOCAL_CLIENT: [hash_token(token)]}), encoding="utf-8")
    return token
