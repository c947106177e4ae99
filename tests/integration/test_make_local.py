"""`make local` as a user runs it: its processes, ports, signals, messages and logs, and the README's quick start."""

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
import urllib3

from bench.load import free_loopback_port
from local_gateway.__main__ import parse_arguments
from local_gateway.sam_template import load_gateway_settings
from tests.support.processes import measured, stop

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=30))
# What make local reads from the environment, itself or through the functions it runs.
_SETTINGS = ("PORT", "STAGE", "DEMO_PORT", "MODE", "VERBOSE", "LOCAL_", "BACKEND_", "AUTH_", "TOKEN_", "POWERTOOLS_")
BANNER_END = "Ctrl-C stops it"


def user_environment(**settings: str) -> dict[str, str]:
    """A user's shell: none of the settings this test process gave the in-process handlers."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith(_SETTINGS)}
    return measured({**environment, "PYTHONUNBUFFERED": "1", **settings})


class _Lines:
    """A pipe's lines, read in a thread so that every wait for one is bounded."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def until(self, text: str, seconds: float) -> list[str]:
        deadline = time.monotonic() + seconds
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if text in line:
                return seen
        pytest.fail(f"make local did not print {text!r}: " + "".join(seen))

    def rest(self, seconds: float = 10) -> str:
        """Everything, once the process has exited and the pipe is closed."""
        self._thread.join(timeout=seconds)
        return "".join(self.lines)


@dataclass
class Running:
    process: subprocess.Popen[str]
    port: int
    demo_port: int
    stderr: _Lines
    stdout_file: Path
    banner: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def token(self) -> str:
        return next(line.rsplit(" ", 1)[1].strip() for line in self.banner if "session token" in line)

    def get(self, path: str, token: str | None = None) -> urllib3.BaseHTTPResponse:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return HTTP.request("GET", self.url + path, headers=headers, redirect=False)


# `python -m local_gateway` whose SIGINT arrives at the worst moment, whatever the machine's load: while the server
# hands an accepted connection to its thread.
_SIGINT_ON_ACCEPT = """
import runpy, signal, socketserver, sys
hand_over = socketserver.ThreadingMixIn.process_request
def interrupted(server, request, client_address):
    signal.raise_signal(signal.SIGINT)
    hand_over(server, request, client_address)
socketserver.ThreadingMixIn.process_request = interrupted
sys.argv[0] = "local_gateway"
runpy.run_module("local_gateway", run_name="__main__")
"""


@contextmanager
def make_local(
    tmp_path: Path,
    *arguments: str,
    sigint_ignored: bool = False,
    sigint_on_accept: bool = False,
    port: int = 0,
    demo_port: int = 0,
    **settings: str,
) -> Iterator[Running]:
    """`python -m local_gateway` on free ports, stopped on the way out (killed if it does not stop)."""
    port, demo_port = port or free_loopback_port(), demo_port or free_loopback_port()
    entry = ["-c", _SIGINT_ON_ACCEPT] if sigint_on_accept else ["-m", "local_gateway"]
    command = [sys.executable, *entry, "--port", str(port), "--demo-port", str(demo_port), *arguments]
    if sigint_ignored:  # as a shell starts a background job, `make local &`: SIGINT ignored, and exec keeps it so
        command = ["bash", "-c", 'trap "" INT; exec "$@"', "make-local", *command]
    stdout_file = tmp_path / f"stdout-{port}.txt"
    with stdout_file.open("w") as stdout:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            env=user_environment(**settings),
        )
    assert process.stderr is not None
    running = Running(process, port, demo_port, _Lines(process.stderr), stdout_file)
    try:
        running.banner = running.stderr.until(BANNER_END, seconds=60)
        yield running
    finally:
        stop(process, grace=15)


def refused_start(*arguments: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local_gateway", *arguments],
        cwd=PROJECT_ROOT,
        env=user_environment(**settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def wait_until_closed(port: int, seconds: float) -> None:
    """Nothing accepts connections on the port any more (both processes are gone)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.1)
    pytest.fail(f"something still listens on port {port}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_stops_the_gateway_and_the_demo_backend(tmp_path: Path, signum: signal.Signals) -> None:
    """Started as a background job whose SIGINT the shell ignores: SIGINT still stops it, as do SIGTERM and SIGHUP."""
    with make_local(tmp_path, sigint_ignored=True) as local:
        assert local.get("/anything").status == 200

        local.process.send_signal(signum)

        assert local.process.wait(timeout=20) == 0
        assert f"make local: stopped ({signum.name})" in local.stderr.rest()
    for port in (local.port, local.demo_port):
        wait_until_closed(port, seconds=1)
    assert not (PROJECT_ROOT / ".local" / f"tokens-{local.port}.json").exists()


def test_ctrl_c_while_a_connection_is_being_accepted_still_stops_it(tmp_path: Path) -> None:
    """Before, socketserver caught the stop there, logged it as a failed request and served on, deaf to every later
    signal: a CI run's `make local` did not exit within 20 s of its Ctrl-C."""
    with make_local(tmp_path, "--auth-mode", "NONE", sigint_on_accept=True) as local:
        with pytest.raises(urllib3.exceptions.ProtocolError):  # the connection the stop interrupted: closed unanswered
            HTTP.request("GET", f"{local.url}/anything")

        assert local.process.wait(timeout=20) == 0
        stderr = local.stderr.rest()
    assert stderr.rstrip().endswith("make local: stopped (SIGINT)")
    assert "Traceback" not in stderr
    for port in (local.port, local.demo_port):
        wait_until_closed(port, seconds=1)


def test_the_demo_backend_stops_when_the_gateway_is_killed(tmp_path: Path) -> None:
    with make_local(tmp_path, "--auth-mode", "NONE") as local:
        local.process.kill()
        local.process.wait(timeout=15)

        wait_until_closed(local.demo_port, seconds=15)


def test_a_gateway_port_in_use_gets_a_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = refused_start("--port", str(port), "--backend-url", "http://127.0.0.1:9", "--auth-mode", "NONE")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"make local: port {port} is not free (Address already in use); use PORT=<other> make local"
    ]


def test_a_demo_port_in_use_is_refused_too_and_nothing_starts() -> None:
    """Before, the gateway found the other program listening there, took it for httpbin, and proxied to it."""
    port = free_loopback_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        demo_port = taken.getsockname()[1]
        result = refused_start("--port", str(port), "--demo-port", str(demo_port))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"make local: port {demo_port} is not free (Address already in use); use DEMO_PORT=<other> make local, "
        f"or BACKEND_URL=http://127.0.0.1:{demo_port} to use it"
    ]
    wait_until_closed(port, seconds=1)
    assert not (PROJECT_ROOT / ".local" / f"tokens-{port}.json").exists()


def test_instances_keep_their_own_ports_backends_and_tokens(tmp_path: Path) -> None:
    # The authorizer rereads the token file on each request here, so a file another instance overwrote would show.
    with make_local(tmp_path, TOKEN_CACHE_SECONDS="0") as first:
        on_its_demo_port = refused_start("--port", str(free_loopback_port()), "--demo-port", str(first.demo_port))
        on_its_port = refused_start("--port", str(first.port), "--demo-port", str(free_loopback_port()))
        with make_local(tmp_path, TOKEN_CACHE_SECONDS="0") as second:
            answers = {
                (name, token_of): local.get("/anything", token=owner.token).status
                for name, local in (("first", first), ("second", second))
                for token_of, owner in (("first", first), ("second", second))
            }

    assert (on_its_demo_port.returncode, on_its_port.returncode) == (2, 2)
    assert answers == {
        ("first", "first"): 200,
        ("first", "second"): 403,
        ("second", "first"): 403,
        ("second", "second"): 200,
    }


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"BACKEND_URL": "localhost:8000"}, "BACKEND_URL must start with http:// or https://"),
        ({"BACKEND_TIMEOUT_SECONDS": "99"}, "BACKEND_TIMEOUT_SECONDS must be above 0 and at most 28"),
        ({"PORT": "80a"}, "--port (PORT): expected a port number from 1 to 65535, got '80a'"),
        ({"MODE": "rest"}, "--mode (MODE): expected VTL, PROXY or STREAM, got 'rest'"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(settings: dict[str, str], named: str) -> None:
    result = refused_start(**settings)

    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"make local: {named}")


def test_help_names_both_ways_to_run_it_and_every_options_variable_and_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("PORT", "STAGE", "BACKEND_URL", "MODE", "AUTH_MODE"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(SystemExit) as exit_status:
        parse_arguments(["--help"], load_gateway_settings().parameters)

    text = capsys.readouterr().out
    assert exit_status.value.code == 0
    assert text.startswith("usage: make local [ARGS='OPTION ...']\n       .venv/bin/python -m local_gateway")
    for option, variable, default in [
        ("--port PORT", "PORT", "3000"),
        ("--stage STAGE", "STAGE", "v1"),
        ("--backend-url BACKEND_URL", "BACKEND_URL", "none"),
        ("--demo-port DEMO_PORT", "DEMO_PORT", "8080"),
        ("--mode {VTL,PROXY,STREAM}", "MODE", "VTL"),
        ("--auth-mode {NONE,TOKEN}", "AUTH_MODE", "TOKEN"),
        ("--tokens-file TOKENS_FILE", "LOCAL_TOKENS_FILE", "none"),
    ]:
        described = re.escape(option) + r" .+? " + re.escape(f"[{variable}; default: {default}]")
        assert re.search(described, " ".join(text.split())), option
    assert "--no-stage-prefix" in text
    assert "[VERBOSE=1]" in text


def _readme_quick_start_curls() -> list[tuple[str, int]]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = []
    for line in section.splitlines():
        if line.startswith("curl "):
            command, _, comment = line.partition("   # ")  # the status, then what the client sees next
            status = re.match(r"\d{3}\b", comment)
            assert status is not None, f"a quick-start line without its status: {line}"
            commands.append((command.strip(), int(status.group())))
    return commands


def test_the_readme_quick_start_works_as_written_with_one_log_line_per_request(tmp_path: Path) -> None:
    curls = _readme_quick_start_curls()
    assert len(curls) >= 8
    assert all("127.0.0.1:3000/v1/" in command for command, _ in curls)  # the deployed ApiUrl's shape
    with make_local(tmp_path) as local:
        for command, expected in curls:
            result = subprocess.run(
                ["bash", "-c", command.replace("127.0.0.1:3000", f"127.0.0.1:{local.port}")],
                cwd=PROJECT_ROOT,
                env={**os.environ, "TOKEN": local.token},
                capture_output=True,
                timeout=30,
                check=False,
            )
            status_line = result.stdout.split(b"\r\n", 1)[0].decode()
            assert (result.returncode, status_line.split(" ")[1]) == (0, str(expected)), command
        local.process.send_signal(signal.SIGINT)
        local.process.wait(timeout=20)
        after_banner = local.stderr.rest().split(BANNER_END, 1)[1].splitlines()[1:]

    access_log = [json.loads(line) for line in after_banner[:-1]]
    assert [line["status"] for line in access_log] == [expected for _, expected in curls]
    assert all(line["path"].startswith("/v1/") for line in access_log)
    assert after_banner[-1] == "make local: stopped (SIGINT)"
    assert local.stdout_file.read_text() == ""  # the functions' logs and metrics only with --verbose
    assert "\x1b[" not in "".join(local.stderr.lines)  # no colour codes into a pipe


def test_verbose_adds_the_functions_logs_and_plain_backend_request_lines(tmp_path: Path) -> None:
    with make_local(tmp_path, "--auth-mode", "NONE", VERBOSE="1") as local:
        assert HTTP.request("GET", f"{local.url}/status/404").status == 404
        local.process.send_signal(signal.SIGTERM)
        local.process.wait(timeout=20)
        stderr = local.stderr.rest()

    function_logs = [json.loads(line) for line in local.stdout_file.read_text().splitlines()]
    assert any(line.get("message") == "proxied" for line in function_logs)
    assert any("CloudWatchMetrics" in line.get("_aws", {}) for line in function_logs)
    assert '"GET /status/404 HTTP/1.1" 404' in stderr
    assert "\x1b[" not in stderr
