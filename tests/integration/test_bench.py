"""The pieces `make bench` is built from work (the bench itself runs for minutes and stays out of `make test`)."""

import os
import sys
from pathlib import Path

import pytest

from bench import components
from bench.cpu_share import CGROUP_ROOT, CpuShare, cgroup_layout, held_to, run
from bench.worker import Bench, interleaved
from tests.conftest import ConfigureProxy
from tests.support.backend import RecordingBackend

LOOP = [sys.executable, "-c", "total = 0\nfor i in range(3_000_000): total += i"]


def test_the_share_is_the_memory_over_1769_mb_of_one_cpu() -> None:
    assert CpuShare(1769).fraction == 1
    assert CpuShare(256).quota_us == 2894  # of each 20 ms period
    assert CpuShare(128).quota_us == 1447  # above the kernel's 1 ms minimum


def test_a_process_under_a_share_gets_that_share_and_leaves_no_group_behind() -> None:
    layout = cgroup_layout()
    if isinstance(layout, str):
        pytest.skip(f"no CPU quota here: {layout}")
    share = CpuShare(442)  # a quarter of a CPU: short, and clearly slower

    with held_to(share) as preexec:
        held = run(LOOP, preexec)
    free = run(LOOP, None)

    assert held.wall_s / held.cpu_s > 2.5  # 4x in theory; other tenants only make the free run slower
    assert free.wall_s / free.cpu_s < 2
    assert not list(layout[1].glob(f"bench-{os.getpid()}-*"))


def test_without_root_the_share_columns_are_skipped_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    assert cgroup_layout() == ("not root (a cgroup CPU quota needs root; run `sudo make bench` for the share columns)")
    assert isinstance(CGROUP_ROOT, Path)


def test_a_failing_child_is_reported_with_its_error() -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run([sys.executable, "-c", "1 / 0"], None)


def test_the_breakdown_parts_add_up_to_about_the_whole_handler(
    proxy_to: RecordingBackend, configure_proxy: ConfigureProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKEND_URL", proxy_to.url)  # Bench sets it for the process it runs in
    bench = Bench(proxy_to.url)
    configure_proxy(proxy_to.url, backend_timeout_seconds="3")

    samples = interleaved(components.actions(bench), 60)
    table = components.table(samples, "test")

    cpu = {name: sorted(values["cpu_ns"])[len(values["cpu_ns"]) // 2] for name, values in samples.items()}
    assert all(cpu[name] > 0 for name in [*components.PARTS, components.WHOLE])
    assert 0.5 < sum(cpu[name] for name in components.PARTS) / cpu[components.WHOLE] < 1.5
    assert "sum of the parts" in table
    assert set(samples) == {*components.PARTS, components.WHOLE, *components.ALTERNATIVES}
