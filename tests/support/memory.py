"""How much memory a process has used, as the kernel counts it."""

from pathlib import Path


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size so far (Linux: VmHWM in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")
