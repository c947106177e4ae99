"""The tables `make bench` prints (Markdown, as docs/performance.md shows them: no line wider than 160 columns), and
the targets with their verdicts.

Every ratio compares two things measured side by side in the same run.
"""

from typing import Any

from bench import components
from bench.cold_starts import LABELS, PROGRAMS, ColdStarts
from bench.cpu_share import CpuShare
from bench.memory import ARM_PRICE_PER_GB_SECOND, PRICE_SOURCE, MemoryRow, wall_ms
from bench.timing import Samples, ms, spread, us
from bench.warm import CaseResult, column_name

# Issue 20's targets: the most each ratio may be.
WARM_CPU_GOAL = 1.25
INIT_GOAL = 1.3
LARGE_BODY_GOAL = 1.2


def per_request_table(results: list[CaseResult]) -> str:
    rows = [
        "| Case | column | CPU µs: direct / handler | **CPU ratio** | wall ms: direct / handler | wall ratio "
        "| floor CPU µs | ratio to direct + floor: CPU / wall |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case in results:
        rows.append(
            f"| {case.name} | {column_name(case.share)} | {us(case.cpu('direct')):,.0f} / "
            f"{us(case.cpu('handler')):,.0f} | **{case.cpu_ratio():.2f}×** ({spread(case.cpu_ratio_spread())}) | "
            f"{ms(case.wall('direct'), case.stat):.2f} / {ms(case.wall('handler'), case.stat):.2f} | "
            f"{case.wall_ratio():.2f}× ({spread(case.wall_ratio_spread())}) | {us(case.cpu('floor')):,.0f} | "
            f"{case.floor_cpu_ratio():.2f}× / {case.floor_wall_ratio():.2f}× |"
        )
    return (
        "## Per request: the handler vs a direct urllib3 request (same headers, same backend)\n\n"
        "CPU: medians of the measured process's own CPU time per request. Wall: medians unconstrained, means at the "
        "share (quota pauses land on single requests; the mean is what is billed). Ratios: the handler's ÷ the "
        "direct request's; in brackets, the ratio in each fifth of the rounds. Floor: what the Lambda event format "
        "forces on any proxy (base64-decoding a request body, JSON-encoding a response body).\n\n" + "\n".join(rows)
    )


def breakdown_table(columns: dict[str, Samples]) -> str:
    return "## Where one warm 1 KB GET's CPU time goes\n\n" + components.table(columns)


def cold_start_table(cold: ColdStarts) -> str:
    shares = list(cold.runs)
    sizes = [share.memory_mb for share in shares if share is not None]
    if len(sizes) == len(shares):
        columns = "first request ms at " + " / ".join(str(size) for size in sizes) + " MB"
    else:
        columns = "first request ms, " + " / ".join(column_name(share) for share in shares)
    header = "| Fresh interpreter | init: wall (CPU) ms | without bytecode | first invocation CPU ms "
    rows = [f"{header}| {columns} |", "| --- | --- | --- | --- | --- |"]
    for program in PROGRAMS:
        answers = " / ".join(f"{cold.first_request_ms(share, program):,.0f}" for share in shares)
        without = cold.init_without_bytecode(program)
        rows.append(
            f"| {LABELS[program]} | {cold.init_ms(program):.0f} ({cold.init_cpu_ms(program):.0f}) | "
            f"{'—' if without is None else f'{without[0]:.0f} ({without[1]:.0f})'} | "
            f"{cold.first_cpu_ms(program):.1f} | {answers} |"
        )
    rounds = len(next(iter(cold.runs.values()))["proxy"])
    return (
        f"## Cold starts: init at a full CPU, first invocation at the share ({rounds} rounds per column, the "
        "four programs in turn)\n\n"
        "Init: the program's imports and clients, measured inside a fresh interpreter that imports from the "
        "deployment package as the function's Makefile builds it for sam build, bytecode included (medians over "
        "every column; the boto3 rows use the SDK as a runtime provides it, with its bytecode). Without bytecode: "
        "the same init, wall (CPU) ms, from the packages as a build without Python 3.13 ships them, every module "
        "compiled "
        f"({len(cold.without_bytecode['proxy'])} rounds). First request: the interpreter's start "
        f"({cold.interpreter_cpu_ms():.0f} ms) and the init, on a full vCPU (their CPU time), then the first "
        "invocation at the memory's share (its wall time); Lambda's own sandbox and runtime start come on top, in "
        "every row.\n\n" + "\n".join(rows)
    )


def memory_tables(rows: list[MemoryRow], cold: ColdStarts, proxy_rss_mb: float, memory: dict[str, int]) -> str:
    proxy = [
        "| MemorySize | CPU share | warm 1 KB GET ms: p50 / mean | CPU ratio | first request ms "
        "| $ per 1M requests | with a 20 ms backend | $ per 1M cold starts |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    authorizer = [
        "| MemorySize | first authorization ms | store cached: ms, $ per 1M | store read each time: ms, $ per 1M "
        "| GetParameter alone: ms | $ per 1M cold starts |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        share: CpuShare = row.share
        handler = row.proxy["handler"]["wall_ns"]
        cpu_ratio = us(row.proxy["handler"]["cpu_ns"]) / us(row.proxy["direct"]["cpu_ns"])
        proxy.append(
            f"| {_mb(row.memory_mb, memory['proxy'], 'proxy')} | {share.fraction:.3f} vCPU | {ms(handler):.2f} / "
            f"{ms(handler, 'mean'):.2f} | {cpu_ratio:.2f}× | {cold.first_request_ms(share, 'proxy'):,.0f} | "
            f"${row.proxy_cost():.3f} | ${row.proxy_cost(20):.3f} | "
            f"${row.cold_start_cost(cold.runs[share]['proxy']):.2f} |"
        )
        authorizer.append(
            f"| {_mb(row.memory_mb, memory['authorizer'], 'authorizer')} | "
            f"{cold.first_request_ms(share, 'authorizer'):,.0f} | "
            f"{_mean_ms(row.authorizations, 'authorizer'):.2f}, ${row.authorization_cost(row.authorizations):.3f} | "
            f"{_mean_ms(row.store_reads, 'authorizer'):.2f}, ${row.authorization_cost(row.store_reads):.3f} | "
            f"{_mean_ms(row.store_reads, 'direct'):.2f} | ${row.cold_start_cost(cold.runs[share]['authorizer']):.2f} |"
        )
    rss = cold.peak_rss_mb("authorizer")
    return (
        "## Memory sizing\n\n"
        "Each row holds every invocation to that MemorySize's CPU share; inits run at a full CPU. Cost: each "
        "invocation's duration rounded up to the millisecond, times memory, at "
        f"${ARM_PRICE_PER_GB_SECOND:.10f} per GB-second, plus $0.20 per million requests ({PRICE_SOURCE}); a "
        "cold start bills its init and its first invocation. The backend is on loopback: a real one's response "
        "time is billed too, at the same rate per GB (the 20 ms column adds it to each request). Peak RSS: proxy "
        f"{proxy_rss_mb:.0f} MB (a 5 MB request and a 5 MB response in one fresh process), authorizer {rss:.0f} MB "
        "(init and first authorization), without the Lambda runtime's own.\n\n"
        "### Proxy (1 KB GET against the loopback backend; CPU ratio: the handler's ÷ a direct urllib3 request's)"
        "\n\n" + "\n".join(proxy) + "\n\n"
        "### Authorizer (the SSM stand-in over TLS on loopback; first authorization: init and one SSM read; "
        "mean ms)\n\n" + "\n".join(authorizer)
    )


def _mb(memory_mb: int, deployed_mb: int, function: str) -> str:
    return f"**{memory_mb} MB** ({function}'s MemorySize)" if memory_mb == deployed_mb else f"{memory_mb} MB"


def _mean_ms(samples: Samples, who: str) -> float:
    values = wall_ms(samples, who)
    return sum(values) / len(values)


def extras_sections(extras: dict[str, Any]) -> str:
    chain, handler_alone = extras["chain"], extras["handler"]
    peaks = extras["tracemalloc"]
    return (
        "## Peak memory through the handler (tracemalloc, the event itself excluded)\n\n"
        "| Case | peak allocated MB | ÷ body size |\n| --- | --- | --- |\n"
        + "\n".join(f"| {name} | {peak / 1e6:.1f} | {peak / (5 * 1024 * 1024):.2f}× |" for name, peak in peaks.items())
        + "\n\n## The full local chain vs the handler alone (POST 1 KB), and backend connections\n\n"
        "| | p50 ms | p99 ms |\n| --- | --- | --- |\n"
        f"| handler alone | {ms(handler_alone):.2f} | {ms(handler_alone, 'p99'):.2f} |\n"
        f"| request template + handler + response template | {ms(chain):.2f} | {ms(chain, 'p99'):.2f} |\n"
        f"| ratio | {ms(chain) / ms(handler_alone):.2f}× | |\n\n"
        f"New backend connections over 1,000 warm invocations: {extras['connections']} (the container keeps the "
        "one it opened).\n\n" + _new_tls_connections(extras["new TLS connections"])
    )


def _new_tls_connections(samples: Samples) -> str:
    client, direct = samples["handler's client"], samples["urllib3"]
    rounds = len(client["cpu_ns"])
    return (
        f"## A new TLS connection per request ({rounds} GETs each, interleaved; the SSM stand-in over TLS, trusted "
        "through a bundle of the SDK's CA certificates and its own)\n\n"
        "| Client | CPU ms per request (p50) | wall ms (p50) |\n| --- | --- | --- |\n"
        f"| the proxy's backend client (CA certificates loaded once, at init) | {ms(client['cpu_ns']):.2f} | "
        f"{ms(client['wall_ns']):.2f} |\n"
        f"| urllib3 PoolManager(ca_certs=the bundle) | {ms(direct['cpu_ns']):.2f} | {ms(direct['wall_ns']):.2f} |\n"
        f"| ratio | {ms(client['cpu_ns']) / ms(direct['cpu_ns']):.2f}× | "
        f"{ms(client['wall_ns']) / ms(direct['wall_ns']):.2f}× |"
    )


def targets_table(per_request: list[CaseResult], cold: ColdStarts) -> str:
    """The targets, each a ratio of two things measured side by side in this run."""
    cases = {(case.name, case.share): case for case in per_request}
    shares = sorted({case.share for case in per_request}, key=lambda share: 0 if share is None else share.memory_mb)
    rows = ["| Target | measured (spread) | goal | holds |", "| --- | --- | --- | --- |"]

    def row(label: str, cells: list[tuple[str, float, str]], goal: float | None) -> None:
        """cells: (where, ratio, a note on how steady it is)."""
        shown = "; ".join(f"{where}: **{value:.2f}×** ({note})" for where, value, note in cells)
        if goal is None:
            rows.append(f"| {label} | {shown} | — | — |")
            return
        holds = all(value <= goal for _, value, _ in cells)
        rows.append(f"| {label} | {shown} | ≤ {goal}× | {'yes' if holds else '**no**'} |")

    warm = [cases[("GET 1 KB", share)] for share in shares]
    row(
        "warm 1 KB GET",
        [(column_name(case.share), case.cpu_ratio(), spread(case.cpu_ratio_spread())) for case in warm],
        WARM_CPU_GOAL,
    )
    row(
        "proxy init",
        [_init_cell(cold, "proxy", "urllib3")],
        INIT_GOAL,
    )
    row(
        "authorizer init",
        [_init_cell(cold, "authorizer", "boto3")],
        None,
    )
    for method in ("GET", "POST"):
        large = [cases[(f"{method} 5 MB", share)] for share in shares]
        row(
            f"5 MB {method}",
            [
                (column_name(case.share), case.floor_cpu_ratio(), f"wall {case.floor_wall_ratio():.2f}×")
                for case in large
            ],
            LARGE_BODY_GOAL,
        )
    return (
        "## Targets, from this run\n\n"
        "Each target is a ratio of two things measured side by side in the same run:\n\n"
        "- **warm 1 KB GET**: the handler's CPU time per request ÷ a direct urllib3 PoolManager request's;\n"
        "- **proxy init**, at a full CPU, from the package sam build makes: importing the proxy's handler module ÷ "
        "importing urllib3 and building a PoolManager;\n"
        "- **authorizer init**, likewise: importing the authorizer's handler module ÷ importing boto3 and building "
        "an SSM client;\n"
        "- **5 MB GET** and **5 MB POST**: the handler's CPU time ÷ (the direct request's + the forced floor's).\n\n"
        "In brackets: for the warm ratio, its range over the fifths of the rounds; for the inits, their CPU "
        "milliseconds and the ratio's range over the cold-start table's columns; for 5 MB, the same ratio in wall "
        "time. The goals hold when every figure in the row is at most the goal.\n\n" + "\n".join(rows)
    )


def _init_cell(cold: ColdStarts, program: str, yardstick: str) -> tuple[str, float, str]:
    ratio, within = cold.init_ratio(program, yardstick)
    ours, theirs = cold.init_cpu_ms(program), cold.init_cpu_ms(yardstick)
    return "as packaged", ratio, f"{ours:.0f} vs {theirs:.0f} ms; {spread(within)}"
