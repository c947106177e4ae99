"""`sam build` packages a function that runs with only its own dependencies, as the Lambda runtime loads it, and
with the bytecode of every module it imports."""

import importlib.util
import json
import marshal
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from samcli.lib.package.utils import make_zip_with_lambda_permissions

from bench.packages import built_package
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
# Runs in `python -I -S -B` with the package first on sys.path and the runtime's SDK last: imports the modules named
# and prints which of the package's files they loaded, and which of those had to be compiled (no bytecode, or
# bytecode that does not match its source).
IMPORT_FROM_THE_PACKAGE = """
import importlib, importlib.machinery, json, sys
package, runtime_sdk, *modules = sys.argv[1:]
compiled = []
compile_source = importlib.machinery.SourceFileLoader.source_to_code
def recorded(loader, data, path, *args, **kwargs):
    compiled.append(path)
    return compile_source(loader, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = recorded
sys.path[:0] = [package]
sys.path.append(runtime_sdk)
for module in modules:
    importlib.import_module(module)
loaded = [getattr(module, "__file__", None) or "" for module in list(sys.modules.values())]
print(json.dumps({
    "loaded": sorted(path for path in loaded if path.startswith(package)),
    "compiled": [path for path in compiled if path.startswith(package)],
}))
"""
# What the handlers import at init, tracing on: each function's own code and every dependency it ships.
HANDLERS = {
    "ProxyFunction": (
        ["proxy.handler", "proxy.stream_handler", "proxy.stream_runtime"],
        {"proxy", "aws_lambda_powertools", "urllib3", "jmespath", "typing_extensions", "aws_xray_sdk", "wrapt"},
        {"BACKEND_URL": "http://127.0.0.1:9", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"},
    ),
    "AuthorizerFunction": (
        ["authorizer.handler"],
        {"authorizer", "aws_lambda_powertools", "jmespath", "typing_extensions"},
        {"AUTH_TOKENS_PARAMETER": "/build-test/tokens"},
    ),
}


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


def _python_modules(package: Path) -> dict[str, bytes]:
    """The package's modules and their bytecode, by path: what an import reads (bin/ holds pip's scripts, whose
    first line names the interpreter that installed them)."""
    return {
        str(path.relative_to(package)): path.read_bytes()
        for path in package.rglob("*")
        if path.suffix in (".py", ".pyc") and path.relative_to(package).parts[0] != "bin"
    }


def _another_python() -> str | None:
    """A Python from 3.8 to 3.12 with pip, found on the user's PATH: what a machine without python3.13 builds with."""
    for folder in _users_path().split(os.pathsep):
        for name in ("python3", *(f"python3.{minor}" for minor in range(12, 7, -1))):
            candidate = Path(folder) / name
            if not candidate.is_file():
                continue
            probe = "import sys, pip; assert (3, 8) <= sys.version_info[:2] < (3, 13); print(sys.executable)"
            found = subprocess.run([str(candidate), "-c", probe], capture_output=True, text=True, check=False)
            if found.returncode == 0:
                return found.stdout.strip()
    return None


@pytest.mark.build
def test_sam_build_works_with_a_plain_python313_on_path(built_function: Path, tmp_path: Path) -> None:
    """The system-Python case: python3.13 is an interpreter on PATH, with no pyenv shims anywhere. The bytecode is
    byte for byte the other build's: it records /var/task, not the folder it was built in, so an unchanged function
    packages to the same zip."""
    interpreters = tmp_path / "bin"
    interpreters.mkdir()
    (interpreters / "python3.13").symlink_to(BASE_PYTHON)
    path = os.pathsep.join([str(interpreters), "/usr/local/bin", "/usr/bin", "/bin"])

    result = sam_build(tmp_path / "build", path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "build" / "ProxyFunction" / "proxy" / "handler.py").is_file()
    assert (tmp_path / "build" / "AuthorizerFunction" / "authorizer" / "handler.py").is_file()
    for function in HANDLERS:
        assert _python_modules(tmp_path / "build" / function) == _python_modules(built_function.parent / function)


@pytest.mark.build
def test_without_python313_the_build_ships_no_bytecode_and_says_so(tmp_path: Path) -> None:
    """Bytecode is specific to Python 3.13: any other Python still builds both packages, and each Makefile says, in
    one line, that every cold start will compile the modules it imports."""
    python = _another_python()
    if python is None:
        pytest.skip("no Python from 3.8 to 3.12 with pip on PATH to build with")
    # A PATH without python3.13: the other Python as python3, and the tools SAM and the Makefiles run.
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "python3").symlink_to(python)
    for tool in ("make", "cp", "install", "find", "rm"):
        found = shutil.which(tool)
        assert found is not None, f"{tool} is needed for sam build"
        (tools / tool).symlink_to(found)

    result = sam_build(tmp_path / "build", str(tools))

    assert result.returncode == 0, result.stdout + result.stderr
    for function, folder in (("ProxyFunction", "proxy_fn"), ("AuthorizerFunction", "authorizer_fn")):
        package = tmp_path / "build" / function
        assert _python_modules(package), f"{function} holds no code"
        assert not list(package.rglob("*.pyc"))
        said = [line for line in result.stderr.splitlines() if line.startswith(f"{folder}/Makefile: no Python 3.13")]
        assert len(said) == 1, result.stderr
        assert "ships without bytecode" in said[0]


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


@pytest.mark.build
@pytest.mark.parametrize("function", list(HANDLERS))
def test_the_package_as_lambda_unpacks_it_imports_its_handlers_without_compiling_anything(
    built_function: Path, function: str, tmp_path: Path
) -> None:
    """Each execution environment gets its own copy of the package, so a module without usable bytecode is
    compiled again at every cold start. SAM's zip keeps the bytecode; unpacked with new file times, every module
    the handlers import loads from it, checked against its source's hash (bytecode checked against file times
    would not match here), and the bytecode names /var/task in tracebacks."""
    modules, shipped, environment = HANDLERS[function]
    zipped = make_zip_with_lambda_permissions(str(tmp_path / function), str(built_function.parent / function))
    task = tmp_path / "task"
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(task)
    runtime_sdk = sysconfig.get_path("purelib")  # boto3 and botocore, which the Lambda runtime provides

    result = subprocess.run(
        [str(BASE_PYTHON), "-I", "-S", "-B", "-c", IMPORT_FROM_THE_PACKAGE, str(task), runtime_sdk, *modules],
        env={"PATH": "/usr/bin:/bin", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert {Path(path).relative_to(task).parts[0].removesuffix(".py") for path in outcome["loaded"]} >= shipped
    assert outcome["compiled"] == []
    handler = task / modules[0].replace(".", "/")
    bytecode = Path(importlib.util.cache_from_source(f"{handler}.py")).read_bytes()
    assert marshal.loads(bytecode[16:]).co_filename == f"/var/task/{modules[0].replace('.', '/')}.py"


@pytest.mark.build
@pytest.mark.parametrize(("function", "logical_id"), [("proxy", "ProxyFunction"), ("authorizer", "AuthorizerFunction")])
def test_the_bench_imports_the_modules_and_bytecode_sam_build_ships(
    built_function: Path, function: str, logical_id: str, tmp_path: Path
) -> None:
    package = built_package(function, say=lambda _: None, cache=tmp_path)

    assert _python_modules(package) == _python_modules(built_function.parent / logical_id)
