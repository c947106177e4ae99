"""`make test` on a machine without Docker or the Lambda images: tests/sam_local skips with one line and passes,
except where SAM_LOCAL_REQUIRED=1 (CI), where the same missing prerequisite fails the run."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MAKE_TARGET = "make sam-local-images"


def _pytest_sam_local(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`pytest tests/sam_local`, the second step of `make test`, with no background preparation under way."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("SAM_LOCAL_REQUIRED", "SAM_LOCAL_READY_FILE", "DOCKER_HOST") and not name.startswith("PYTEST")
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/sam_local", "-p", "no:cacheprovider", "--basetemp", str(tmp_path)],
        cwd=PROJECT_ROOT,
        env={**environment, **settings},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker command is not installed here")
def test_without_a_docker_daemon_the_suite_skips_with_one_line_and_passes(tmp_path: Path) -> None:
    result = _pytest_sam_local(tmp_path, DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock")

    assert result.returncode == 0, result.stdout[-3000:]
    skip_lines = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skip_lines) == 1, result.stdout[-3000:]
    assert "sam local needs Docker: the daemon does not answer" in skip_lines[0]
    assert MAKE_TARGET in skip_lines[0]


def test_where_sam_local_is_required_a_missing_docker_fails_the_run(tmp_path: Path) -> None:
    no_docker = tmp_path / "bin"
    no_docker.mkdir()
    result = _pytest_sam_local(tmp_path, SAM_LOCAL_REQUIRED="1", PATH=str(no_docker))

    assert result.returncode not in (0, 5), result.stdout[-3000:]
    assert "SAM_LOCAL_REQUIRED=1 but sam local needs Docker: the docker command is not installed" in result.stdout
    assert MAKE_TARGET in result.stdout
    assert "SKIPPED" not in result.stdout
