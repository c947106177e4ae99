"""`python -m bench.stream`: IntegrationMode=STREAM measured on 127.0.0.1.

1. Time to first byte through the function, less the backend's own (medians of interleaved warm requests).
2. Throughput of a 150 MB answer through the function, from its first byte to its last.
3. The function's peak RSS while it streams 150 MB, against its idle RSS.
4. The same 150 MB answer in STREAM mode and in PROXY mode (which answers 502 past Lambda's 6 MB).

The function runs as Lambda runs it in STREAM mode: proxy_fn/stream-wrapper starts the runtime client
(proxy/stream_runtime.py) with proxy.stream_handler, against a Runtime API of ours that records when each chunk
arrives (tests/support/runtime_api.py). The backend runs in a process of its own and makes its bodies as it sends
them. As root, the first two figures are measured again with the function held to the CPU share Lambda gives the
proxy's MemorySize in template.yaml (bench.cpu_share); elsewhere that column says why it is missing.

    python -m bench.stream [--size-mb 150] [--rounds 100]
"""

import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cpu_share import CpuShare, cgroup_layout, quota
from bench.fixtures import proxy_event
from bench.memory import deployed_memory
from tests.support.memory import peak_rss_bytes
from tests.support.runtime_api import FakeRuntimeApi, RecordedInvocation
from tests.support.streaming_backends import GENERATED_CHUNK_BYTES, generated_chunks
from tests.support.streaming_runtime import PROJECT_ROOT, runtime_environment, wrapper_command

FUNCTION_SHARE = CpuShare(deployed_memory()["proxy"])
SMALL_BYTES = 1024
GOALS = {"first byte": 5.0, "throughput": 100.0, "memory": 32.0}
MB = 1_000_000  # throughput in megabytes (10^6 bytes) per second
MIB = 1 << 20
# What the proxy sends first for the backend's answer: its status and Content-Type, then eight NUL bytes.
EXPECTED_PRELUDE = b'{"statusCode":200,"headers":{"Content-Type":"application/octet-stream"}}' + bytes(8)


@dataclass(frozen=True)
class StreamFigures:
    direct_first_byte_ms: list[float]
    function_first_byte_ms: list[float]
    throughput_mb_s: float

    @property
    def added_first_byte_ms(self) -> float:
        """Medians: the mean adds the moments the machine's other work paused either side."""
        return statistics.median(self.function_first_byte_ms) - statistics.median(self.direct_first_byte_ms)


@dataclass(frozen=True)
class MemoryFigures:
    idle_rss: int
    peak_rss: int
    streamed: int
    intact: bool


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=150, help="the large answer, in MiB (default 150)")
    parser.add_argument("--rounds", type=int, default=100, help="warm requests per first-byte median (default 100)")
    args = parser.parse_args(argv)
    size = args.size_mb * MIB
    with backend_process() as backend_url:
        print(f"backend {backend_url}; measuring unconstrained", file=sys.stderr, flush=True)
        with function(backend_url, None) as (api, pid):
            free = stream_figures(api, backend_url, args.rounds, size)
            memory = memory_figures(api, pid, size)
        layout = cgroup_layout()
        shared: StreamFigures | str = layout if isinstance(layout, str) else ""
        if not isinstance(layout, str):
            print(f"measuring at the {FUNCTION_SHARE.label}", file=sys.stderr, flush=True)
            with function(backend_url, FUNCTION_SHARE) as (api, _):
                shared = stream_figures(api, backend_url, args.rounds, size)
        buffered = buffered_answers(backend_url, [7 * MIB, size])
    print(report(free, shared, memory, buffered, size))
    holds = (
        free.added_first_byte_ms <= GOALS["first byte"]
        and free.throughput_mb_s >= GOALS["throughput"]
        and (memory.peak_rss - memory.idle_rss) / MIB <= GOALS["memory"]
        and memory.intact
    )
    return 0 if holds else 1


@contextmanager
def backend_process() -> Iterator[str]:
    """tests.support.streaming_backends in its own process; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.streaming_backends"],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(timeout=10)


@contextmanager
def function(backend_url: str, share: CpuShare | None) -> Iterator[tuple[FakeRuntimeApi, int]]:
    """The STREAM function's runtime process, warmed up; yields the Runtime API it serves and its pid."""
    with ExitStack() as stack:
        api = stack.enter_context(FakeRuntimeApi())
        group = stack.enter_context(quota(share))
        environment = runtime_environment(
            "proxy.stream_handler.lambda_handler",
            AWS_LAMBDA_RUNTIME_API=api.address,
            BACKEND_URL=backend_url,
            INTEGRATION_MODE="STREAM",
            POWERTOOLS_SERVICE_NAME="private-api-proxy",
            POWERTOOLS_METRICS_DISABLED="false",
        )
        process = subprocess.Popen(  # noqa: S603 - the package's wrapper, as Lambda runs it
            wrapper_command(),
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(_stop, process)
        for _ in range(20):
            invoke(api, SMALL_BYTES)
        # Every figure here is of a warm function: init ran at a full CPU, as Lambda runs it; from now on the share.
        if group is not None:
            group.procs.write_text(str(process.pid))
        yield api, process.pid


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(timeout=10)


def invoke(api: FakeRuntimeApi, size: int, *, keep_body: bool = True) -> RecordedInvocation:
    event = proxy_event("GET", f"/bytes/{size}", b"")
    return api.invoke(event, keep_body=keep_body, timeout_seconds=600).wait(300)


def stream_figures(api: FakeRuntimeApi, backend_url: str, rounds: int, size: int) -> StreamFigures:
    direct, through = [], []
    with DirectClient(backend_url) as client:
        for _ in range(rounds):
            direct.append(client.first_byte_ms(f"/bytes/{SMALL_BYTES}"))
            invocation = invoke(api, SMALL_BYTES)
            assert invocation.handed_out_at is not None
            through.append((invocation.chunks[0].at - invocation.handed_out_at) * 1000)
    large = invoke(api, size, keep_body=False)
    seconds = large.chunks[-1].at - large.chunks[0].at
    return StreamFigures(direct, through, size / seconds / MB)


def memory_figures(api: FakeRuntimeApi, pid: int, size: int) -> MemoryFigures:
    time.sleep(0.2)
    idle = _rss_bytes(pid)
    large = invoke(api, size, keep_body=False)
    expected = hashlib.sha256(EXPECTED_PRELUDE)
    for chunk in generated_chunks(size, GENERATED_CHUNK_BYTES):
        expected.update(chunk)
    intact = large.sha256 == expected.hexdigest() and not large.trailers
    return MemoryFigures(idle, peak_rss_bytes(pid), large.size - len(EXPECTED_PRELUDE), intact)


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


class DirectClient:
    """The backend's own time to first byte: a keep-alive connection asking for the same answer."""

    def __init__(self, backend_url: str) -> None:
        host, port = backend_url.removeprefix("http://").split(":")
        self._address = (host, int(port))

    def __enter__(self) -> "DirectClient":
        self._socket = socket.create_connection(self._address)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    def __exit__(self, *exc: object) -> None:
        self._socket.close()

    def first_byte_ms(self, path: str) -> float:
        started = time.perf_counter()
        self._socket.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        data = self._socket.recv(65536)
        elapsed = (time.perf_counter() - started) * 1000
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(
            next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        )
        while len(body) < length:
            body += self._socket.recv(65536)
        return elapsed


def buffered_answers(backend_url: str, sizes: list[int]) -> list[tuple[int, int, str]]:
    """What PROXY mode's buffered handler answers for each size: (size, status, message)."""
    os.environ.update({"BACKEND_URL": backend_url, "INTEGRATION_MODE": "PROXY", "POWERTOOLS_LOG_LEVEL": "ERROR"})
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    sys.path.insert(0, str(PROJECT_ROOT / "proxy_fn"))  # as the Lambda runtime sees the function's code
    from local_gateway.lambda_context import lambda_context  # noqa: PLC0415
    from proxy import handler  # noqa: PLC0415 - reads BACKEND_URL at import, like a cold start

    answers = []
    for size in sizes:
        response: dict[str, Any] = handler.lambda_handler(proxy_event("GET", f"/bytes/{size}", b""), lambda_context())
        message = response["body"] if response["statusCode"] >= 500 else f"{len(response['body']):,} characters"
        answers.append((size, response["statusCode"], message))
    return answers


def report(
    free: StreamFigures,
    shared: StreamFigures | str,
    memory: MemoryFigures,
    buffered: list[tuple[int, int, str]],
    size: int,
) -> str:
    """The Markdown table of the figures, each against its goal."""

    def at_share(figure: Callable[[StreamFigures], str]) -> str:
        return figure(shared) if isinstance(shared, StreamFigures) else f"not measured: {shared}"

    def first_byte(figures: StreamFigures) -> str:
        function, backend = figures.function_first_byte_ms, figures.direct_first_byte_ms
        return (
            f"{figures.added_first_byte_ms:.2f} ms (median / mean: function {statistics.median(function):.2f} / "
            f"{statistics.fmean(function):.2f}, backend {statistics.median(backend):.2f} / "
            f"{statistics.fmean(backend):.2f})"
        )

    def throughput(figures: StreamFigures) -> str:
        return f"{figures.throughput_mb_s:,.0f} MB/s"

    growth = (memory.peak_rss - memory.idle_rss) / MIB
    mib = size // MIB
    sha = "matches" if memory.intact else "DIFFERS"
    rows = [
        (
            "time to first byte through the function, less the backend's own (medians)",
            first_byte(free),
            at_share(first_byte),
            f"≤ {GOALS['first byte']:g} ms",
            free.added_first_byte_ms <= GOALS["first byte"],
        ),
        (
            f"throughput of a {mib} MiB answer, first byte to last",
            throughput(free),
            at_share(throughput),
            f"≥ {GOALS['throughput']:g} MB/s",
            free.throughput_mb_s >= GOALS["throughput"],
        ),
        (
            f"peak RSS streaming {mib} MiB",
            f"{memory.peak_rss / MIB:.1f} MiB = idle {memory.idle_rss / MIB:.1f} + {growth:.1f} MiB",
            "",
            f"≤ idle + {GOALS['memory']:g} MiB",
            growth <= GOALS["memory"],
        ),
        (
            f"{mib} MiB answer, STREAM",
            f"{memory.streamed:,} bytes, sha256 {sha}",
            "",
            "completes",
            memory.intact and memory.streamed == size,
        ),
        *(
            (
                f"{answer // MIB} MiB answer, PROXY (buffered)",
                f"{status}: {message}",
                "",
                "502 past 6 MB",
                status == 502,
            )
            for answer, status, message in buffered
        ),
    ]
    lines = [f"| Target | unconstrained | {FUNCTION_SHARE.label} | goal | holds |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| {target} | {measured} | {share} | {goal} | {_yes(holds)} |" for target, measured, share, goal, holds in rows
    ]
    return "\n".join(lines)


def _yes(holds: bool) -> str:
    return "yes" if holds else "**no**"


if __name__ == "__main__":
    sys.exit(main())
