"""Runs a measured process held to the CPU share Lambda gives a function of a given memory size.

"Lambda allocates CPU power in proportion to the amount of memory configured. [...] At 1,769 MB, a function has the
equivalent of one vCPU (one vCPU-second of credits per second)." (AWS Lambda developer guide, configuration-memory)

A cgroup CPU quota does the same on this machine: `quota / period = memory / 1,769 MB` of one CPU. AWS does not
document the period; a third-party measurement saw Lambda pause a function that used up its share at 20 ms
boundaries (pwrdrvr/lambda-dispatch issue 246), and a 20 ms period also spreads the pauses over more requests than
the kernel's default 100 ms, so interleaved rounds converge sooner. cgroup v1 (cpu.cfs_quota_us) and v2 (cpu.max) are
both supported; creating a group needs root.

Lambda throttles the invocations, not the init: "On-demand Lambda functions use a full vCPU (non-throttled) [...]
during its initialization phase" (AWS Serverless Land, "Effectively running Java on serverless", Utilize
initialization phase). So a measured process imports its function at a full CPU and then joins its group
(`join_group`) before its first invocation; `QuotaGroup.preexec` holds a whole process from its start instead.
"""

import contextlib
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LAMBDA_MB_PER_VCPU = 1769
PERIOD_US = 20_000
MIN_QUOTA_US = 1_000  # the kernel refuses a smaller quota
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class CpuShare:
    """The CPU a Lambda function of `memory_mb` gets, as a fraction of one CPU."""

    memory_mb: int

    @property
    def fraction(self) -> float:
        return self.memory_mb / LAMBDA_MB_PER_VCPU

    @property
    def quota_us(self) -> int:
        return max(MIN_QUOTA_US, round(PERIOD_US * self.fraction))

    @property
    def label(self) -> str:
        return f"{self.memory_mb} MB share ({self.fraction:.3f} CPU)"


@dataclass(frozen=True)
class Measured:
    """One child process: wall time seen by the parent, CPU time (user + system) from the kernel's rusage."""

    wall_s: float
    cpu_s: float
    returncode: int
    spawned_ns: int  # time.perf_counter_ns() just before the fork: the child's own clock readings compare with it


def cgroup_layout() -> tuple[str, Path] | str:
    """("v1" | "v2", the directory new groups go in), or why a CPU quota cannot be set here."""
    if os.geteuid() != 0:
        return "not root (a cgroup CPU quota needs root; run `sudo make bench` for the share columns)"
    v1 = CGROUP_ROOT / "cpu"
    if (v1 / "cpu.cfs_quota_us").is_file():
        return "v1", v1
    controllers = CGROUP_ROOT / "cgroup.controllers"
    if controllers.is_file() and "cpu" in controllers.read_text().split():
        return "v2", CGROUP_ROOT
    return "no cgroup cpu controller (neither /sys/fs/cgroup/cpu nor cpu in /sys/fs/cgroup/cgroup.controllers)"


class QuotaGroup:
    """A cgroup limited to `share`; children started with `preexec` run inside it. Use as a context manager."""

    def __init__(self, share: CpuShare) -> None:
        layout = cgroup_layout()
        if isinstance(layout, str):
            raise RuntimeError(layout)
        self.share = share
        self._version, parent = layout
        self.path = parent / f"bench-{os.getpid()}-{share.memory_mb}mb"

    def __enter__(self) -> "QuotaGroup":
        if self._version == "v2":
            _enable_cpu_controller(self.path.parent)
        self.path.mkdir()
        try:
            if self._version == "v1":
                (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (self.path / "cpu.cfs_quota_us").write_text(str(self.share.quota_us))
            else:
                (self.path / "cpu.max").write_text(f"{self.share.quota_us} {PERIOD_US}")
        except BaseException:
            self.path.rmdir()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        remove_group(self.path)

    @property
    def procs(self) -> Path:
        """The file a process writes its pid to to join the group (see `join_group`)."""
        return self.path / "cgroup.procs"

    def preexec(self) -> None:
        """Runs in the child between fork and exec: the whole program runs inside the group."""
        join_group(self.procs)

    def throttled_periods(self) -> int:
        """How many quota periods ended with the group's processes paused for having used up their share."""
        stats = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return int(stats["nr_throttled"])


def join_group(procs: Path | str | None) -> None:
    """Moves the calling process into a group (None: stays unconstrained). From then on it gets the group's share."""
    if procs is not None:
        Path(procs).write_text(str(os.getpid()))


def _enable_cpu_controller(parent: Path) -> None:
    control = parent / "cgroup.subtree_control"
    if "cpu" not in control.read_text().split():
        control.write_text("+cpu")


def remove_group(path: Path) -> None:
    """Removes a group this process created; a process still in it (it should have ended) is killed first."""
    if not path.is_dir():
        return
    for _ in range(50):
        pids = [int(line) for line in (path / "cgroup.procs").read_text().split()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        try:
            path.rmdir()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"could not remove {path}: processes remain in it")


@contextmanager
def quota(share: CpuShare | None) -> Iterator[QuotaGroup | None]:
    """A group holding its processes to `share`, removed afterwards; None when `share` is None (unconstrained)."""
    if share is None:
        yield None
        return
    with QuotaGroup(share) as group:
        yield group


def run(
    argv: Sequence[str],
    preexec: Callable[[], None] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 600,
    show_stderr: bool = False,
) -> Measured:
    """Runs `argv` to completion and measures it; stdout is discarded, stderr too unless `show_stderr` or it
    fails."""
    with tempfile.TemporaryFile() as errors:
        spawned_ns = time.perf_counter_ns()
        process = subprocess.Popen(  # noqa: S603 - our interpreter and our own arguments
            argv,
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=None if show_stderr else errors,
            preexec_fn=preexec,  # noqa: PLW1509 - the child joins the cgroup before exec
        )
        watchdog = threading.Timer(timeout_s, process.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        wall = (time.perf_counter_ns() - spawned_ns) / 1e9
        process.returncode = returncode = os.waitstatus_to_exitcode(status)
        if returncode != 0:
            errors.seek(0)
            text = errors.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(argv[:3])} failed ({returncode}):\n{text}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, returncode, spawned_ns)
