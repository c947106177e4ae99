"""Cold starts, as Lambda runs them: fresh interpreters (bench/fresh.py) that import the function from its deployment
package (bench.packages) at a full CPU, then run the first invocation at the CPU share of a memory size.

Each round starts the four programs in turn (urllib3, proxy, boto3, authorizer), so a noisy moment can hit any of
them; the init ratios are taken round by round. An init does not depend on the memory size (it is never throttled),
so every round of every memory size counts towards the init figures, and the memory sizes give the ratio's spread.
A few more rounds, unconstrained, import the two functions from their packages without bytecode: what a build
without Python 3.13 costs every cold start. Wall times are spawn to exit as the parent sees them, split by the
child's own clock readings.
"""

import json
import os
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cpu_share import CpuShare, Measured, quota, run
from bench.fixtures import PROJECT_ROOT, proxy_environment
from bench.packages import BASE_PYTHON, ISOLATED, Packages
from bench.services import Backend, SsmStandIn

FRESH = PROJECT_ROOT / "bench" / "fresh.py"
PROGRAMS = ("urllib3", "proxy", "boto3", "authorizer")
FUNCTIONS = ("proxy", "authorizer")  # also started from their packages without bytecode
LABELS = {
    "urllib3": "urllib3: import, PoolManager(); first: the same GET",
    "proxy": "proxy: import the handler; first: a 1 KB GET",
    "boto3": "boto3: import, SSM client; first: GetParameter",
    "authorizer": "authorizer: import the handler; first: a token (one SSM read)",
}
Runs = dict[str, list["ColdStart"]]  # program -> its cold starts, in round order


@dataclass(frozen=True)
class ColdStart:
    """One fresh interpreter, in milliseconds."""

    interpreter_ms: float  # spawn to the program's first line: process start, interpreter
    interpreter_cpu_ms: float
    init_ms: float
    init_cpu_ms: float
    first_ms: float  # the first invocation, at the share
    first_cpu_ms: float
    peak_rss_mb: float  # after the first invocation

    @property
    def until_answered_ms(self) -> float:
        """Spawn to the first answer, as measured here."""
        return self.interpreter_ms + self.init_ms + self.first_ms

    @property
    def first_request_ms(self) -> float:
        """What the first client waits for, bar Lambda's own sandbox and runtime start: the interpreter's start and
        the init on a full vCPU of their own (their CPU time: other tenants of this machine do not stretch it), then
        the first invocation at the share (its wall time)."""
        return self.interpreter_cpu_ms + self.init_cpu_ms + self.first_ms

    @classmethod
    def from_readings(cls, measured: Measured, readings: dict[str, Any]) -> "ColdStart":
        started, init_done = readings["started"], readings["init_done"]
        invoked, answered = readings["invoked"], readings["answered"]
        return cls(
            interpreter_ms=(started[0] - measured.spawned_ns) / 1e6,
            interpreter_cpu_ms=started[1] / 1e6,
            init_ms=(init_done[0] - started[0]) / 1e6,
            init_cpu_ms=(init_done[1] - started[1]) / 1e6,
            first_ms=(answered[0] - invoked[0]) / 1e6,
            first_cpu_ms=(answered[1] - invoked[1]) / 1e6,
            peak_rss_mb=readings["peak_rss_kb"] / 1024,
        )


def _init_ratios(runs: Runs, program: str, yardstick: str) -> list[float]:
    """`program`'s init CPU time over `yardstick`'s, round by round (the two ran back to back)."""
    pairs = zip(runs[program], runs[yardstick], strict=True)
    return [ours.init_cpu_ms / theirs.init_cpu_ms for ours, theirs in pairs]


@dataclass(frozen=True)
class ColdStarts:
    """As packaged: share -> the cold starts with the first invocation at that share (None: unconstrained).
    Without bytecode: the two functions from their packages without it, unconstrained."""

    runs: dict[CpuShare | None, Runs]
    without_bytecode: Runs

    def all_runs(self, program: str) -> list[ColdStart]:
        return [start for by_program in self.runs.values() for start in by_program[program]]

    def init_cpu_ms(self, program: str) -> float:
        return statistics.median(start.init_cpu_ms for start in self.all_runs(program))

    def init_ms(self, program: str) -> float:
        return statistics.median(start.init_ms for start in self.all_runs(program))

    def init_without_bytecode(self, program: str) -> tuple[float, float] | None:
        """Wall and CPU milliseconds of the init from the package without bytecode (None for the yardsticks)."""
        starts = self.without_bytecode.get(program)
        if not starts:
            return None
        return statistics.median(start.init_ms for start in starts), statistics.median(s.init_cpu_ms for s in starts)

    def interpreter_cpu_ms(self) -> float:
        return statistics.median(start.interpreter_cpu_ms for program in PROGRAMS for start in self.all_runs(program))

    def init_ratio(self, program: str, yardstick: str) -> tuple[float, list[float]]:
        """The median of the rounds' init ratios, and its spread: the median within each column."""
        per_column = [_init_ratios(by_program, program, yardstick) for by_program in self.runs.values()]
        everything = [ratio for column in per_column for ratio in column]
        return statistics.median(everything), [statistics.median(column) for column in per_column]

    def first_cpu_ms(self, program: str) -> float:
        return statistics.median(start.first_cpu_ms for start in self.all_runs(program))

    def peak_rss_mb(self, program: str) -> float:
        return max(start.peak_rss_mb for start in self.all_runs(program))

    def first_request_ms(self, share: CpuShare | None, program: str) -> float:
        return statistics.median(start.first_request_ms for start in self.runs[share][program])


class Launcher:
    """Starts fresh interpreters against the bench's services, importing from the deployment packages."""

    def __init__(self, backend: Backend, ssm: SsmStandIn, packages: Packages) -> None:
        self._environments = {
            "urllib3": proxy_environment(backend.url),
            "proxy": proxy_environment(backend.url),
            "boto3": ssm.environment(),
            "authorizer": ssm.environment(),
        }
        self._backend = backend
        self._packages = packages
        self._arguments: dict[str, Any] = {"url": f"{backend.url}/text/1024", "headers": {}}

    def prepare(self) -> None:
        """One unmeasured start of each program each way (the file cache warms), and the headers the proxy sends,
        for urllib3's request."""
        self.start("proxy", None, 512)
        self._arguments["headers"] = dict(self._backend.stats()["last_headers"])
        for program in PROGRAMS:
            self.start(program, None, 512)
        for program in FUNCTIONS:
            self.start(program, None, 512, bytecode=False)

    def start(self, program: str, group: Path | None, memory_mb: int, *, bytecode: bool = True) -> ColdStart:
        arguments = self._arguments | {"group": None if group is None else str(group), "memory_mb": memory_mb}
        packages = self._packages.paths if bytecode else self._packages.without_bytecode
        path = os.pathsep.join(packages[program])
        with tempfile.NamedTemporaryFile(suffix=".json") as result:
            argv = [BASE_PYTHON, *ISOLATED, str(FRESH), program, result.name, path, json.dumps(arguments)]
            measured = run(argv, env=self._environments[program], cwd=PROJECT_ROOT)
            readings = json.loads(Path(result.name).read_text())
        return ColdStart.from_readings(measured, readings)


def measure(
    launcher: Launcher,
    shares: Sequence[CpuShare | None],
    rounds: int,
    no_bytecode_rounds: int,
    say: Callable[[str], None],
) -> ColdStarts:
    runs: dict[CpuShare | None, Runs] = {}
    for share in shares:
        where = "unconstrained" if share is None else f"at the {share.label}"
        say(f"cold starts, first invocation {where}: {rounds} rounds of {len(PROGRAMS)} programs")
        by_program: Runs = {program: [] for program in PROGRAMS}
        memory_mb = 512 if share is None else share.memory_mb
        with quota(share) as group:
            procs = None if group is None else group.procs
            for _ in range(rounds):
                for program in PROGRAMS:
                    by_program[program].append(launcher.start(program, procs, memory_mb))
        runs[share] = by_program
    say(f"cold starts from the packages without bytecode, unconstrained: {no_bytecode_rounds} rounds")
    without: Runs = {program: [] for program in FUNCTIONS}
    for _ in range(no_bytecode_rounds):
        for program in FUNCTIONS:
            without[program].append(launcher.start(program, None, 512, bytecode=False))
    return ColdStarts(runs, without)
