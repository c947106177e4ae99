"""Warm invocations: bench.worker processes, started here, and what their samples say.

A worker imports its function unconstrained (Lambda's init runs at a full CPU) and joins the CPU-share group, if
any, before measuring: every measured invocation runs at the share.
"""

import json
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cpu_share import CpuShare, quota, run
from bench.fixtures import PROJECT_ROOT
from bench.timing import Samples, block_ratios, ms, us


def column_name(share: CpuShare | None) -> str:
    return "unconstrained" if share is None else f"{share.memory_mb} MB share"


def wall_stat(share: CpuShare | None) -> str:
    """Unconstrained, the median is robust against other tenants. Under a quota, pauses land on some requests and
    not others; the mean is what is billed and the only figure the pauses cannot hide."""
    return "p50" if share is None else "mean"


def run_worker(
    plan: str,
    rounds: dict[str, int],
    share: CpuShare | None,
    environment: dict[str, str],
    *,
    python: Sequence[str],
    backend_url: str = "",
    memory_mb: int = 512,
) -> Any:
    """Runs one bench.worker plan, its stdout (the function's log) to /dev/null; returns its results. `python`: the
    command that runs bench.worker with the function importable (bench.packages.python_running)."""
    with tempfile.TemporaryDirectory() as scratch, quota(share) as group:
        out = Path(scratch) / "result.json"
        argv = [*python, "--plan", plan, "--rounds", json.dumps(rounds), "--out", str(out)]
        argv += ["--backend", backend_url, "--memory", str(share.memory_mb if share else memory_mb)]
        if group is not None:
            argv += ["--group", str(group.procs)]
        run(argv, env=environment, cwd=PROJECT_ROOT, show_stderr=True)
        return json.loads(out.read_text())


@dataclass(frozen=True)
class CaseResult:
    """One case ("GET 1 KB", ...) in one column: the handler, the direct request and the forced floor, interleaved."""

    name: str
    share: CpuShare | None
    samples: Samples

    def wall(self, who: str) -> list[int]:
        return self.samples[who]["wall_ns"]

    def cpu(self, who: str) -> list[int]:
        return self.samples[who]["cpu_ns"]

    @property
    def stat(self) -> str:
        return wall_stat(self.share)

    def cpu_ratios(self) -> list[float]:
        """The handler's CPU time over the direct request's, in each round (the two ran back to back)."""
        return [h / d for h, d in zip(self.cpu("handler"), self.cpu("direct"), strict=True)]

    def cpu_ratio(self) -> float:
        """The median of the rounds' ratios: robust against drifts over the run, which hit both alike."""
        return statistics.median(self.cpu_ratios())

    def cpu_ratio_spread(self) -> list[float]:
        """The same in each fifth of the rounds."""
        ratios = self.cpu_ratios()
        size = max(1, len(ratios) // 5)
        return [statistics.median(ratios[start : start + size]) for start in range(0, min(len(ratios), size * 5), size)]

    def wall_ratio(self) -> float:
        return ms(self.wall("handler"), self.stat) / ms(self.wall("direct"), self.stat)

    def wall_ratio_spread(self) -> list[float]:
        return block_ratios(self.wall("handler"), self.wall("direct"), self.stat)

    def floor_cpu_ratio(self) -> float:
        """handler ÷ (direct + forced floor), CPU time, per round."""
        combined = [d + f for d, f in zip(self.cpu("direct"), self.cpu("floor"), strict=True)]
        return us(self.cpu("handler")) / us(combined)

    def floor_wall_ratio(self) -> float:
        combined = [d + f for d, f in zip(self.wall("direct"), self.wall("floor"), strict=True)]
        return ms(self.wall("handler"), self.stat) / ms(combined, self.stat)


def case_results(results: dict[str, Samples], share: CpuShare | None) -> list[CaseResult]:
    return [CaseResult(name, share, samples) for name, samples in results.items()]
