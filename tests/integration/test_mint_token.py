"""The README's token command against SSM (moto): it prints a token once and stores only its hash."""

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from authorizer.tokens import find_client, hash_token, parse_token_store
from tools.mint_token import main

PARAMETER = "/private-api-proxy/client-tokens"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("ssm")


def mint(capsys: pytest.CaptureFixture[str], *extra: str, client: str = "acme") -> str:
    assert main(["--parameter", PARAMETER, "--client", client, *extra]) == 0
    return capsys.readouterr().out.strip()


def stored(ssm: Any) -> dict[str, list[str]]:
    parameter = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    return parse_token_store(parameter["Value"])


def test_a_minted_token_is_printed_once_and_only_its_hash_is_stored(
    ssm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    token = mint(capsys)

    store = stored(ssm)
    assert store == {"acme": [hash_token(token)]}
    assert token not in json.dumps(store)
    assert find_client(store, token) == "acme"


def test_minting_again_keeps_the_old_token_until_replace(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    first = mint(capsys)
    second = mint(capsys)
    other_client = mint(capsys, client="globex")
    assert {find_client(stored(ssm), token) for token in (first, second)} == {"acme"}

    third = mint(capsys, "--replace")

    store = stored(ssm)
    assert find_client(store, first) is None
    assert find_client(store, second) is None
    assert find_client(store, third) == "acme"
    assert find_client(store, other_client) == "globex"


def test_a_parameter_that_is_not_a_token_store_is_left_alone(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ssm.put_parameter(Name=PARAMETER, Value="something else", Type="SecureString")

    assert main(["--parameter", PARAMETER, "--client", "acme"]) == 2

    assert "is not a token store" in capsys.readouterr().err
    assert ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == "something else"


@pytest.fixture
def no_aws_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine where nothing names a region or credentials: no variables, no ~/.aws files, no instance role."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_aws_configuration")
def test_without_a_region_it_says_what_to_set_not_that_aws_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--parameter", PARAMETER, "--client", "acme"]) == 2

    error = capsys.readouterr().err
    assert error.startswith("mint_token: no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION")
    assert "nothing was sent to AWS" in error
    assert "refused" not in error


@pytest.mark.usefixtures("no_aws_configuration")
def test_without_credentials_it_says_how_to_provide_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--parameter", PARAMETER, "--client", "acme", "--region", "eu-west-1"]) == 2

    error = capsys.readouterr().err
    assert error.startswith("mint_token: no AWS credentials found: run 'aws configure'")
    assert "refused" not in error


def test_aws_region_names_the_region_as_for_the_aws_cli(
    ssm: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")

    token = mint(capsys)

    in_that_region = boto3.client("ssm", region_name="eu-central-1").get_parameter(Name=PARAMETER, WithDecryption=True)[
        "Parameter"
    ]
    assert find_client(parse_token_store(in_that_region["Value"]), token) == "acme"


def test_a_given_token_read_from_stdin_is_stored_as_its_hash_and_never_printed(
    ssm: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    given = "sample-acme-token-for-local-tests-only"
    monkeypatch.setattr("sys.stdin", io.StringIO(given + "\n"))

    assert main(["--parameter", PARAMETER, "--client", "acme", "--token-stdin"]) == 0

    assert stored(ssm) == {"acme": [hash_token(given)]}
    output = capsys.readouterr()
    assert output.out == ""
    assert given not in output.err


@pytest.mark.parametrize(
    "given",
    ["", "short-token", "two words are not one token at all", "Bearer sample-acme-token-for-local-tests-only"],
)
def test_a_given_token_the_authorizer_could_not_accept_or_too_short_is_refused(
    ssm: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(given + "\n"))

    with pytest.raises(SystemExit) as exit_info:
        main(["--parameter", PARAMETER, "--client", "acme", "--token-stdin"])

    assert exit_info.value.code == 2
    assert "--token-stdin" in capsys.readouterr().err
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=PARAMETER)
