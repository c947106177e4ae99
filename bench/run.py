"""`make bench`: what the proxy costs, measured side by side on 127.0.0.1, unconstrained and at Lambda's CPU share.

The backend (bench.backend) and the SSM stand-in (moto server) run in their own processes, unconstrained: they stand
for other machines. Only the measured client runs under the CPU quota (bench.cpu_share): the worker process that
calls the handler and its yardsticks (bench.worker), or the fresh interpreter of a cold start.

1. Per request: the handler vs a direct urllib3 request carrying the same headers, with the floor the Lambda event
   format forces (base64-decoding a request body, JSON-encoding a response body); CPU time and wall time.
2. Where one warm 1 KB request's time goes, and the alternatives each part was chosen over.
3. Cold starts: a fresh interpreter up to the first answer, vs a bare interpreter importing urllib3 and making the
   same request; the authorizer up to its first answer (one SSM read).
4. Memory: peak allocations and peak RSS for 5 MB bodies; the memory table (warm, cold, RSS and cost per MemorySize).
5. The full local chain, and backend connections over 1,000 warm invocations.

    python -m bench.run [--quick] [--no-share]
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_ROOT)]

import urllib3

from bench.cpu_share import CpuShare, Measured, cgroup_layout, held_to, run
from bench.load import free_loopback_port
from bench.worker import proxy_event

PYTHON = sys.executable
# The share of the function's configured MemorySize that the second column is measured at.
DEPLOYED_SHARE = CpuShare(256)
MEMORY_SIZES = [128, 256, 512, 1024, 1769]
# Lambda arm64 on-demand prices, US East (N. Virginia), first duration tier; see README "Performance".
ARM_PRICE_PER_GB_SECOND = 0.0000133334
PRICE_PER_REQUEST = 0.20 / 1_000_000
PRICE_SOURCE = "aws.amazon.com/lambda/pricing (arm64, us-east-1, first tier), read 2026-11-22"
TOKENS_PARAMETER = "/bench/client-tokens"
BENCH_TOKEN = "bench-token-not-a-secret"  # noqa: S105 - a throwaway token for a local measurement
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/v1/GET/orders"


@dataclass(frozen=True)
class Plan:
    warm_rounds: dict[str, int]
    share_rounds: dict[str, int]
    breakdown_rounds: int
    cold_runs: int
    memory_rounds: int
    memory_cold_runs: int


FULL = Plan(
    warm_rounds={"1 KB": 3000, "100 KB": 500, "5 MB": 20},
    share_rounds={"1 KB": 2000, "5 MB": 10},
    breakdown_rounds=2000,
    cold_runs=15,
    memory_rounds=400,
    memory_cold_runs=5,
)
QUICK = Plan(
    warm_rounds={"1 KB": 500, "5 MB": 5},
    share_rounds={"1 KB": 300, "5 MB": 3},
    breakdown_rounds=300,
    cold_runs=4,
    memory_rounds=100,
    memory_cold_runs=2,
)


def say(message: str) -> None:
    """Progress, on stderr, so stdout holds only the tables."""
    print(f"… {message}", file=sys.stderr, flush=True)


# ---- statistics -------------------------------------------------------------------------------------------------


def ms(ns: Sequence[int] | Sequence[float], stat: str = "p50") -> float:
    values = list(ns)
    if stat == "mean":
        return statistics.fmean(values) / 1e6
    if stat == "p99":
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] / 1e6
    return statistics.median(values) / 1e6


def us(ns: Sequence[int]) -> float:
    return statistics.median(ns) / 1e3


def block_ratios(numerator: list[int], denominator: list[int], stat: str, blocks: int = 5) -> list[float]:
    """The ratio in each fifth of the rounds: how much it moved within the run."""
    size = max(1, len(numerator) // blocks)
    ratios = []
    for start in range(0, size * blocks, size):
        top, bottom = numerator[start : start + size], denominator[start : start + size]
        if top and bottom:
            ratios.append(ms(top, stat) / ms(bottom, stat))
    return ratios


def spread(values: Sequence[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}"


def wall_stat(share: CpuShare | None) -> str:
    """Unconstrained, the median is robust against other tenants. Under a quota, pauses land on some requests and
    not others; the mean is what is billed and the only figure the pauses cannot hide."""
    return "p50" if share is None else "mean"


def column_name(share: CpuShare | None) -> str:
    return "unconstrained" if share is None else f"{share.memory_mb} MB share"


# ---- processes ----------------------------------------------------------------------------------------------------


def deployed_proxy_environment(backend_url: str) -> dict[str, str]:
    """template.yaml's ProxyFunction variables, with its defaults; nothing that would load the X-Ray SDK."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BACKEND_", "POWERTOOLS_", "AWS_", "_X_AMZN", "AUTH_", "INTEGRATION_", "CORS_"))
    }
    return inherited | {
        "BACKEND_URL": backend_url,
        "BACKEND_TIMEOUT_SECONDS": "20",
        "INTEGRATION_MODE": "VTL",
        "AUTH_MODE": "TOKEN",
        "API_KEY_REQUIRED": "false",
        "FORWARD_GATEWAY_CREDENTIALS": "false",
        "CORS_ALLOW_ORIGIN": "",
        "POWERTOOLS_SERVICE_NAME": "private-api-proxy",
        "POWERTOOLS_METRICS_NAMESPACE": "PrivateApiProxy",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "bench-proxy",
    }


class Backend:
    """bench.backend in its own process, as the private service is a separate machine."""

    def __init__(self) -> None:
        port = free_loopback_port()
        command = [PYTHON, "-m", "bench.backend", "--port", str(port)]
        self._process = subprocess.Popen(command, cwd=PROJECT_ROOT)  # noqa: S603 - our interpreter, fixed arguments
        self.url = f"http://127.0.0.1:{port}"
        self._stats = urllib3.PoolManager(maxsize=1, retries=urllib3.Retry(connect=100, backoff_factor=0.05))
        self.connections_opened()  # waits until it listens

    def connections_opened(self) -> int:
        count: int = self._stats.request("GET", f"{self.url}/stats").json()["connections_opened"]
        return count

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


class SsmStandIn:
    """moto in server mode on 127.0.0.1, holding the token parameter: what the authorizer's SSM read talks to."""

    def __init__(self) -> None:
        port = free_loopback_port()
        moto_server = Path(PYTHON).with_name("moto_server")
        self._process = subprocess.Popen(  # noqa: S603 - the venv's moto_server, fixed arguments
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        self.environment = {
            "AWS_ENDPOINT_URL_SSM": self.url,
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "AKIDBENCHBENCHBENCH0",
            "AWS_SECRET_ACCESS_KEY": "bench-secret-key-not-a-secret",
            "AWS_SESSION_TOKEN": "bench-session-token",
        }
        waiting = urllib3.PoolManager(retries=urllib3.Retry(connect=200, backoff_factor=0.05))
        waiting.request("GET", f"{self.url}/moto-api/")
        self._store_tokens()

    def _store_tokens(self) -> None:
        import hashlib  # noqa: PLC0415

        import boto3  # noqa: PLC0415 - the parent only sets up; it is never measured

        ssm = boto3.client(
            "ssm",
            endpoint_url=self.url,
            region_name="eu-west-1",
            aws_access_key_id="AKIDBENCHBENCHBENCH0",
            aws_secret_access_key="bench-secret-key-not-a-secret",  # noqa: S106
        )
        hashes = {"acme": hashlib.sha256(BENCH_TOKEN.encode()).hexdigest()}
        ssm.put_parameter(Name=TOKENS_PARAMETER, Value=json.dumps(hashes), Type="SecureString", Overwrite=True)

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


def worker(plan: str, rounds: dict[str, int], share: CpuShare | None, backend: Backend) -> tuple[Any, Measured]:
    """Runs bench.worker (under `share`), its stdout (the function's log) to /dev/null; returns its results."""
    with tempfile.TemporaryDirectory() as scratch, held_to(share) as preexec:
        out = Path(scratch) / "result.json"
        argv = [PYTHON, "-m", "bench.worker", "--backend", backend.url, "--plan", plan]
        argv += ["--rounds", json.dumps(rounds), "--out", str(out)]
        measured = run(argv, preexec, env=deployed_proxy_environment(backend.url), cwd=PROJECT_ROOT, show_stderr=True)
        return json.loads(out.read_text()), measured


# ---- 1. per request -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    name: str
    share: CpuShare | None
    samples: dict[str, dict[str, list[int]]]

    def wall(self, who: str) -> list[int]:
        return self.samples[who]["wall_ns"]

    def cpu(self, who: str) -> list[int]:
        return self.samples[who]["cpu_ns"]

    @property
    def stat(self) -> str:
        return wall_stat(self.share)

    def ratio(self) -> float:
        return ms(self.wall("handler"), self.stat) / ms(self.wall("direct"), self.stat)

    def ratio_spread(self) -> list[float]:
        return block_ratios(self.wall("handler"), self.wall("direct"), self.stat)

    def cpu_ratio(self) -> float:
        return us(self.cpu("handler")) / us(self.cpu("direct"))

    def floor_ratio(self) -> float:
        """handler ÷ (direct + forced floor), per round."""
        combined = [d + f for d, f in zip(self.wall("direct"), self.wall("floor"), strict=True)]
        return ms(self.wall("handler"), self.stat) / ms(combined, self.stat)


def per_request_table(results: list[CaseResult]) -> str:
    rows = [
        "| Case | column | direct wall p50 / mean ms | handler wall p50 / mean ms | forced floor ms "
        "| CPU µs direct / handler | handler ÷ direct, wall (spread) | CPU | handler ÷ (direct + floor) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case in results:
        rows.append(
            f"| {case.name} | {column_name(case.share)} | {ms(case.wall('direct')):.3f} / "
            f"{ms(case.wall('direct'), 'mean'):.3f} | {ms(case.wall('handler')):.3f} / "
            f"{ms(case.wall('handler'), 'mean'):.3f} | {ms(case.wall('floor')):.3f} | "
            f"{us(case.cpu('direct')):.0f} / {us(case.cpu('handler')):.0f} | "
            f"**{case.ratio():.2f}×** ({spread(case.ratio_spread())}) | {case.cpu_ratio():.2f}× | "
            f"{case.floor_ratio():.2f}× |"
        )
    return (
        "\n## 1. Per request: handler vs a direct urllib3 request (same headers, same backend)\n\n"
        "Wall ratio: medians unconstrained, means at the share (quota pauses land on single requests; the mean is "
        "what is billed). Spread: the ratio in each fifth of the rounds.\n\n" + "\n".join(rows)
    )


# ---- 2. breakdown ---------------------------------------------------------------------------------------------------


def breakdown_table(samples: dict[str, dict[str, list[int]]], share: CpuShare | None) -> str:
    from bench import components  # noqa: PLC0415

    return components.table(samples, column_name(share))


# ---- 3. cold starts -------------------------------------------------------------------------------------------------

PROXY_COLD = "proxy: import + config + first request"
FLOOR_COLD = "floor: import urllib3 + the same request"
AUTHORIZER_COLD = "authorizer: import + first SSM read + Allow"
SDK_COLD = "reference: import boto3 + SSM client + GetParameter"
BARE = "interpreter alone"


CONTEXT_CLASS = """
class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "cold-start"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 29000
"""


def cold_programs(backend: Backend, ssm: SsmStandIn) -> dict[str, tuple[str, dict[str, str]]]:
    """name -> (python -c program, environment). Each builds its inputs from literals: no extra imports."""
    event = proxy_event("GET", "/text/1024", b"")
    proxy_env = deployed_proxy_environment(backend.url)
    headers = _headers_the_proxy_sends(event, proxy_env)
    authorizer_env = {
        **{name: value for name, value in proxy_env.items() if not name.startswith(("BACKEND_", "POWERTOOLS_"))},
        **ssm.environment,
        "AUTH_TOKENS_PARAMETER": TOKENS_PARAMETER,
        "TOKEN_CACHE_SECONDS": "60",
        "POWERTOOLS_SERVICE_NAME": "private-api-authorizer",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AWS_LAMBDA_FUNCTION_NAME": "bench-authorizer",
    }
    url = f"{backend.url}/text/1024"
    token_event = {"type": "TOKEN", "authorizationToken": f"Bearer {BENCH_TOKEN}", "methodArn": METHOD_ARN}
    return {
        BARE: ("pass", proxy_env),
        FLOOR_COLD: (
            f"import urllib3\nurllib3.PoolManager().request('GET', {url!r}, headers={headers!r}).data",
            proxy_env,
        ),
        PROXY_COLD: (
            f"import sys\nsys.path.insert(0, {str(PROJECT_ROOT / 'proxy_fn')!r})\n"
            "from proxy.handler import lambda_handler\n"
            f"{CONTEXT_CLASS}\n"
            f"assert lambda_handler({event!r}, Context())['statusCode'] == 200\n",
            proxy_env,
        ),
        AUTHORIZER_COLD: (
            f"import sys\nsys.path.insert(0, {str(PROJECT_ROOT / 'authorizer_fn')!r})\n"
            "from authorizer.handler import lambda_handler\n"
            f"{CONTEXT_CLASS}\n"
            f"result = lambda_handler({token_event!r}, Context())\n"
            "assert result['policyDocument']['Statement'][0]['Effect'] == 'Allow', result\n",
            authorizer_env,
        ),
        SDK_COLD: (
            f"import boto3\nboto3.client('ssm').get_parameter(Name={TOKENS_PARAMETER!r}, WithDecryption=True)\n",
            authorizer_env,
        ),
    }


def _headers_the_proxy_sends(event: dict[str, Any], environment: dict[str, str]) -> dict[str, str]:
    """The floor's request carries the proxy's headers, as the warm yardstick does (computed in a child: the parent
    never imports the handler)."""
    program = (
        f"import sys, json\nsys.path[:0] = [{str(PROJECT_ROOT / 'proxy_fn')!r}]\n"
        "from proxy.config import load_config\nfrom proxy.event import parse_event\n"
        "from proxy.upstream import build_upstream_request\nimport os\n"
        "config = load_config(os.environ)\n"
        f"upstream = build_upstream_request(parse_event({event!r}), config.backend, withheld=config.withheld_headers)\n"
        "print(json.dumps(dict(upstream.headers)))\n"
    )
    output = subprocess.run(  # noqa: S603 - our interpreter, our program
        [PYTHON, "-c", program], capture_output=True, text=True, check=True, env=environment
    )
    headers: dict[str, str] = json.loads(output.stdout)
    return headers


@dataclass(frozen=True)
class ColdResult:
    share: CpuShare | None
    runs: dict[str, list[Measured]]

    def wall_ms(self, name: str) -> float:
        return statistics.median(run.wall_s for run in self.runs[name]) * 1000

    def cpu_ms(self, name: str) -> float:
        return statistics.median(run.cpu_s for run in self.runs[name]) * 1000

    def ratio(self, name: str, floor: str) -> tuple[float, list[float]]:
        """Median ratio, and the ratio of each round (the two ran back to back)."""
        pairs = [a.wall_s / b.wall_s for a, b in zip(self.runs[name], self.runs[floor], strict=True)]
        return self.wall_ms(name) / self.wall_ms(floor), pairs


def cold_starts(
    programs: dict[str, tuple[str, dict[str, str]]], share: CpuShare | None, runs: int, names: Sequence[str]
) -> ColdResult:
    """Fresh interpreters, the programs interleaved round by round; wall time from spawn to exit."""
    results: dict[str, list[Measured]] = {name: [] for name in names}
    with held_to(share) as preexec:
        for round_number in range(runs):
            for name in names:
                program, environment = programs[name]
                results[name].append(run([PYTHON, "-c", program], preexec, env=environment, cwd=PROJECT_ROOT))
            if round_number == 0 or (round_number + 1) % 5 == 0:
                say(f"cold starts, {column_name(share)}: round {round_number + 1} of {runs}")
    return ColdResult(share, results)


def cold_table(results: list[ColdResult]) -> str:
    header = "| Fresh interpreter → first answer | " + " | ".join(
        f"{column_name(result.share)}: wall ms (CPU ms)" for result in results
    )
    rows = [header + " |", "| --- |" + " --- |" * len(results)]
    for name in results[0].runs:
        cells = [
            f"{result.wall_ms(name):.0f} ({result.cpu_ms(name):.0f})" if name in result.runs else "—"
            for result in results
        ]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    for label, name, floor in (
        ("proxy ÷ floor", PROXY_COLD, FLOOR_COLD),
        ("authorizer ÷ SDK reference", AUTHORIZER_COLD, SDK_COLD),
    ):
        cells = []
        for result in results:
            if name not in result.runs or floor not in result.runs:
                cells.append("—")
                continue
            ratio, per_round = result.ratio(name, floor)
            cells.append(f"**{ratio:.2f}×** ({spread(per_round)})")
        rows.append(f"| {label} (spread over rounds) | " + " | ".join(cells) + " |")
    runs = len(next(iter(results[0].runs.values())))
    return (
        f"\n## 3. Cold starts (median of {runs} fresh interpreters each, interleaved round by round)\n\n"
        "Spawn to exit of `python -c`: interpreter start, imports, configuration and the first request (the "
        "authorizer: its first SSM read, on moto in server mode). Lambda's own runtime start is not included, in "
        "any row.\n\n" + "\n".join(rows)
    )


# ---- 4. memory ------------------------------------------------------------------------------------------------------


PEAK_PROGRAM = """
import sys
sys.path.insert(0, {proxy_fn!r})
from proxy.handler import lambda_handler
{context}
for event in ({post!r}, {get!r}):
    assert lambda_handler(event, Context())["statusCode"] in (200, 204)
"""


HIGH_WATER_MARK = """
import sys
with open("/proc/self/status") as status:
    print([line for line in status if line.startswith("VmHWM:")][0].split()[1], file=sys.stderr)
"""


def high_water_mb(program: str, environment: dict[str, str]) -> float:
    """Peak RSS of a fresh process running `program`: its VmHWM, which starts afresh at exec (the kernel's
    ru_maxrss would carry over this parent's size from the fork)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py") as script:
        script.write(program + HIGH_WATER_MARK)
        script.flush()
        result = subprocess.run(  # noqa: S603 - our interpreter, our program
            [PYTHON, script.name], env=environment, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        )
    return int(result.stderr.strip().splitlines()[-1]) / 1024


def proxy_peak_rss_mb(backend: Backend) -> float:
    """A fresh process handling a 5 MB request and a 5 MB response: the most a container holds at once."""
    from bench.worker import text_body  # noqa: PLC0415

    size = 5 * 1024 * 1024
    program = PEAK_PROGRAM.format(
        proxy_fn=str(PROJECT_ROOT / "proxy_fn"),
        context=CONTEXT_CLASS,
        post=proxy_event("POST", "/upload", text_body(size)),
        get=proxy_event("GET", f"/text/{size}", b""),
    )
    return high_water_mb(program, deployed_proxy_environment(backend.url))


def cost_per_million(samples_ns: list[int], memory_mb: int, backend_ms: float = 0) -> float:
    """Duration (each request rounded up to the millisecond) times memory, plus the request price."""
    seconds = statistics.fmean(math.ceil(sample / 1e6 + backend_ms) for sample in samples_ns) / 1000
    return 1_000_000 * (seconds * memory_mb / 1024 * ARM_PRICE_PER_GB_SECOND + PRICE_PER_REQUEST)


@dataclass(frozen=True)
class MemoryRow:
    memory_mb: int
    warm: dict[str, dict[str, list[int]]]
    cold: ColdResult


def memory_table(rows: list[MemoryRow], proxy_rss: float, authorizer_rss: float) -> str:
    lines = [
        "| MemorySize | CPU share | proxy warm 1 KB GET p50 / mean ms | proxy cold start ms | authorizer cold start ms "
        "| $ per 1M warm proxy requests (loopback backend) | the same with a 20 ms backend (computed) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        handler = row.warm["handler"]["wall_ns"]
        lines.append(
            f"| {row.memory_mb} MB | {row.memory_mb / 1769:.3f} CPU | {ms(handler):.2f} / {ms(handler, 'mean'):.2f} | "
            f"{row.cold.wall_ms(PROXY_COLD):.0f} | {row.cold.wall_ms(AUTHORIZER_COLD):.0f} | "
            f"${cost_per_million(handler, row.memory_mb):.3f} | ${cost_per_million(handler, row.memory_mb, 20):.3f} |"
        )
    return (
        "\n## 4b. Memory table (each MemorySize's CPU share; 1 KB GET against a loopback backend)\n\n"
        f"Peak RSS: proxy {proxy_rss:.0f} MB (a 5 MB request and a 5 MB response in one fresh process), "
        f"authorizer {authorizer_rss:.0f} MB (import and first read): each process's VmHWM, without the Lambda "
        "runtime's own. Cost: the measured duration rounded up to the millisecond per request, times memory, at "
        f"${ARM_PRICE_PER_GB_SECOND:.10f} per GB-second, plus $0.20 per million requests ({PRICE_SOURCE}). A "
        "real backend's response time is billed too, at the same rate per GB: the last column adds 20 ms to each "
        "measured request.\n\n" + "\n".join(lines)
    )


# ---- main -----------------------------------------------------------------------------------------------------------


@contextmanager
def services() -> Iterator[tuple[Backend, SsmStandIn]]:
    with ExitStack() as stack:
        say("starting the backend (bench.backend) and the SSM stand-in (moto server), unconstrained")
        backend = Backend()
        stack.callback(backend.stop)
        ssm = SsmStandIn()
        stack.callback(ssm.stop)
        yield backend, ssm


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run, not for the README)")
    parser.add_argument("--no-share", action="store_true", help="skip the CPU-share columns and the memory table")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    layout = cgroup_layout()
    shares: list[CpuShare | None] = [None]
    if args.no_share:
        print("Skipping the Lambda CPU-share columns: --no-share.")
    elif isinstance(layout, str):
        print(f"Skipping the Lambda CPU-share columns and the memory table: {layout}.")
    else:
        shares.append(DEPLOYED_SHARE)
        print(f"CPU share columns: cgroup {layout[0]} quota at {layout[1]}, period {20} ms.")
    print(f"Python {sys.version.split()[0]} on {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start.")
    started = time.monotonic()
    sections: list[str] = []
    with services() as (backend, ssm):
        per_request: list[CaseResult] = []
        for share in shares:
            rounds = plan.warm_rounds if share is None else plan.share_rounds
            say(f"per-request rounds, {column_name(share)}: {rounds}")
            result, _ = worker("warm", rounds, share, backend)
            per_request += [CaseResult(name, share, samples) for name, samples in result.items()]
        sections.append(per_request_table(sorted(per_request, key=_case_order)))
        print(sections[-1], flush=True)

        for share in shares:
            say(f"component breakdown, {column_name(share)}: {plan.breakdown_rounds} rounds")
            samples, _ = worker("breakdown", {"1 KB": plan.breakdown_rounds}, share, backend)
            sections.append(breakdown_table(samples, share))
            print(sections[-1], flush=True)

        programs = cold_programs(backend, ssm)
        # The SDK reference only unconstrained: at the share each run takes about 6 s.
        names = [BARE, FLOOR_COLD, PROXY_COLD, AUTHORIZER_COLD]
        cold = [
            cold_starts(programs, share, plan.cold_runs, [*names, SDK_COLD] if share is None else names)
            for share in shares
        ]
        sections.append(cold_table(cold))
        print(sections[-1], flush=True)

        say("extras: tracemalloc peaks, the local chain, backend connections (unconstrained)")
        extras, _ = worker("extras", {"1 KB": 300}, None, backend)
        sections.append(extras_sections(extras))
        print(sections[-1], flush=True)

        if len(shares) > 1:
            rows = memory_rows(programs, plan, backend)
            say("peak RSS: 5 MB bodies through the proxy; the authorizer's first read")
            authorizer_rss = high_water_mb(*programs[AUTHORIZER_COLD])
            sections.append(memory_table(rows, proxy_peak_rss_mb(backend), authorizer_rss))
            print(sections[-1], flush=True)
        print(targets_table(per_request, cold), flush=True)
    print(f"\n(make bench took {time.monotonic() - started:.0f} s)")
    return 0


def targets_table(per_request: list[CaseResult], cold: list[ColdResult]) -> str:
    """Issue 13's targets, each a ratio measured side by side in this run."""
    shares = [result.share for result in cold]
    cases = {(case.name, case.share): case for case in per_request}
    rows = [
        "| Target | " + " | ".join(column_name(share) for share in shares) + " | goal | holds |",
        "| --- |" + " --- |" * (len(shares) + 2),
    ]

    def row(label: str, cells: list[tuple[float, str]], goal: float, judged: list[bool]) -> None:
        holds = all(value <= goal for (value, _), judge in zip(cells, judged, strict=True) if judge)
        shown = " | ".join(f"{value:.2f}× ({note})" for value, note in cells)
        rows.append(f"| {label} | {shown} | ≤ {goal}× | {'yes' if holds else '**no**'} |")

    everywhere = [True] * len(shares)
    for method in ("GET", "POST"):
        warm = [cases[(f"{method} 1 KB", share)] for share in shares]
        cells = [(case.ratio(), spread(case.ratio_spread())) for case in warm]
        row(f"warm 1 KB {method}: handler ÷ direct (spread)", cells, 1.15, everywhere)
    starts = [result.ratio(PROXY_COLD, FLOOR_COLD) for result in cold]
    at_share = [share is not None for share in shares] if len(shares) > 1 else everywhere  # the goal's column
    row("cold start: proxy ÷ floor (spread)", [(r, spread(rounds)) for r, rounds in starts], 1.3, at_share)
    for method in ("GET", "POST"):
        big = [cases[(f"{method} 5 MB", share)] for share in shares]
        row(
            f"5 MB {method}: handler ÷ (direct + forced floor)",
            [(c.floor_ratio(), "medians" if c.share is None else "means") for c in big],
            1.2,
            everywhere,
        )
    authorizer = " | ".join(f"{result.wall_ms(AUTHORIZER_COLD):.0f} ms" for result in cold)
    rows.append(f"| authorizer cold start (import, first SSM read, Allow) | {authorizer} | as small as it gets | — |")
    return "\n## Targets (issue 13), from this run\n\n" + "\n".join(rows)


def memory_rows(programs: dict[str, tuple[str, dict[str, str]]], plan: Plan, backend: Backend) -> list[MemoryRow]:
    rows = []
    for memory_mb in MEMORY_SIZES:
        share = CpuShare(memory_mb)
        say(f"memory table: {share.label}")
        warm, _ = worker("rounds", {"1 KB": plan.memory_rounds}, share, backend)
        cold_result = cold_starts(programs, share, plan.memory_cold_runs, [PROXY_COLD, AUTHORIZER_COLD])
        rows.append(MemoryRow(memory_mb, warm, cold_result))
    return rows


def extras_sections(extras: dict[str, Any]) -> str:
    chain, handler_alone = extras["chain"], extras["handler"]
    peaks = extras["tracemalloc"]
    return (
        "\n## 4a. Peak memory through the handler (tracemalloc, the event itself excluded)\n\n"
        "| Case | peak allocated MB | ÷ body size |\n| --- | --- | --- |\n"
        + "\n".join(f"| {name} | {peak / 1e6:.1f} | {peak / (5 * 1024 * 1024):.2f}× |" for name, peak in peaks.items())
        + "\n\n## 5. Full local chain vs handler alone (POST 1 KB), and backend connections\n\n"
        "| | p50 ms | p99 ms |\n| --- | --- | --- |\n"
        f"| handler alone | {ms(handler_alone):.2f} | {ms(handler_alone, 'p99'):.2f} |\n"
        f"| request template + handler + response template | {ms(chain):.2f} | {ms(chain, 'p99'):.2f} |\n"
        f"| ratio | {ms(chain) / ms(handler_alone):.2f}× | |\n\n"
        f"New backend connections over 1,000 warm invocations: {extras['connections']} (the container keeps the "
        "one it opened)\n"
    )


def _case_order(case: CaseResult) -> tuple[int, str, int]:
    method, size = case.name.split(" ", 1)
    return (["1 KB", "100 KB", "5 MB"].index(size), method, 0 if case.share is None else case.share.memory_mb)


if __name__ == "__main__":
    sys.exit(main())
