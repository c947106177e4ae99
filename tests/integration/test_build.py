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
SAM = Path(sys.executable).with_name("sam")
# The interpreter behind the venv: pyenv's or the system's python3.13 itself.
BASE_PYTHON = Path(sys.executable).resolve()

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


def _users_path() -> str:
    """The PATH of a user who runs the README's `sam build` without activating the venv."""
    venv_bin = str(Path(sys.executable).parent)
    return os.pathsep.join(entry for entry in os.environ["PATH"].split(os.pathsep) if entry and entry != venv_bin)


def sam_build(build_dir: Path, path: str) -> subprocess.CompletedProcess[str]:
    """`sam build` from the project folder, as `make build` runs it (the venv's sam by its path) or a user's own."""
    environment = {name: value for name, value in os.environ.items() if name not in ("VIRTUAL_ENV", "PYENV_VERSION")}
    return subprocess.run(
        [str(SAM), "build", "--build-dir", str(build_dir)],
        cwd=PROJECT_ROOT,
        env={**environment, "SAM_CLI_TELEMETRY": "0", "PATH": path},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def built_function(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built with the user's own python3.13: on a pyenv machine, the shim that .python-version steers."""
    path = _users_path()
    if shutil.which("python3.13", path=path) is None:
        pytest.fail("sam build needs python3.13 on PATH (pyenv: `pyenv install 3.13`; .python-version names it)")
    build_dir = tmp_path_factory.mktemp("sam-build")
    result = sam_build(build_dir, path)
    assert result.returncode == 0, result.stdout + result.stderr
    return build_dir / "ProxyFunction"


@pytest.mark.build
def test_sam_build_works_with_a_plain_python313_on_path(tmp_path: Path) -> None:
    """The system-Python case: python3.13 is an interpreter on PATH, with no pyenv shims anywhere."""
    interpreters = tmp_path / "bin"
    interpreters.mkdir()
    (interpreters / "python3.13").symlink_to(BASE_PYTHON)
    path = os.pathsep.join([str(interpreters), "/usr/local/bin", "/usr/bin", "/bin"])

    result = sam_build(tmp_path / "build", path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "build" / "ProxyFunction" / "proxy" / "handler.py").is_file()
    assert (tmp_path / "build" / "AuthorizerFunction" / "authorizer" / "handler.py").is_file()


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
