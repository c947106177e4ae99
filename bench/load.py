"""A bounded concurrent load through `make local` (gateway + httpbin, real processes) on 127.0.0.1.

    python -m bench.load [--clients 8] [--requests 2000]

Reports requests/s, p50 and p99, errors, and the gateway's open file descriptors and sockets before and after,
with a progress line every few seconds on stderr.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import urllib3

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STAGE = "v1"  # make local answers under its stage, as the deployed ApiUrl does
LOAD_TOKEN = "load-test-token-not-a-secret"  # noqa: S105 - a throwaway token for a local run


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    fds_before: int
    fds_after: int
    sockets_before: int
    sockets_after: int

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self) -> str:
        return (
            f"{self.requests} requests, {self.errors} errors, {self.requests_per_second:.0f} req/s, "
            f"p50 {statistics.median(self.latencies_ms):.1f} ms, p99 {self.percentile(0.99):.1f} ms; "
            f"gateway fds {self.fds_before} -> {self.fds_after}, sockets {self.sockets_before} -> {self.sockets_after}"
        )


class LocalStack:
    """`python -m local_gateway` as a user runs it, with its own demo backend, stopped with Ctrl-C."""

    def __init__(self) -> None:
        self.port, self.demo_port = free_loopback_port(), free_loopback_port()
        environment = {name: value for name, value in os.environ.items() if not name.startswith(("BACKEND_", "AUTH_"))}
        environment |= {"PYTHONUNBUFFERED": "1", "LOCAL_AUTH_TOKENS": _token_store()}
        ports = ["--port", str(self.port), "--demo-port", str(self.demo_port)]
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            [sys.executable, "-m", "local_gateway", *ports, "--stage", STAGE],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, self.process)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{STAGE}"

    def open_fds(self) -> tuple[int, int]:
        fds = list(Path(f"/proc/{self.process.pid}/fd").iterdir())
        sockets = sum(1 for fd in fds if os.readlink(fd).startswith("socket:"))
        return len(fds), sockets

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=15)


def run(
    url: str, clients: int, requests_per_client: int, progress: "Progress | None" = None
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    done = [0]

    def client(number: int) -> None:
        http = urllib3.PoolManager(maxsize=1, retries=False, timeout=urllib3.Timeout(connect=2, read=30))
        headers = {"Authorization": f"Bearer {LOAD_TOKEN}", "Content-Type": "application/json"}
        mine: list[float] = []
        failed = 0
        for index in range(requests_per_client):
            body = json.dumps({"client": number, "request": index}).encode()
            started = time.perf_counter()
            try:
                response = http.request("POST", f"{url}/anything/load?n={index}", body=body, headers=headers)
                ok = response.status == 200 and response.json()["json"] == {"client": number, "request": index}
            except (urllib3.exceptions.HTTPError, ValueError):
                ok = False
            mine.append((time.perf_counter() - started) * 1000)
            failed += not ok
            with lock:
                done[0] += 1
        http.clear()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 600
    for thread in threads:
        while thread.is_alive() and time.monotonic() < deadline:
            thread.join(timeout=0.5)
            if progress is not None:
                progress.tick(lambda: f"{done[0]:,} of {clients * requests_per_client:,} requests")
    return latencies, errors[0], time.perf_counter() - started


class Progress:
    """A line on `report` at most every `every_seconds`, so a minute-long run never looks stuck."""

    def __init__(self, report: Callable[[str], None], every_seconds: float = 5.0) -> None:
        self._report = report
        self._every = every_seconds
        self._started = self._last = time.monotonic()

    def say(self, message: str) -> None:
        self._report(f"load: {message}")

    def tick(self, message: Callable[[], str]) -> None:
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self.say(f"{message()}, {now - self._started:.0f} s")


def measure(clients: int, requests_per_client: int, progress: Progress | None = None) -> LoadResult:
    if progress is not None:
        progress.say(f"starting make local (gateway + httpbin), then {clients} clients x {requests_per_client:,}")
    stack = LocalStack()
    try:
        run(stack.url, clients, 20)  # warm: cold starts done, the proxy's pool at its steady size
        time.sleep(0.5)
        fds_before, sockets_before = stack.open_fds()
        latencies, errors, seconds = run(stack.url, clients, requests_per_client, progress)
        time.sleep(0.5)  # the clients have closed; let the gateway finish those connections
        fds_after, sockets_after = stack.open_fds()
    finally:
        stack.stop()
    return LoadResult(len(latencies), errors, seconds, latencies, fds_before, fds_after, sockets_before, sockets_after)


def _token_store() -> str:
    sys.path.insert(0, str(PROJECT_ROOT / "authorizer_fn"))
    from authorizer.tokens import hash_token  # noqa: PLC0415 - the authorizer's own hashing, from its folder

    return json.dumps({"load": [hash_token(LOAD_TOKEN)]})


def free_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("make local exited during start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("make local did not start within 30 s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="requests per client")
    args = parser.parse_args(argv)
    result = measure(args.clients, args.requests, Progress(lambda line: print(line, file=sys.stderr, flush=True)))
    print(f"load: {args.clients} clients x {args.requests}: {result.summary()}")
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
