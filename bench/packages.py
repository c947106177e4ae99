"""The functions' code as Lambda gets it from `sam build`, for the cold starts.

sam build (aws-lambda-builders' python_pip workflow) copies a function's folder without `__pycache__` and `*.pyc`,
and unpacks its requirements' wheels without compiling them: the deployment package holds no bytecode. Each
execution environment gets its own copy of the package ("Each execution environment contains a dedicated copy of
[...] the code of the particular function version", Security Overview of AWS Lambda, Lambda isolation
technologies), so each init compiles every module of the package it imports. The bench lays out the same files:
the requirements with `pip install --no-compile --target` (kept under .venv, keyed by the requirements file, so a
run after the first needs no network), and the code copied afresh on every run. The SDK that the python3.13 runtime
provides (the authorizer's boto3) is installed with its bytecode, at the versions the project pins for development.
"""

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.fixtures import AUTHORIZER_CODE, PROJECT_ROOT, PROXY_CODE

CACHE = PROJECT_ROOT / ".venv" / "bench-packages"
# The interpreter itself, without the project's virtual environment, so only a package is importable. -I: no
# environment variables, user site or script directory on sys.path; -S: no site-packages; -B: no bytecode written
# (the packages must stay as deployed).
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
ISOLATED = ["-I", "-S"]
# The runtime's SDK, at pyproject.toml's development pins.
SDK_REQUIREMENTS = "boto3==1.43.108\nbotocore==1.43.127\n"


@dataclass(frozen=True)
class Packages:
    """sys.path entries, first first, for each cold-start program (see bench/fresh.py)."""

    paths: dict[str, list[str]]


def python_running(module: str, path: Sequence[str], *, isolated: bool = True) -> list[str]:
    """The command that runs `module`'s main() with `path` first on sys.path, then the bench: isolated, on the base
    interpreter with only `path` (a deployment package) importable; else in the project's virtual environment."""
    code = f"import sys; sys.path[:0] = {[*path, str(PROJECT_ROOT)]!r}; from {module} import main; sys.exit(main())"
    return [*([BASE_PYTHON, *ISOLATED, "-B"] if isolated else [sys.executable]), "-c", code]


def _installed(name: str, requirements: str, compile_bytecode: bool, say: Callable[[str], None]) -> Path:
    """A --target directory holding `requirements`, installed once and then reused."""
    key = hashlib.sha256(f"{sys.version}\n{compile_bytecode}\n{requirements}".encode()).hexdigest()[:16]
    target = CACHE / f"{name}-{key}"
    if target.is_dir():
        return target
    say(f"installing {name}'s requirements for the cold starts into {target} (first run only)")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    requirements_file = CACHE / f"{name}-{key}.txt"
    CACHE.mkdir(parents=True, exist_ok=True)
    requirements_file.write_text(requirements)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(partial)]
    pip += [] if compile_bytecode else ["--no-compile"]
    # pip also reports the project environment's own conflicts, which say nothing about the target: shown on failure.
    installed = subprocess.run(  # noqa: S603 - our interpreter's pip
        [*pip, "-r", str(requirements_file)], capture_output=True, text=True, check=False
    )
    if installed.returncode != 0:
        raise RuntimeError(f"pip could not install {name}'s requirements:\n{installed.stdout}{installed.stderr}")
    partial.rename(target)
    return target


def code_as_packaged(source: Path, scratch: Path) -> Path:
    """The function's folder as sam build copies it: without bytecode."""
    destination = scratch / source.name
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt"))
    return destination


def deployment_packages(scratch: Path, say: Callable[[str], None]) -> Packages:
    proxy_requirements = (PROXY_CODE / "requirements.txt").read_text()
    authorizer_requirements = (AUTHORIZER_CODE / "requirements.txt").read_text()
    proxy_deps = str(_installed("proxy", proxy_requirements, False, say))
    authorizer_deps = str(_installed("authorizer", authorizer_requirements, False, say))
    sdk = str(_installed("runtime-sdk", SDK_REQUIREMENTS, True, say))
    proxy_code = str(code_as_packaged(PROXY_CODE, scratch))
    authorizer_code = str(code_as_packaged(AUTHORIZER_CODE, scratch))
    return Packages(
        {
            "proxy": [proxy_code, proxy_deps],
            "urllib3": [proxy_deps],  # urllib3 as the proxy's package holds it
            "authorizer": [authorizer_code, authorizer_deps, sdk],
            "boto3": [sdk],
        }
    )
