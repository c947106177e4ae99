"""`sam local invoke AuthorizerFunction -e events/authorizer-*.json` against a real SSM API: moto in server mode.

moto listens on the bridge gateway, which the container reaches as host.docker.internal. tools/mint_token.py seeds
it with the hash of the allow event's token, through the same AWS_ENDPOINT_URL_SSM boto3 honours in the function.
The authorizer gets that variable from --env-vars: SAM CLI only overrides variables the template declares, and
template.yaml declares it for sam local alone (tests/integration/test_sam_local_settings.py).
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.sam_local.sam_cli import (
    DUMMY_CREDENTIALS,
    PROJECT_ROOT,
    REGION,
    BuiltTemplates,
    sam_local_invoke,
)
from tests.support.sample_requests import EVENTS_DIR

pytestmark = pytest.mark.sam_local

OUTCOMES = {"authorizer-allow": "Allow", "authorizer-deny": "Deny", "authorizer-missing": "401"}
CLIENT = "acme"


def event_token(name: str) -> str:
    authorization: str = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))["authorizationToken"]
    return authorization.removeprefix("Bearer ")


@pytest.fixture(scope="module")
def seeded_ssm(moto_endpoint_for_host: str, local_tokens_parameter: str) -> str:
    """moto's SSM holds the allow event's token hash, stored by the command docs/sam-local.md shows."""
    token = event_token("authorizer-allow")
    minted = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.mint_token",
            "--parameter",
            local_tokens_parameter,
            "--client",
            CLIENT,
            "--token-stdin",
        ],
        input=token + "\n",
        cwd=PROJECT_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "AWS_ENDPOINT_URL_SSM": moto_endpoint_for_host,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            **DUMMY_CREDENTIALS,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert minted.returncode == 0, minted.stderr
    assert minted.stdout == ""
    assert token not in minted.stderr
    return local_tokens_parameter


@pytest.fixture(scope="module")
def env_vars_file(moto_ssm: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("env-vars") / "moto-ssm.json"
    path.write_text(json.dumps({"AuthorizerFunction": {"AWS_ENDPOINT_URL_SSM": moto_ssm}}), encoding="utf-8")
    return path


def test_every_authorizer_event_in_events_has_an_outcome_here() -> None:
    assert {path.stem for path in EVENTS_DIR.glob("authorizer-*.json")} == set(OUTCOMES)


def test_the_docs_store_the_allow_events_token_in_the_parameter_local_invokes_read(
    local_tokens_parameter: str,
) -> None:
    page = (PROJECT_ROOT / "docs" / "sam-local.md").read_text(encoding="utf-8")

    assert f"echo {event_token('authorizer-allow')} " in page
    assert f"--parameter {local_tokens_parameter} --client {CLIENT} --token-stdin" in page


@pytest.mark.parametrize(("name", "outcome"), sorted(OUTCOMES.items()))
def test_the_authorizer_answers_each_sample_event_as_its_name_says(
    name: str, outcome: str, built: BuiltTemplates, seeded_ssm: str, env_vars_file: Path
) -> None:

    run = sam_local_invoke(
        built.x86_64,
        "AuthorizerFunction",
        EVENTS_DIR / f"{name}.json",
        "--env-vars",
        str(env_vars_file),
        timing=f"sam local invoke AuthorizerFunction {name} (x86_64)",
    )

    result: dict[str, Any] = run.function_result()
    if outcome == "401":
        # Raising exactly "Unauthorized" is what API Gateway turns into 401.
        assert result["errorMessage"] == "Unauthorized", run.describe()
    else:
        statement = result["policyDocument"]["Statement"][0]
        assert statement["Effect"] == outcome, run.describe()
        assert result["principalId"] == (CLIENT if outcome == "Allow" else "unknown")
    # The token never reaches a log line, in the function's logs or SAM's.
    for token in {event_token(name), event_token("authorizer-allow")} - {""}:
        assert token not in run.stdout + run.stderr
