"""`make bench`: what the two functions cost, measured side by side on 127.0.0.1, the way Lambda runs them.

Lambda gives a function CPU in proportion to its memory while it is invoked ("At 1,769 MB, a function has the
equivalent of one vCPU"), but runs an on-demand function's init at a full vCPU. So each measured process imports its
function unconstrained and then joins a cgroup that holds it to the memory's CPU share (bench.cpu_share) before its
first invocation. The backend and the SSM stand-in run unconstrained in their own processes (bench.services): they
stand for other machines. Cold starts and warm workers import each function from its deployment package as the
function's Makefile builds it for sam build, bytecode included (bench.packages). Without root there is no quota:
the share columns and the memory tables are left out.

From here down: per request (bench.warm runs bench.worker, which holds bench.cases); where one request's CPU goes
(bench.components); cold starts (bench.cold_starts runs bench/fresh.py); memory sizing (bench.memory); the tables
and the targets (bench.reports).

    python -m bench.run [--quick]
"""

import argparse
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from bench import cold_starts, reports
from bench.cpu_share import PERIOD_US, CpuShare, cgroup_layout
from bench.fixtures import PROXY_CODE, SIZES, proxy_environment
from bench.memory import MEMORY_SIZES, deployed_memory, measure_rows, proxy_peak_rss_mb
from bench.packages import deployment_packages, python_running
from bench.services import Backend, services
from bench.warm import CaseResult, case_results, column_name, run_worker
from bench.worker import TLS_BACKEND, TLS_CA_BUNDLE


@dataclass(frozen=True)
class Plan:
    warm_rounds: dict[str, int]  # unconstrained, per size
    share_rounds: dict[str, int]  # at the proxy's MemorySize share, per size
    breakdown_rounds: int
    cold_rounds: int  # per memory size, each of the four programs, as packaged
    no_bytecode_rounds: int  # each function, from its package without bytecode
    memory_rounds: int  # proxy 1 KB GETs per memory size
    authorization_rounds: int  # authorizations per memory size, the token store cached
    store_read_rounds: int  # authorizations per memory size, the token store read from SSM each time


FULL = Plan(
    warm_rounds={"1 KB": 3000, "100 KB": 500, "5 MB": 20},
    share_rounds={"1 KB": 1000, "5 MB": 8},
    breakdown_rounds=1000,
    cold_rounds=4,
    no_bytecode_rounds=8,
    memory_rounds=400,
    authorization_rounds=400,
    store_read_rounds=16,
)
QUICK = Plan(
    warm_rounds={"1 KB": 300, "5 MB": 4},
    share_rounds={"1 KB": 200, "5 MB": 3},
    breakdown_rounds=150,
    cold_rounds=1,
    no_bytecode_rounds=2,
    memory_rounds=60,
    authorization_rounds=60,
    store_read_rounds=4,
)


STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress, on stderr, so stdout holds only the tables."""
    print(f"… {time.monotonic() - STARTED:3.0f} s: {message}", file=sys.stderr, flush=True)


def emit(section: str) -> None:
    print(f"\n{section}", flush=True)


def per_request(backend: Backend, plan: Plan, shares: Sequence[CpuShare | None], python: list[str]) -> list[CaseResult]:
    results: list[CaseResult] = []
    for share in shares:
        rounds = plan.warm_rounds if share is None else plan.share_rounds
        say(f"per request, {column_name(share)}: {rounds} rounds")
        env = proxy_environment(backend.url)
        samples = run_worker("warm", rounds, share, env, python=python, backend_url=backend.url)
        results += case_results(samples, share)
    sizes = list(SIZES)  # "GET 1 KB", "POST 1 KB", "GET 100 KB", ...; unconstrained first

    def order(case: CaseResult) -> tuple[int, str, bool]:
        return sizes.index(case.name.split(" ", 1)[1]), case.name, case.share is not None

    return sorted(results, key=order)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run, not for the docs")
    plan = QUICK if parser.parse_args(argv).quick else FULL
    layout, memory = cgroup_layout(), deployed_memory()
    proxy_share = None if isinstance(layout, str) else CpuShare(memory["proxy"])
    memory_shares = [None] if isinstance(layout, str) else [CpuShare(size) for size in MEMORY_SIZES]
    if isinstance(layout, str):
        print(f"No CPU share columns and no memory tables: {layout}.")
    else:
        print(f"CPU shares: cgroup {layout[0]} quotas under {layout[1]}, period {PERIOD_US // 1000} ms.")
    print(f"template.yaml MemorySize: proxy {memory['proxy']} MB, authorizer {memory['authorizer']} MB.")
    print(f"Python {sys.version.split()[0]} on {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start.")
    with ExitStack() as stack:
        backend, ssm = stack.enter_context(services())
        packages = deployment_packages(say)
        proxy_python = python_running("bench.worker", packages.paths["proxy"])
        shares = [None, proxy_share] if proxy_share else [None]
        cases = per_request(backend, plan, shares, proxy_python)
        emit(reports.per_request_table(cases))

        breakdowns = {}
        for share in shares:
            say(f"component breakdown, {column_name(share)}: {plan.breakdown_rounds} rounds")
            rounds, env = {"1 KB": plan.breakdown_rounds}, proxy_environment(backend.url)
            breakdowns[column_name(share)] = run_worker(
                "breakdown", rounds, share, env, python=proxy_python, backend_url=backend.url
            )
        emit(reports.breakdown_table(breakdowns))

        launcher = cold_starts.Launcher(backend, ssm, packages)
        launcher.prepare()
        cold = cold_starts.measure(launcher, memory_shares, plan.cold_rounds, plan.no_bytecode_rounds, say)
        emit(reports.cold_start_table(cold))

        if proxy_share:
            counts = (plan.memory_rounds, plan.authorization_rounds, plan.store_read_rounds)
            rows = measure_rows(backend, ssm, packages, counts, say)
            say("peak RSS: 5 MB bodies through the proxy")
            emit(reports.memory_tables(rows, cold, proxy_peak_rss_mb(backend), memory))

        say("extras, unconstrained: tracemalloc peaks, the local chain, backend connections, new TLS connections")
        env = {**proxy_environment(backend.url), TLS_BACKEND: ssm.url, TLS_CA_BUNDLE: str(ssm.ca_bundle)}
        local = python_running("bench.worker", [str(PROXY_CODE)], isolated=False)  # make local's modules too
        extras = run_worker("extras", {"1 KB": 300}, None, env, python=local, backend_url=backend.url)
        emit(reports.extras_sections(extras))
        emit(reports.targets_table(cases, cold))
    print(f"\n(make bench took {time.monotonic() - STARTED:.0f} s; load average {os.getloadavg()[0]:.2f} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
