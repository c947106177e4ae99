"""A newcomer's first hour: the Makefile's own help, its refusals and progress, the Python version, the licence."""

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "make"


def _make(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAKE, "--no-print-directory", *arguments],
        cwd=PROJECT_ROOT,
        env=env or {name: value for name, value in os.environ.items() if not name.startswith("MAKE")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _documented_targets() -> set[str]:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert phony is not None
    return set(phony.group(1).replace("\\\n", " ").split()) - {"require-stack-name"}


def test_make_alone_lists_every_target_with_one_line_each() -> None:
    result = _make()

    assert result.returncode == 0, result.stderr
    listed = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ")}
    assert set(listed) == _documented_targets()
    assert all(len(line.split(None, 1)) == 2 for line in listed.values())  # each has its description
    assert "Nothing to be done" not in result.stdout + result.stderr


def test_make_e2e_without_a_stack_stops_with_one_clear_line() -> None:
    environment = {name: value for name, value in os.environ.items() if name != "STACK_NAME"}
    environment = {name: value for name, value in environment.items() if not name.startswith("MAKE")}

    result = _make("e2e", env=environment)

    assert result.returncode != 0
    assert "make e2e: STACK_NAME is not set" in result.stderr
    assert "pytest" not in result.stdout  # refused before anything ran: no "10 skipped" that exits 0


def _tool(*command: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """One of the project's shell tools, run from the project folder as its make target runs it."""
    return subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_slow_steps_say_what_they_do_and_show_progress() -> None:
    result = _tool(
        "sh", "tools/with-progress.sh", "sleeping 2.5 s", "sh", "-c", "sleep 2.5; echo done; exit 3", PROGRESS_EVERY="1"
    )

    assert result.returncode == 3  # the command's own status
    assert result.stdout == "done\n"
    assert result.stderr.splitlines() == ["sleeping 2.5 s", "  ... 1 s", "  ... 2 s"]


def test_the_image_target_refuses_an_unknown_source_with_one_line() -> None:
    result = _tool("bash", "tools/sam-local-images.sh", SAM_LOCAL_IMAGE_SOURCE="registry")

    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.endswith("SAM_LOCAL_IMAGE_SOURCE must be auto, pull or build, not 'registry'\n")


def test_the_first_run_installs_announce_themselves() -> None:
    """What `make test` prints before its pip installs (a dry run of every recipe: -n -B)."""
    result = _make("-n", "-B", "venv", "validate")

    assert result.returncode == 0, result.stderr
    assert re.search(r"with-progress\.sh \"installing the pinned dev tools .*about a minute\"", result.stdout)
    assert re.search(r"with-progress\.sh \"installing checkov .*20 s to a minute\"", result.stdout)


def test_the_readme_pyenv_command_installs_what_python_version_names() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    pinned = (PROJECT_ROOT / ".python-version").read_text(encoding="utf-8").strip()

    installs = set(re.findall(r"pyenv install (\S+?)`", readme))
    assert installs == {pinned}
    assert re.fullmatch(r"3\.13", pinned), "a prefix: pyenv resolves it to any installed 3.13.x"


@pytest.mark.skipif(shutil.which("pyenv") is None, reason="pyenv is not installed")
def test_pyenv_resolves_python_version_to_an_installed_interpreter() -> None:
    result = subprocess.run(
        ["pyenv", "which", "python3.13"],
        cwd=PROJECT_ROOT,
        env={name: value for name, value in os.environ.items() if name != "PYENV_VERSION"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert re.search(r"/versions/3\.13\.\d+/bin/python3\.13$", result.stdout.strip())


def test_the_proxy_build_names_what_is_missing_when_no_python_is_found(tmp_path: Path) -> None:
    result = subprocess.run(
        [MAKE, "-f", str(PROJECT_ROOT / "proxy_fn" / "Makefile"), "build-ProxyFunction", f"ARTIFACTS_DIR={tmp_path}"],
        cwd=tmp_path,
        env={"PATH": str(tmp_path)},  # no interpreter anywhere
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "no Python 3.8+ with pip found" in result.stderr
    assert "pyenv install 3.13" in result.stderr


def test_the_licence_file_matches_pyproject() -> None:
    declared = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    licence = (PROJECT_ROOT / "LICENSE").read_text(encoding="utf-8")

    assert declared == "MIT-0"
    assert licence.splitlines()[0] == "MIT No Attribution"
    assert "without restriction" in licence
    assert "The above copyright notice" not in licence  # MIT-0 drops MIT's attribution condition


def test_make_local_installs_only_pyprojects_local_group() -> None:
    result = _make("-n", "-B", "local")

    assert result.returncode == 0, result.stderr
    assert "--group local" in result.stdout
    assert "--group dev" not in result.stdout
    assert "localstack" not in result.stdout


def _local_group_closure() -> set[str]:
    """The distributions `pip install --group local` brings: the group's pins and what they require, recursively."""
    groups = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["dependency-groups"]
    pending = [Requirement(line) for line in groups["local"]]
    found: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found or (requirement.marker is not None and not requirement.marker.evaluate({"extra": ""})):
            continue
        found.add(name)
        pending += [Requirement(line) for line in metadata.requires(name) or []]
    return found


def test_what_make_local_runs_imports_only_what_the_local_group_installs() -> None:
    """Every import in the local gateway and both functions, lazy ones included, comes from the standard library,
    the project, or the "local" group: a new import of a dev tool would break a fresh clone's `make local`."""
    sources = [
        *(PROJECT_ROOT / "local_gateway").glob("*.py"),
        *(PROJECT_ROOT / "proxy_fn" / "proxy").glob("*.py"),
        *(PROJECT_ROOT / "authorizer_fn" / "authorizer").glob("*.py"),
    ]
    imported: dict[str, str] = {}
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update({alias.name.split(".")[0]: source.name for alias in node.names})
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported[node.module.split(".")[0]] = source.name
    third_party = {
        module: source
        for module, source in imported.items()
        if module not in sys.stdlib_module_names and module not in ("local_gateway", "proxy", "authorizer")
    }
    providers = metadata.packages_distributions()
    closure = _local_group_closure()

    outside = {
        module: source
        for module, source in third_party.items()
        if not {canonicalize_name(name) for name in providers.get(module, [module])} & closure
    }
    assert third_party  # the scan sees the functions' own imports
    assert outside == {}, "add these to pyproject's local group, or keep them out of make local's code"
