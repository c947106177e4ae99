"""Memory sizing: for each MemorySize, what a client waits for and what a million invocations cost.

Warm figures come from workers at that memory's CPU share (bench.warm), first-request figures from the cold starts
(bench.cold_starts). Lambda bills each invocation's duration rounded up to the millisecond, times the memory, plus a
price per request; since 2025-08-01 the init of an on-demand function is billed the same way.
"""

import math
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.cold_starts import ColdStart
from bench.cpu_share import CpuShare
from bench.fixtures import PROJECT_ROOT, PROXY_CODE, proxy_environment
from bench.packages import Packages, python_running
from bench.services import Backend, SsmStandIn
from bench.timing import Samples
from bench.warm import run_worker

MEMORY_SIZES = [128, 256, 512, 1024, 1769]
# Lambda arm64 on-demand prices, US East (N. Virginia), first duration tier.
ARM_PRICE_PER_GB_SECOND = 0.0000133334
PRICE_PER_REQUEST = 0.20 / 1_000_000
PRICE_SOURCE = "the arm64 price in us-east-1, first tier, from aws.amazon.com/lambda/pricing, read 2026-11-22"
TEMPLATE = PROJECT_ROOT / "template.yaml"


def deployed_memory() -> dict[str, int]:
    """template.yaml's MemorySize of each function (its own, else the Globals one)."""
    from local_gateway.sam_template import load_template  # noqa: PLC0415 - SAM's YAML reader, for the parent only

    template = load_template(TEMPLATE)
    default = template["Globals"]["Function"]["MemorySize"]
    resources = template["Resources"]
    return {
        function: int(resources[name]["Properties"].get("MemorySize", default))
        for function, name in (("proxy", "ProxyFunction"), ("authorizer", "AuthorizerFunction"))
    }


def billed_seconds(duration_ms: float) -> float:
    return math.ceil(duration_ms) / 1000


def cost_per_million(durations_ms: Sequence[float], memory_mb: int) -> float:
    """A million invocations of these durations (their mean bill), at this memory, requests included."""
    seconds = statistics.fmean(billed_seconds(duration) for duration in durations_ms)
    return 1_000_000 * (seconds * memory_mb / 1024 * ARM_PRICE_PER_GB_SECOND + PRICE_PER_REQUEST)


def wall_ms(samples: Samples, who: str) -> list[float]:
    return [ns / 1e6 for ns in samples[who]["wall_ns"]]


@dataclass(frozen=True)
class MemoryRow:
    share: CpuShare
    proxy: Samples  # 1 KB GET: handler and direct
    authorizations: Samples  # the token store cached (TokenCacheSeconds)
    store_reads: Samples  # the token store read from SSM on each authorization, and the SDK's own GetParameter

    @property
    def memory_mb(self) -> int:
        return self.share.memory_mb

    def proxy_cost(self, backend_ms: float = 0) -> float:
        return cost_per_million([ms + backend_ms for ms in wall_ms(self.proxy, "handler")], self.memory_mb)

    def authorization_cost(self, samples: Samples) -> float:
        return cost_per_million(wall_ms(samples, "authorizer"), self.memory_mb)

    def cold_start_cost(self, starts: list[ColdStart]) -> float:
        """A million cold starts: each bills its init (the interpreter's start included, on a full vCPU) with its
        first invocation, as one request."""
        return cost_per_million([start.first_request_ms for start in starts], self.memory_mb)


def measure_rows(
    backend: Backend, ssm: SsmStandIn, packages: Packages, rounds: tuple[int, int, int], say: Callable[[str], None]
) -> list[MemoryRow]:
    """rounds: proxy requests, authorizations with the store cached, authorizations reading the store. Each worker
    runs its function from the deployment package."""
    proxy_rounds, authorization_rounds, store_read_rounds = rounds
    proxy_python = python_running("bench.worker", packages.paths["proxy"])
    authorizer_python = python_running("bench.worker", packages.paths["authorizer"])
    rows = []
    for memory_mb in MEMORY_SIZES:
        share = CpuShare(memory_mb)
        say(f"memory table, {share.label}: warm proxy and authorizer")
        proxy_env = proxy_environment(backend.url)
        proxy = run_worker(
            "rounds", {"1 KB": proxy_rounds}, share, proxy_env, python=proxy_python, backend_url=backend.url
        )
        cached_env, reads_env = ssm.environment(), ssm.environment(token_cache_seconds=0)
        cached = run_worker(
            "authorizations", {"1 KB": authorization_rounds}, share, cached_env, python=authorizer_python
        )
        reads = run_worker("store-reads", {"1 KB": store_read_rounds}, share, reads_env, python=authorizer_python)
        rows.append(MemoryRow(share, proxy, cached, reads))
    return rows


PEAK_PROGRAM = """
import sys
sys.path[:0] = [{proxy_code!r}, {root!r}]
from proxy.handler import lambda_handler
from bench.fixtures import SIZES, lambda_context, proxy_event, text_body
size = SIZES["5 MB"]
for event in (proxy_event("POST", "/upload", text_body(size)), proxy_event("GET", f"/text/{{size}}", b"")):
    assert lambda_handler(event, lambda_context())["statusCode"] in (200, 204)
with open("/proc/self/status") as status:
    print(next(line for line in status if line.startswith("VmHWM:")).split()[1], file=sys.stderr)
"""


def proxy_peak_rss_mb(backend: Backend) -> float:
    """A fresh process handling a 5 MB request and a 5 MB response: the most a container holds at once. VmHWM
    starts afresh at exec (the kernel's ru_maxrss would carry over this parent's size from the fork)."""
    program = PEAK_PROGRAM.format(proxy_code=str(PROXY_CODE), root=str(PROJECT_ROOT))
    result = subprocess.run(  # noqa: S603 - our interpreter, our program
        [sys.executable, "-c", program],
        env=proxy_environment(backend.url),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stderr.strip().splitlines()[-1]) / 1024
