"""The pieces `make bench` is built from work (the bench itself runs for minutes and stays out of `make test`)."""

import json
import os
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import components
from bench.backend import EchoBackend
from bench.cases import Proxy
from bench.cold_starts import FRESH, ColdStart
from bench.cpu_share import CGROUP_ROOT, CpuShare, cgroup_layout, quota, run
from bench.fixtures import PROJECT_ROOT, PROXY_CODE, proxy_environment
from bench.timing import interleaved
from bench.worker import TLS_BACKEND, TLS_CA_BUNDLE, new_tls_connections
from tests.support.backend import RecordingBackend
from tests.support.chain import ConfigureProxy
from tests.support.tls import make_private_ca

LOOP = "total = 0\nfor i in range(3_000_000): total += i"


@pytest.fixture
def bench_backend() -> Iterator[EchoBackend]:
    with EchoBackend() as backend:
        yield backend


def test_the_share_is_the_memory_over_1769_mb_of_one_cpu() -> None:
    assert CpuShare(1769).fraction == 1
    assert CpuShare(256).quota_us == 2894  # of each 20 ms period
    assert CpuShare(128).quota_us == 1447  # above the kernel's 1 ms minimum


def test_a_process_under_a_share_is_held_to_it_and_leaves_no_group_behind() -> None:
    layout = cgroup_layout()
    if isinstance(layout, str):
        pytest.skip(f"no CPU quota here: {layout}")

    with quota(CpuShare(442)) as group:  # a quarter of a CPU: short, and clearly slower
        assert group is not None
        held = run([sys.executable, "-c", LOOP], group.preexec)
        throttled = group.throttled_periods()

    assert throttled > 0
    assert held.wall_s / held.cpu_s > 2.5  # 4x in theory; other tenants only stretch it further
    assert not list(layout[1].glob(f"bench-{os.getpid()}-*"))


def test_a_process_that_joins_its_group_after_its_init_is_held_only_from_then_on(tmp_path: Path) -> None:
    """Lambda's model: the init at a full CPU, the invocations at the share."""
    layout = cgroup_layout()
    if isinstance(layout, str):
        pytest.skip(f"no CPU quota here: {layout}")
    program = f"""
import json, sys, time
from bench.cpu_share import join_group
def in_group():
    return sys.argv[3] in open("/proc/self/cgroup").read()
def stretch():
    wall, cpu = time.perf_counter(), time.process_time()
    exec({LOOP!r})
    return (time.perf_counter() - wall) / (time.process_time() - cpu)
before = in_group()
join_group(sys.argv[1])
with open(sys.argv[2], "w") as out:
    json.dump([before, in_group(), stretch()], out)
"""
    out = tmp_path / "joined.json"
    with quota(CpuShare(442)) as group:
        assert group is not None
        run([sys.executable, "-c", program, str(group.procs), str(out), group.path.name], cwd=PROJECT_ROOT)
        throttled = group.throttled_periods()
    in_group_before, in_group_after, stretch_after = json.loads(out.read_text())

    assert not in_group_before
    assert in_group_after
    assert throttled > 0
    assert stretch_after > 2.5  # wall ÷ CPU time at a quarter of a CPU


def test_without_root_the_share_columns_are_skipped_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    assert cgroup_layout() == ("not root (a cgroup CPU quota needs root; run `sudo make bench` for the share columns)")
    assert isinstance(CGROUP_ROOT, Path)


def test_a_failing_child_is_reported_with_its_error() -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run([sys.executable, "-c", "1 / 0"])


def test_a_cold_start_reports_its_init_and_its_first_answer(bench_backend: EchoBackend, tmp_path: Path) -> None:
    result = tmp_path / "readings.json"
    arguments: dict[str, object] = {"url": "", "headers": {}, "group": None, "memory_mb": 512}
    # The function's folder, its requirements from the virtual environment (tests/integration/test_build.py checks
    # the bench's packages against sam build's).
    argv = [sys.executable, "-B", str(FRESH), "proxy", str(result), str(PROXY_CODE), json.dumps(arguments)]

    measured = run(argv, env=proxy_environment(bench_backend.url), cwd=PROJECT_ROOT)
    start = ColdStart.from_readings(measured, json.loads(result.read_text()))

    assert bench_backend.last_headers  # the first invocation reached the backend
    assert start.init_cpu_ms > 10 * start.first_cpu_ms  # importing the handler is the bulk of a cold start
    assert start.interpreter_ms > 0  # the child's clock and the parent's are one
    assert start.until_answered_ms <= measured.wall_s * 1000
    assert start.first_request_ms <= start.until_answered_ms + 1  # CPU time of one thread: at most its wall time
    assert 20 < start.peak_rss_mb < 500


def test_the_breakdown_parts_add_up_to_about_the_whole_handler(
    bench_backend: EchoBackend, configure_proxy: ConfigureProxy
) -> None:
    configure_proxy(bench_backend.url, backend_timeout_seconds="3")
    proxy = Proxy(bench_backend.url, memory_mb=512)

    samples = interleaved(components.actions(proxy), 60)
    table = components.table({"test": samples})

    cpu = {name: sorted(values["cpu_ns"])[len(values["cpu_ns"]) // 2] for name, values in samples.items()}
    assert all(cpu[name] > 0 for name in [*components.PARTS, components.WHOLE])
    assert 0.5 < sum(cpu[name] for name in components.PARTS) / cpu[components.WHOLE] < 1.5
    assert "sum of the parts" in table
    assert set(samples) == {*components.PARTS, components.WHOLE, *components.ALTERNATIVES}


def test_the_direct_request_carries_the_headers_the_proxy_sent(
    bench_backend: EchoBackend, configure_proxy: ConfigureProxy
) -> None:
    configure_proxy(bench_backend.url, backend_timeout_seconds="3")
    proxy = Proxy(bench_backend.url, memory_mb=512)
    get = proxy.cases("1 KB")["GET"]

    get["handler"]()
    sent_by_proxy = bench_backend.last_headers
    get["direct"]()

    assert sorted(bench_backend.last_headers) == sorted(sent_by_proxy)


def test_the_tls_comparison_opens_a_new_connection_for_every_request_of_both_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Otherwise it would time pooled requests, where neither client loads any certificate."""
    private_ca = make_private_ca(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(private_ca.server_certificate, private_ca.server_key)
    with RecordingBackend(tls) as backend:
        monkeypatch.setenv(TLS_BACKEND, backend.url)
        monkeypatch.setenv(TLS_CA_BUNDLE, str(private_ca.ca_bundle))

        samples = new_tls_connections(3)

        assert {name: len(times["cpu_ns"]) for name, times in samples.items()} == {"handler's client": 3, "urllib3": 3}
        assert len(backend.requests) == 8  # one unmeasured round first
        assert backend.connections_opened == 8
