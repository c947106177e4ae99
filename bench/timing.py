"""How the bench times its actions and summarises the times.

Every comparison runs its actions in turn, round after round, in one process: a noisy moment on the shared machine
(or a quota pause) can hit any of them, so their ratio holds far better than any single figure. CPU time is the
process's own (`time.process_time_ns`): other processes on the machine, the backend included, do not add to it.
"""

import statistics
import time
from collections.abc import Callable, Sequence

Action = Callable[[], object]
# action name -> {"wall_ns": [...], "cpu_ns": [...]}, one value per round
Samples = dict[str, dict[str, list[int]]]


def interleaved(actions: dict[str, Action], rounds: int) -> Samples:
    """Runs the actions in turn, `rounds` times, after one unmeasured round (connections open, caches filled)."""
    for action in actions.values():
        action()
    samples: Samples = {name: {"wall_ns": [], "cpu_ns": []} for name in actions}
    clock, cpu = time.perf_counter_ns, time.process_time_ns
    for _ in range(rounds):
        for name, action in actions.items():
            started, cpu_started = clock(), cpu()
            action()
            cpu_ended, ended = cpu(), clock()
            samples[name]["wall_ns"].append(ended - started)
            samples[name]["cpu_ns"].append(cpu_ended - cpu_started)
    return samples


def ms(ns: Sequence[int] | Sequence[float], stat: str = "p50") -> float:
    """A statistic of nanosecond samples, in milliseconds: "p50", "mean" or "p99"."""
    values = list(ns)
    if stat == "mean":
        return statistics.fmean(values) / 1e6
    if stat == "p99":
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] / 1e6
    return statistics.median(values) / 1e6


def us(ns: Sequence[int] | Sequence[float]) -> float:
    """The median of nanosecond samples, in microseconds."""
    return statistics.median(ns) / 1e3


def block_ratios(numerator: Sequence[int], denominator: Sequence[int], stat: str, blocks: int = 5) -> list[float]:
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
