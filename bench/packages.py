"""The functions' deployment packages as `sam build` makes them, for the cold starts and the warm workers.

Each package is built by the function's own Makefile, run the way SAM CLI runs it for `BuildMethod: makefile`
(aws_lambda_builders' custom_make workflow): in a scratch copy of the function's folder, `make --makefile
<folder>/Makefile build-<LogicalId>` with ARTIFACTS_DIR naming the package's folder. So the bench imports what the
build ships, bytecode included, and cannot drift from it. The project's virtual environment comes first on the
Makefile's PATH, so that its Python 3.13 (with pip) builds and compiles the package whatever the caller's PATH
(`sudo` resets it). Packages are kept under .venv/bench-packages, keyed by the function folder's files and the
interpreter: a run after the first builds nothing and needs no network.

Two more kinds of folder: the SDK that the python3.13 runtime provides (the authorizer's boto3), at the versions
the project pins for development and compiled as the Makefiles compile the packages; and each function's package
without its bytecode, as a build without Python 3.13 ships it.
"""

import compileall
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from py_compile import PycInvalidationMode

from bench.fixtures import AUTHORIZER_CODE, PROJECT_ROOT, PROXY_CODE

CACHE = PROJECT_ROOT / ".venv" / "bench-packages"
# The interpreter itself, without the project's virtual environment, so only a package is importable. -I: no
# environment variables, user site or script directory on sys.path; -S: no site-packages; -B: no bytecode written
# (every execution environment starts from the package as deployed).
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
ISOLATED = ["-I", "-S", "-B"]
# The runtime's SDK, at pyproject.toml's development pins.
SDK_REQUIREMENTS = ["boto3==1.43.108", "botocore==1.43.127"]
# Each function's folder and its logical id in template.yaml (the Makefile's target is build-<LogicalId>).
FUNCTIONS = {"proxy": (PROXY_CODE, "ProxyFunction"), "authorizer": (AUTHORIZER_CODE, "AuthorizerFunction")}


@dataclass(frozen=True)
class Packages:
    """sys.path entries, first first, for each cold-start program (see bench/fresh.py): as the build makes the
    packages, and (the two functions only) the same packages without their bytecode."""

    paths: dict[str, list[str]]
    without_bytecode: dict[str, list[str]]


def python_running(module: str, path: Sequence[str], *, isolated: bool = True) -> list[str]:
    """The command that runs `module`'s main() with `path` first on sys.path, then the bench: isolated, on the base
    interpreter with only `path` (a deployment package) importable; else in the project's virtual environment."""
    code = f"import sys; sys.path[:0] = {[*path, str(PROJECT_ROOT)]!r}; from {module} import main; sys.exit(main())"
    return [*([BASE_PYTHON, *ISOLATED] if isolated else [sys.executable]), "-c", code]


def _source_digest(folder: Path) -> str:
    """The folder's files as the build reads them (bytecode and caches aside), with the interpreter's version."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(f"\0{path.relative_to(folder)}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cached(target: Path, make: Callable[[Path], object]) -> Path:
    """`target`, made once by `make(partial folder)` and renamed into place when complete."""
    if target.is_dir():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    make(partial)
    partial.rename(target)
    return target


def built_package(function: str, say: Callable[[str], None], cache: Path = CACHE) -> Path:
    """`function`'s deployment package, built by its Makefile as `sam build` runs it."""
    folder, logical_id = FUNCTIONS[function]

    def build(artifacts: Path) -> None:
        say(f"building {logical_id}'s package with {folder.name}/Makefile, as sam build does (first run only)")
        with tempfile.TemporaryDirectory(prefix="bench-build-") as scratch:
            source = Path(scratch) / folder.name  # SAM's scratch copy leaves out only .aws-sam and .git
            shutil.copytree(folder, source, ignore=shutil.ignore_patterns(".aws-sam", ".git"))
            path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
            built = subprocess.run(  # noqa: S603 - the project's own Makefile
                ["make", "--makefile", str(folder / "Makefile"), f"build-{logical_id}"],  # noqa: S607 - make, as SAM finds it
                cwd=source,
                env=os.environ | {"ARTIFACTS_DIR": str(artifacts), "PATH": path},
                capture_output=True,
                text=True,
                check=False,
            )
        if built.returncode != 0 or not any(artifacts.rglob("*.pyc")):
            raise RuntimeError(f"{folder.name}/Makefile made no package with bytecode:\n{built.stdout}{built.stderr}")

    return _cached(cache / f"{logical_id}-{_source_digest(folder)}", build)


def _runtime_sdk(say: Callable[[str], None], cache: Path) -> Path:
    key = hashlib.sha256(f"{sys.version}\n{SDK_REQUIREMENTS}".encode()).hexdigest()[:16]

    def install(target: Path) -> None:
        say(f"installing the runtime's SDK ({', '.join(SDK_REQUIREMENTS)}) for the cold starts (first run only)")
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
        # pip also reports the project environment's own conflicts, which say nothing of the target: shown on failure.
        installed = subprocess.run(  # noqa: S603 - our interpreter's pip
            [*pip, "--target", str(target), *SDK_REQUIREMENTS], capture_output=True, text=True, check=False
        )
        if installed.returncode != 0:
            raise RuntimeError(f"pip could not install the runtime's SDK:\n{installed.stdout}{installed.stderr}")
        if not compileall.compile_dir(target, quiet=1, workers=0, invalidation_mode=PycInvalidationMode.CHECKED_HASH):
            raise RuntimeError(f"the runtime's SDK in {target} did not compile")

    return _cached(cache / f"runtime-sdk-{key}", install)


def _without_bytecode(package: Path) -> Path:
    return _cached(
        package.with_name(package.name + "-no-bytecode"),
        lambda copy: shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__")),
    )


def deployment_packages(say: Callable[[str], None], cache: Path = CACHE) -> Packages:
    proxy, authorizer = built_package("proxy", say, cache), built_package("authorizer", say, cache)
    sdk = str(_runtime_sdk(say, cache))
    return Packages(
        paths={
            "proxy": [str(proxy)],
            "urllib3": [str(proxy)],  # urllib3 as the proxy's package holds it
            "authorizer": [str(authorizer), sdk],
            "boto3": [sdk],
        },
        without_bytecode={
            "proxy": [str(_without_bytecode(proxy))],
            "authorizer": [str(_without_bytecode(authorizer)), sdk],
        },
    )
