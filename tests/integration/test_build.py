"""`sam build` packages a function that runs with only its own dependencies, as the Lambda runtime loads it."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from samcli.lib.package.utils import make_zip_with_lambda_permissions

from tests.support.backend import RecordingBackend, Reply
from tests.support.runtime_api import FakeRuntimeApi
from tests.support.sample_requests import event_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAM = Path(sys.executable).with_name("sam")
# The interpreter behind the venv: pyenv's or the system's python3.13 itself.
BASE_PYTHON = Path(sys.executable).resolve()

# Runs in `python -I -S`: no site-packages, no project path; only the stdlib and the built folder. The project comes
# last, once the function is loaded, for the tests' Lambda context (standard library only).
INVOKE_BUILT_HANDLER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from proxy.handler import lambda_handler

sys.path.append(sys.argv[3])
from local_gateway.lambda_context import lambda_context

response = lambda_handler(json.load(open(sys.argv[2])), lambda_context("built"))
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
            str(PROJECT_ROOT),
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


@pytest.mark.build
def test_the_package_ships_stream_wrapper_executable_and_sams_zip_keeps_it_executable(
    built_function: Path, tmp_path: Path
) -> None:
    zipped = make_zip_with_lambda_permissions(str(tmp_path / "ProxyFunction"), str(built_function))
    with zipfile.ZipFile(zipped) as archive:
        zipped_mode = archive.getinfo("stream-wrapper").external_attr >> 16

    assert (built_function / "stream-wrapper").stat().st_mode & 0o111 == 0o111
    assert zipped_mode & 0o111 == 0o111, oct(zipped_mode)


@pytest.mark.build
def test_the_built_function_streams_with_only_its_packaged_dependencies(
    built_function: Path, backend: RecordingBackend, tmp_path: Path
) -> None:
    """stream-wrapper from the build, the base interpreter without site-packages (-S): only the stdlib and the
    package, as on Lambda."""
    backend.responder = lambda _: Reply(200, [("Content-Type", "text/plain"), ("Set-Cookie", "a=1")], b"streamed")
    environment = {
        "PATH": "/usr/bin:/bin",
        "LAMBDA_TASK_ROOT": str(built_function),
        "_HANDLER": "proxy.stream_handler.lambda_handler",
        "BACKEND_URL": backend.url,
        "INTEGRATION_MODE": "STREAM",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    with FakeRuntimeApi() as api, (tmp_path / "runtime.log").open("wb") as log:
        process = subprocess.Popen(
            [str(built_function / "stream-wrapper"), str(BASE_PYTHON), "-S", "/var/runtime/bootstrap.py"],
            cwd=built_function,
            env={**environment, "AWS_LAMBDA_RUNTIME_API": api.address},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            invocation = api.invoke(json.loads(event_path("get-with-query").read_text())).wait(60)
        finally:
            process.kill()
            process.wait(timeout=10)

    assert invocation.body == b'{"statusCode":200,"headers":{"Content-Type":"text/plain"},"cookies":["a=1"]}' + (
        b"\0" * 8 + b"streamed"
    ), (tmp_path / "runtime.log").read_text()
    assert backend.last.method == "GET"
