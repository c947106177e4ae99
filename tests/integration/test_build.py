"""`sam build` packages a function that runs with only its own dependencies, as the Lambda runtime loads it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.backend import RecordingBackend
from tests.support.sample_requests import event_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = PROJECT_ROOT / ".aws-sam" / "build"
SAM = Path(sys.executable).with_name("sam")

# Runs in `python -I -S`: no site-packages, no project path; only the stdlib and the built folder.
INVOKE_BUILT_HANDLER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from proxy.handler import lambda_handler

class Context:
    function_name = "built"; memory_limit_in_mb = 512; aws_request_id = "build-test"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:built"

response = lambda_handler(json.load(open(sys.argv[2])), Context())
print(json.dumps({"response": response, "boto3_imported": "boto3" in sys.modules}))
"""


@pytest.fixture(scope="module")
def built_function() -> Path:
    if shutil.which("python3.13") is None and not Path(sys.executable).name.startswith("python3.13"):
        pytest.fail("sam build needs python3.13 on PATH (pyenv: .python-version names it)")
    environment = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        [str(SAM), "build"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return BUILD_DIR / "ProxyFunction"


@pytest.mark.build
def test_the_built_function_answers_an_event_with_only_its_packaged_dependencies(
    built_function: Path, backend: RecordingBackend
) -> None:
    python = Path(sys.executable).resolve()
    result = subprocess.run(
        [
            str(python),
            "-I",
            "-S",
            "-c",
            INVOKE_BUILT_HANDLER,
            str(built_function),
            str(event_path("post-json")),
        ],
        env={"BACKEND_URL": backend.url, "BACKEND_TIMEOUT_SECONDS": "5", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["response"]["statusCode"] == 200
    assert backend.last.method == "POST"
    assert json.loads(backend.last.body)["item"] == "café au lait"
    assert outcome["boto3_imported"] is False


@pytest.mark.build
@pytest.mark.parametrize(
    ("function", "dependencies"),
    [
        ("ProxyFunction", {"aws_lambda_powertools", "urllib3", "aws_xray_sdk", "wrapt"}),
        ("AuthorizerFunction", {"aws_lambda_powertools"}),
    ],
)
def test_each_package_ships_its_pinned_dependencies_and_nothing_the_runtime_has(
    built_function: Path, function: str, dependencies: set[str]
) -> None:
    package = built_function.parent / function
    shipped = {path.name.split("-")[0].lower() for path in package.glob("*.dist-info")}

    assert dependencies <= shipped
    assert not any(name.startswith(("boto3", "botocore", "pytest", "moto")) for name in shipped)
