"""Processes the tests start: a fresh Python interpreter, as a cold start sees one, stopping one cleanly, and which of
them coverage measures under `make test`."""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Where coverage's subprocess patch (pyproject's [tool.coverage.run]) hands its configuration to a process it starts,
# and where the tests hold it instead: see hold_subprocess_coverage().
_COVERAGE_CONFIG = "COVERAGE_PROCESS_CONFIG"
_HELD_COVERAGE_CONFIG = "TESTS_HELD_COVERAGE_PROCESS_CONFIG"


def hold_subprocess_coverage() -> None:
    """Coverage's subprocess patch measures every Python process started with its variable; from now on only those
    started with `measured()` get it. The others (sam build, the bench's bytecode compiler and timings, pytest run by a
    test) then run as they do without coverage: what marshal writes, for one, depends on what the process has loaded."""
    config = os.environ.pop(_COVERAGE_CONFIG, None)
    if config is not None:
        os.environ[_HELD_COVERAGE_CONFIG] = config


def measured(environment: Mapping[str, str]) -> dict[str, str]:
    """`environment` for a process that runs the functions' code: under `make test` coverage measures it too."""
    config = os.environ.get(_HELD_COVERAGE_CONFIG)
    held = {name: value for name, value in environment.items() if name != _HELD_COVERAGE_CONFIG}
    return held if config is None else {**held, _COVERAGE_CONFIG: config}


def fresh_interpreter(
    code: str, *arguments: str, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -c code arguments…` in its own process (at most 60 s, measured); the caller checks the exit status."""
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=cwd,
        env=measured(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stop(process: subprocess.Popen[Any], grace: float) -> None:
    """SIGTERM, which lets it clean up (and write its coverage data), then SIGKILL if it has not exited within
    `grace` seconds; reaped either way."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait(timeout=10)
