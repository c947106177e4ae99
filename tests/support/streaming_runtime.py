"""Starts the streaming runtime the way Lambda does in IntegrationMode=STREAM: the python3.13 runtime's bootstrap
execs AWS_LAMBDA_EXEC_WRAPPER (proxy_fn/stream-wrapper) with its interpreter, options and bootstrap script."""

import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import samcli

from tests.support.processes import measured, stop

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TASK_ROOT = PROJECT_ROOT / "proxy_fn"
WRAPPER = TASK_ROOT / "stream-wrapper"
# What the runtime's bootstrap passes after the interpreter: an option, then its own bootstrap script (which the
# wrapper replaces; it does not exist on this machine, and need not).
RUNTIME_ARGUMENTS = ("-Xfrozen_modules=off", "/var/runtime/bootstrap.py")


def runtime_environment(handler: str, **extra: str) -> dict[str, str]:
    """The variables Lambda gives the runtime (the Runtime API address comes from the caller or the emulator)."""
    return measured(
        {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(TASK_ROOT),
            "PYTHONPATH": str(PROJECT_ROOT),  # the test handlers (tests.support), after the task root
            "AWS_LAMBDA_FUNCTION_NAME": "proxy",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/proxy",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/22/[$LATEST]0123456789abcdef",
            "AWS_LAMBDA_EXEC_WRAPPER": str(WRAPPER),
            "POWERTOOLS_METRICS_DISABLED": "true",
            **extra,
        }
    )


def wrapper_command() -> list[str]:
    """`$AWS_LAMBDA_EXEC_WRAPPER <interpreter> <options> <bootstrap>`, as the runtime's bootstrap runs it."""
    return [str(WRAPPER), sys.executable, *RUNTIME_ARGUMENTS]


@contextmanager
def runtime_process(api_address: str, handler: str, log: Path, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """The runtime process against a Runtime API at `api_address`; its stdout and stderr go to `log`."""
    environment = runtime_environment(handler, AWS_LAMBDA_RUNTIME_API=api_address, **extra)
    with log.open("wb") as output:
        process = subprocess.Popen(
            wrapper_command(), cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        stop(process, grace=5)


def python_runtime_bootstrap(folder: Path) -> Path:
    """A stand-in for the python3.13 runtime's /var/runtime/bootstrap, for aws-lambda-rie to start: with
    AWS_LAMBDA_EXEC_WRAPPER set, it execs the wrapper with the interpreter, options and its own script."""
    script = folder / "bootstrap"
    arguments = " ".join(RUNTIME_ARGUMENTS)
    script.write_text(
        "#!/bin/bash\n"
        'wrapper="$AWS_LAMBDA_EXEC_WRAPPER"\n'
        '[ -x "$wrapper" ] || { echo "$wrapper: is not an executable"; exit 126; }\n'
        f'exec -- "$wrapper" {sys.executable} {arguments}\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


# AWS's Runtime Interface Emulator, as SAM CLI ships it for its containers (one binary per architecture).
EMULATOR = (
    Path(samcli.__file__).parent
    / "local"
    / "rapid"
    / f"aws-lambda-rie-{'arm64' if platform.machine() in ('aarch64', 'arm64') else 'x86_64'}"
)


@dataclass(frozen=True)
class EmulatorAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


class Emulator:
    """aws-lambda-rie on 127.0.0.1, running the python3.13 bootstrap stand-in, hence the wrapper and our runtime."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"

    def invoke(self, event: object, timeout: float = 60) -> EmulatorAnswer:
        """The emulator's answer, whatever its status (a failed init is a 502)."""
        request = urllib.request.Request(self.url, data=json.dumps(event).encode(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return EmulatorAnswer(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return EmulatorAnswer(error.code, dict(error.headers.items()), error.read())


@contextmanager
def emulator(folder: Path, handler: str, **extra: str) -> Iterator[Emulator]:
    """The emulator listens on one free port and gives the runtime its Runtime API on another; its log (the
    runtime's output included) goes to folder/emulator.log."""
    invoke_port, runtime_api_port = free_ports(2)
    command = [
        str(EMULATOR),
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{invoke_port}",
        "--runtime-api-address",
        f"127.0.0.1:{runtime_api_port}",
        str(python_runtime_bootstrap(folder)),
        handler,  # the emulator sets _HANDLER from it
    ]
    with (folder / "emulator.log").open("wb") as output:
        process = subprocess.Popen(
            command, env=runtime_environment(handler, **extra), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for_listener(invoke_port, process)
        yield Emulator(invoke_port)
    finally:
        stop(process, grace=10)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def wait_for_listener(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited ({process.returncode}) before it listened")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {seconds} s")
