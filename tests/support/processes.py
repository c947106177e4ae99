"""Processes the tests start: a fresh Python interpreter, as a cold start sees one, and stopping one cleanly."""

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def fresh_interpreter(
    code: str, *arguments: str, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -c code arguments…` in its own process (at most 60 s); the caller checks the exit status."""
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=cwd,
        env=env,
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
