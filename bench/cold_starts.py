"""Cold starts, as Lambda runs them: fresh interpreters (bench/fresh.py) whose init runs at a full CPU and whose first
invocation runs at the CPU share of a memory size.

Each round starts the four programs in turn (urllib3, proxy, boto3, authorizer), so a noisy moment can hit any of
them; the init ratios are taken within the run. An init does not depend on the memory size (it is never throttled),
so every round of every memory size counts towards the init figures, and the five memory sizes give the ratio's
spread. Wall times are spawn to exit as the parent sees them, split by the child's own clock readings.
"""

import json
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cpu_share import CpuShare, Measured, quota, run
from bench.fixtures import PROJECT_ROOT, proxy_environment
from bench.services import Backend, SsmStandIn

PYTHON = sys.executable
FRESH = PROJECT_ROOT / "bench" / "fresh.py"
PROGRAMS = ("urllib3", "proxy", "boto3", "authorizer")
LABELS = {
    "urllib3": "import urllib3 + PoolManager(); first: the same GET",
    "proxy": "proxy: import the handler module; first: a 1 KB GET",
    "boto3": "import boto3 + SSM client; first: GetParameter",
    "authorizer": "authorizer: import the handler module; first: a token (one SSM read)",
}


@dataclass(frozen=True)
class ColdStart:
    """One fresh interpreter, in milliseconds."""

    interpreter_ms: float  # spawn to the program's first line: process start, interpreter, site
    init_ms: float
    init_cpu_ms: float
    first_ms: float  # the first invocation, at the share
    first_cpu_ms: float
    peak_rss_mb: float  # after the first invocation

    @property
    def until_answered_ms(self) -> float:
        """Spawn to the first answer: what the first client waits for, bar Lambda's own sandbox and runtime start."""
        return self.interpreter_ms + self.init_ms + self.first_ms

    @classmethod
    def from_readings(cls, measured: Measured, readings: dict[str, Any]) -> "ColdStart":
        started, init_done = readings["started"], readings["init_done"]
        invoked, answered = readings["invoked"], readings["answered"]
        return cls(
            interpreter_ms=(started[0] - measured.spawned_ns) / 1e6,
            init_ms=(init_done[0] - started[0]) / 1e6,
            init_cpu_ms=(init_done[1] - started[1]) / 1e6,
            first_ms=(answered[0] - invoked[0]) / 1e6,
            first_cpu_ms=(answered[1] - invoked[1]) / 1e6,
            peak_rss_mb=readings["peak_rss_kb"] / 1024,
        )


@dataclass(frozen=True)
class ColdStarts:
    """share -> program -> the cold starts measured with the first invocation at that share (None: unconstrained)."""

    runs: dict[CpuShare | None, dict[str, list[ColdStart]]]

    def all_runs(self, program: str) -> list[ColdStart]:
        return [start for by_program in self.runs.values() for start in by_program[program]]

    def init_cpu_ms(self, program: str) -> float:
        return statistics.median(start.init_cpu_ms for start in self.all_runs(program))

    def init_ms(self, program: str) -> float:
        return statistics.median(start.init_ms for start in self.all_runs(program))

    def interpreter_ms(self) -> float:
        return statistics.median(start.interpreter_ms for program in PROGRAMS for start in self.all_runs(program))

    def init_ratio(self, program: str, yardstick: str) -> tuple[float, list[float]]:
        """The median over all rounds of `program`'s init CPU time over `yardstick`'s in the same round, and the
        same median within each column (its spread)."""

        def ratios(by_program: dict[str, list[ColdStart]]) -> list[float]:
            pairs = zip(by_program[program], by_program[yardstick], strict=True)
            return [ours.init_cpu_ms / theirs.init_cpu_ms for ours, theirs in pairs]

        per_column = [statistics.median(ratios(by_program)) for by_program in self.runs.values()]
        return statistics.median(r for by_program in self.runs.values() for r in ratios(by_program)), per_column

    def first_ms(self, share: CpuShare | None, program: str) -> float:
        return statistics.median(start.first_ms for start in self.runs[share][program])

    def first_cpu_ms(self, program: str) -> float:
        return statistics.median(start.first_cpu_ms for start in self.all_runs(program))

    def peak_rss_mb(self, program: str) -> float:
        return max(start.peak_rss_mb for start in self.all_runs(program))

    def until_answered_ms(self, share: CpuShare | None, program: str) -> float:
        return statistics.median(start.until_answered_ms for start in self.runs[share][program])


class Launcher:
    """Starts fresh interpreters against the bench's services."""

    def __init__(self, backend: Backend, ssm: SsmStandIn) -> None:
        self._environments = {
            "urllib3": proxy_environment(backend.url),
            "proxy": proxy_environment(backend.url),
            "boto3": ssm.environment(),
            "authorizer": ssm.environment(),
        }
        self._backend = backend
        self._arguments: dict[str, Any] = {"url": f"{backend.url}/text/1024", "headers": {}}

    def prepare(self) -> None:
        """One unmeasured start of each program (the file cache warms, bytecode is written), and the headers the
        proxy sends, for urllib3's request."""
        self.start("proxy", None, 512)
        self._arguments["headers"] = dict(self._backend.stats()["last_headers"])
        for program in PROGRAMS:
            self.start(program, None, 512)

    def start(self, program: str, group: Path | None, memory_mb: int) -> ColdStart:
        arguments = self._arguments | {"group": None if group is None else str(group), "memory_mb": memory_mb}
        with tempfile.NamedTemporaryFile(suffix=".json") as result:
            argv = [PYTHON, str(FRESH), program, result.name, json.dumps(arguments)]
            measured = run(argv, env=self._environments[program], cwd=PROJECT_ROOT)
            readings = json.loads(Path(result.name).read_text())
        return ColdStart.from_readings(measured, readings)


def measure(
    launcher: Launcher, shares: Sequence[CpuShare | None], rounds: int, say: Callable[[str], None]
) -> ColdStarts:
    runs: dict[CpuShare | None, dict[str, list[ColdStart]]] = {}
    for share in shares:
        where = "unconstrained" if share is None else f"at the {share.label}"
        say(f"cold starts, first invocation {where}: {rounds} rounds of {len(PROGRAMS)} programs")
        by_program: dict[str, list[ColdStart]] = {program: [] for program in PROGRAMS}
        memory_mb = 512 if share is None else share.memory_mb
        with quota(share) as group:
            procs = None if group is None else group.procs
            for _ in range(rounds):
                for program in PROGRAMS:
                    by_program[program].append(launcher.start(program, procs, memory_mb))
        runs[share] = by_program
    return ColdStarts(runs)
