"""A fresh Python interpreter, as a cold start sees one: what it prints, and how it exits."""

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


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
