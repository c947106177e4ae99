"""SAM CLI run for real: what it needs (Docker, the runtime images), one build, the commands docs/sam-local.md shows.

Facts these helpers rely on, each tried on these machines with SAM CLI 1.170.0 and docker.io 20.10:
- SAM CLI hands a function a variable from its own environment when the template declares it
  (samcli/local/lambdafn/env_vars.py: shell values rank second, after --env-vars). tests/conftest.py sets
  BACKEND_URL in this process, so SAM gets a clean environment, never ours.
- With `-t <copy of the template>`, SAM looks for samconfig.toml beside the copy, and so it does for a relative
  --config-file (samcli/cli/cli_config_file.py), silently running without it: pass an absolute --config-file.
- Offline, SAM must not ask the registry whether the image is current: --skip-pull-image.
- In the background, `sam local start-api` ignores SIGINT; SIGTERM stops it and removes its containers.
"""

import contextlib
import fcntl
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from samcli.cli.types import CfnParameterOverridesType
from samcli.lib.config.samconfig import SamConfig

from local_gateway.sam_template import load_template
from tests.support.folder_skip import skip_folder
from tests.support.processes import stop

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMCONFIG = PROJECT_ROOT / "samconfig.toml"
VENV_BIN = Path(sys.executable).parent
SAM = VENV_BIN / "sam"
# What SAM CLI runs python3.13 functions on (samcli/local/docker/lambda_image.py names it per architecture).
RUNTIME_IMAGES = {
    "x86_64": "public.ecr.aws/lambda/python:3.13-x86_64",
    "arm64": "public.ecr.aws/lambda/python:3.13-arm64",
}
HOW_TO_GET_THEM = "run `make sam-local-images` (as root it installs and starts Docker; it pulls or builds both images)"
FUNCTIONS = ("ProxyFunction", "AuthorizerFunction")
# The region of the sample events; credentials that only moto accepts (for the tools run beside SAM).
REGION = "eu-west-1"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# .ci/run sets it: there a missing prerequisite fails the run instead of skipping the suite.
REQUIRED_ENV = "SAM_LOCAL_REQUIRED"
# .ci/run prepares Docker and the images in the background and writes "ok" (or why not) here when done.
READY_FILE_ENV = "SAM_LOCAL_READY_FILE"
PREPARATION_WAIT_SECONDS = 900

# Wall-clock seconds of each SAM step, printed at the end of the run (tests/sam_local/conftest.py).
TIMINGS: dict[str, float] = {}


def record_timing(name: str, seconds: float) -> None:
    TIMINGS[name] = round(seconds, 2)


def unavailable(reason: str, collecting: pytest.Config | None = None) -> NoReturn:
    """Skip with `reason` (the whole folder while `collecting` it), or fail where SAM_LOCAL_REQUIRED=1 (.ci/run), so
    that CI cannot pass by skipping."""
    __tracebackhide__ = True
    if os.environ.get(REQUIRED_ENV) == "1":
        pytest.fail(f"{REQUIRED_ENV}=1 but {reason}", pytrace=False)
    if collecting is not None:
        skip_folder(collecting, reason)
    pytest.skip(reason, allow_module_level=True)


def preparation_pending() -> bool:
    """Whether .ci/run is still preparing Docker and the images in the background."""
    ready_file = os.environ.get(READY_FILE_ENV)
    return bool(ready_file) and not os.path.exists(str(ready_file))


def wait_for_preparation() -> str | None:
    """Waits (bounded) for .ci/run's background preparation when it runs one; why it failed, or None."""
    ready_file = os.environ.get(READY_FILE_ENV)
    if not ready_file:
        return None
    started = time.monotonic()
    while not os.path.exists(ready_file):
        if time.monotonic() - started > PREPARATION_WAIT_SECONDS:
            return f"Docker and the runtime images were still being prepared after {PREPARATION_WAIT_SECONDS} s"
        time.sleep(1)
    record_timing("waited for .ci/run's image preparation", time.monotonic() - started)
    outcome = Path(ready_file).read_text(encoding="utf-8").strip()
    return None if outcome == "ok" else f"preparing Docker and the runtime images {outcome}"


def missing_prerequisite(architectures: Sequence[str]) -> str | None:
    """One line saying what is missing to run SAM CLI's local commands here, and how to get it; None if nothing."""
    preparation_failed = wait_for_preparation()
    if preparation_failed is not None:
        return preparation_failed
    if shutil.which("docker") is None:
        return f"sam local needs Docker: the docker command is not installed; {HOW_TO_GET_THEM}"
    info = _docker("info", "--format", "{{.ServerVersion}}", timeout=30)
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"sam local needs Docker: the daemon does not answer ({reason}); {HOW_TO_GET_THEM}"
    for architecture in architectures:
        image = RUNTIME_IMAGES[architecture]
        if _docker("image", "inspect", image, timeout=30).returncode != 0:
            return f"sam local needs the Lambda runtime image {image}, which is not in Docker; {HOW_TO_GET_THEM}"
    return None


def image_starts_wrappers(image: str) -> bool:
    """Whether the image's runtime bootstrap execs AWS_LAMBDA_EXEC_WRAPPER with the interpreter and its bootstrap, as
    the python3.13 runtime's does (IntegrationMode=STREAM relies on it)."""
    started = _docker(
        "run",
        "--rm",
        "--network",
        "none",
        "--env",
        "AWS_LAMBDA_EXEC_WRAPPER=/usr/bin/echo",
        "--entrypoint",
        "/var/runtime/bootstrap",
        image,
        timeout=60,
    )
    return started.returncode == 0 and started.stdout.strip().endswith("/var/runtime/bootstrap.py")


def bridge_gateway() -> str:
    """This machine's address on Docker's default bridge: what host-gateway, so host.docker.internal, reaches.

    `docker network inspect bridge` names the gateway on most installations; docker.io 20.10 here leaves it out,
    so the bridge interface's own address (the one dockerd gives host-gateway) is the fallback.
    """
    inspected = _docker("network", "inspect", "bridge", "--format", "{{json .}}", timeout=30)
    if inspected.returncode != 0:
        raise RuntimeError(f"docker network inspect bridge failed: {inspected.stderr.strip()}")
    network = json.loads(inspected.stdout)
    for config in network.get("IPAM", {}).get("Config") or []:
        if config.get("Gateway"):
            return str(config["Gateway"])
    interface = network.get("Options", {}).get("com.docker.network.bridge.name", "docker0")
    return _interface_address(interface)


def _interface_address(interface: str) -> str:
    siocgifaddr = 0x8915  # Linux: the IPv4 address of an interface
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        answer = fcntl.ioctl(probe.fileno(), siocgifaddr, struct.pack("256s", interface.encode()[:15]))
    return socket.inet_ntoa(answer[20:24])


def free_port(host: str) -> int:
    """A port on `host` that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def samconfig_parameters(command: str, environment: str = "default") -> dict[str, str]:
    """The parameter_overrides `sam <command>` ("local invoke", "deploy") reads from samconfig.toml, parsed as SAM CLI
    parses them."""
    config = SamConfig(str(PROJECT_ROOT)).get_all(command.split(), section="parameters", env=environment)
    parsed: dict[str, str] = CfnParameterOverridesType().convert(config["parameter_overrides"], None, None)
    return parsed


def sam_environment(**extra: str) -> dict[str, str]:
    """Only what SAM CLI needs (see the module docstring), and no AWS credentials.

    SAM CLI asks STS for the account id at the start of every local command (samcli/commands/local/cli_common/
    invoke_context.py, _add_account_id_to_global). With credentials and no network that call retries for about
    8 s; without credentials it fails at once, and SAM hands the function placeholder credentials (defaultkey),
    which moto accepts. No real account is ever reached either way. The SDK's search for credentials would also ask
    the EC2 instance metadata service (169.254.169.254), which no test machine needs: it is turned off.
    """
    environment = {
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/root"),
        "LC_ALL": "C.UTF-8",
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name in ("DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"):
        if name in os.environ:
            environment[name] = os.environ[name]
    return {**environment, **extra}


@dataclass(frozen=True)
class BuiltTemplates:
    """One `sam build` output: the template as built (arm64, as template.yaml says) and an x86_64 copy."""

    build_dir: Path
    arm64: Path
    x86_64: Path

    def for_architecture(self, architecture: str) -> Path:
        return self.arm64 if architecture == "arm64" else self.x86_64


def sam_build(work_dir: Path) -> BuiltTemplates:
    """`sam build` into `work_dir` (build and cache there, not in the project's .aws-sam), then the x86_64 copy."""
    build_dir, cache_dir = work_dir / "build", work_dir / "cache"
    started = time.monotonic()
    # The python3.13 builder and proxy_fn/Makefile need python3.13 on PATH: the venv's, as tests/integration/
    # test_build.py does. The build reads samconfig.toml's [default.build] (cached, parallel) like a user's.
    result = subprocess.run(
        [str(SAM), "build", "--build-dir", str(build_dir), "--cache-dir", str(cache_dir)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sam build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    record_timing("sam build", time.monotonic() - started)
    built = build_dir / "template.yaml"
    _precompile(build_dir)
    return BuiltTemplates(build_dir=build_dir, arm64=built, x86_64=_x86_64_copy(built))


def _precompile(build_dir: Path) -> None:
    """Byte-compile the built functions once on the host (.pyc files are the same on every architecture).

    /var/task is read-only in the container, so without them every cold start compiles every import again, as on
    Lambda; under qemu that is most of a 15-25 s arm64 cold start, close to the function's 29 s timeout on a busy
    2-core machine. With them it is about 7 s. The code run is the same.
    """
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j0", *(str(build_dir / name) for name in FUNCTIONS)],
        capture_output=True,
        timeout=300,
        check=True,
    )
    record_timing("byte-compile the build", time.monotonic() - started)


# Compiled code in the build that runs on x86_64 as well: wrapt falls back to pure Python when its aarch64
# extension does not load (wrapt/__wrapt__.py), and only the X-Ray SDK, loaded only under Lambda's active
# tracing, imports it.
_NATIVE_WITH_FALLBACK = {"ProxyFunction/wrapt/_wrappers.cpython-313-aarch64-linux-gnu.so"}


def _x86_64_copy(built: Path) -> Path:
    """The built template with x86_64 functions, beside it so that CodeUri still points at the same folders.

    arm64 runs under qemu on these x86_64 machines: each cold start costs 7-25 s instead of 0.5 s, and SAM CLI
    1.170 gives a fresh container about 0.3 s to answer before it gives up (samcli/local/docker/container.py,
    wait_for_http_response: 3 tries from 50 ms), less than the emulator needs under qemu (about 0.5 s). That
    makes `sam local invoke` fail on arm64 here, so the invokes use this copy. The copy runs the same files:
    every dependency is pure Python or falls back to it (checked below).
    """
    native = {str(path.relative_to(built.parent)) for path in built.parent.rglob("*.so*")}
    unexpected = native - _NATIVE_WITH_FALLBACK
    if unexpected:
        raise RuntimeError(
            f"the build now ships compiled code {sorted(unexpected)}: an x86_64 copy of the arm64 build may no "
            "longer run the same code; check that it falls back to pure Python, then list it here"
        )
    template = load_template(built)
    template["Globals"]["Function"]["Architectures"] = ["x86_64"]
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            assert "Architectures" not in resource["Properties"], "an architecture set per function: copy it too"
    copy = built.with_name("template-x86_64.json")
    copy.write_text(json.dumps(template), encoding="utf-8")
    return copy


@dataclass
class SamRun:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def function_result(self) -> Any:
        """What the function returned: the last line of stdout (SAM writes the function's logs to stderr)."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        if self.returncode != 0 or not lines:
            raise AssertionError(f"sam local invoke failed ({self.returncode}):\n{self.describe()}")
        return json.loads(lines[-1])

    def describe(self) -> str:
        return f"$ {' '.join(self.command)}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-6000:]}"


def local_command(command: str, template: Path, *arguments: str) -> list[str]:
    """`sam local <command> <arguments>` as docs/sam-local.md shows it, plus what running it from a test needs: the
    template copy (-t) with the project's samconfig.toml, and --skip-pull-image (no registry here)."""
    return [
        str(SAM),
        "local",
        command,
        *arguments,
        "-t",
        str(template),
        "--config-file",
        str(SAMCONFIG),
        "--skip-pull-image",
    ]


def sam_local_invoke(template: Path, function: str, event: Path, *extra: str, timing: str) -> SamRun:
    command = local_command("invoke", template, function, "-e", str(event), *extra)
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, env=sam_environment(), capture_output=True, text=True, timeout=180, check=False
    )
    seconds = time.monotonic() - started
    record_timing(timing, seconds)
    return SamRun(command, result.returncode, result.stdout, result.stderr, seconds)


def containers_mounting(folder: Path) -> list[str]:
    """Ids of the containers that mount something under `folder`: this session's, no one else's."""
    ids = _docker("ps", "-aq", "--no-trunc", timeout=30).stdout.split()
    if not ids:
        return []
    # A container that went away meanwhile makes docker inspect fail for it alone; the others are still printed.
    inspected = _docker("inspect", *ids, timeout=60)
    prefix = str(folder.resolve())
    return [
        container["Id"]
        for container in json.loads(inspected.stdout or "[]")
        if any(mount.get("Source", "").startswith(prefix) for mount in container.get("Mounts", []))
    ]


def remove_containers(container_ids: Sequence[str]) -> None:
    if container_ids:
        _docker("rm", "-f", *container_ids, timeout=120)


def emulator_ports(container_id: str) -> list[int]:
    """Host ports (on 127.0.0.1) published for the runtime emulator of one of SAM's containers."""
    inspected = _docker("inspect", "--format", "{{json .NetworkSettings.Ports}}", container_id, timeout=30)
    ports = json.loads(inspected.stdout or "null") or {}
    return [int(binding["HostPort"]) for bindings in ports.values() if bindings for binding in bindings]


def container_architecture(container_id: str) -> str:
    """The architecture of the image a container runs (arm64 or amd64)."""
    image = _docker("inspect", "--format", "{{.Image}}", container_id, timeout=30).stdout.strip()
    return _docker("image", "inspect", "--format", "{{.Architecture}}", image, timeout=30).stdout.strip()


def wait_for_port(port: int, deadline: float, process: subprocess.Popen[bytes]) -> None:
    """Until something accepts connections on 127.0.0.1:`port` (no request is sent), or the deadline passes."""
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the process meant to listen on port {port} exited ({process.returncode})")
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listened on 127.0.0.1:{port} in time")
        time.sleep(0.1)


def wait_until_answering(url: str, deadline: float) -> None:
    """Until any HTTP answer comes from `url` (an error status counts), or the deadline passes."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answered at {url} in time") from None
            time.sleep(0.1)


@dataclass
class StartApi:
    """A running `sam local start-api` on 127.0.0.1:`port`."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    warm_containers: list[str] = field(default_factory=list)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def sam_local_start_api(
    template: Path, build_dir: Path, log: Path, *extra: str, ready_within: float = 180
) -> Iterator[StartApi]:
    """`sam local start-api` in the background, ready once its warm containers' emulators answer; stopped after.

    samconfig.toml asks for warm containers (EAGER), created at start. SAM CLI checks that a container's port is
    open before its first request, and docker-proxy opens it at once: under qemu the emulator behind it needs
    about 0.5 s more, and SAM's 3 quick retries (about 0.3 s) would turn the first request into a 502. So this
    waits until each emulator answers itself.
    """
    port = free_port("127.0.0.1")
    command = local_command("start-api", template, "--port", str(port), *extra)
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=sam_environment(), stdout=output, stderr=subprocess.STDOUT
        )
    api = StartApi(process, port, log)
    try:
        deadline = started + ready_within
        wait_for_port(port, deadline, process)  # a request now would already invoke the function
        record_timing("start-api: listening", time.monotonic() - started)
        while not containers_mounting(build_dir / "ProxyFunction"):
            if time.monotonic() > deadline:
                raise TimeoutError("sam local start-api started no warm container for ProxyFunction")
            time.sleep(0.2)
        api.warm_containers = containers_mounting(build_dir)
        for container in api.warm_containers:
            for emulator_port in emulator_ports(container):
                wait_until_answering(f"http://127.0.0.1:{emulator_port}/", deadline)
        record_timing("start-api: warm containers answering", time.monotonic() - started)
        yield api
    finally:
        stopping = time.monotonic()
        stop(process, grace=30)
        record_timing(f"start-api: stopped (exit {process.returncode})", time.monotonic() - stopping)
        leftover = _wait_for_no_containers(build_dir, timeout=30)
        if leftover:
            # SAM CLI 1.170 now and then stops on SIGTERM with a warm container still running (2 of about 12 runs of
            # this suite on a loaded 2-vCPU machine): its cleanup, not this project's; what matters is that none leaks.
            remove_containers(leftover)
            warnings.warn(
                f"sam local start-api left {len(leftover)} container(s) behind after SIGTERM; removed",
                stacklevel=1,
            )


def _wait_for_no_containers(build_dir: Path, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := containers_mounting(build_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def _docker(*arguments: str, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["docker", *arguments], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(["docker", *arguments], 124, "", f"docker {arguments[0]} timed out")
