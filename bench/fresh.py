"""One cold start as Lambda runs it: the init at a full CPU, then the first invocation at the memory's CPU share.

    python -I -S -B bench/fresh.py PROGRAM RESULT_FILE PACKAGE_PATH ARGUMENTS_JSON

Started by bench.cold_starts as a script, not with `-m`, so that nothing but what the interpreter loads for itself is
loaded before the measured init, and with the base interpreter, not the project's virtual environment: the init
imports only what the function's deployment package holds (bench.packages). PROGRAM is one of:

- proxy: import the proxy's handler module (its configuration is read at import); first invocation: a 1 KB GET.
- urllib3: import urllib3 and build a PoolManager; first request: the same GET, with the headers the proxy sends.
- authorizer: import the authorizer's handler module (SSM provider included); first invocation: a known token,
  which reads the token store from SSM.
- boto3: import boto3 and build an SSM client; first call: GetParameter of the same parameter.

PACKAGE_PATH: the package's sys.path entries, joined by os.pathsep. ARGUMENTS_JSON: {"url": ..., "headers": {...},
"group": cgroup.procs path or null, "memory_mb": ...}. After the init the process joins the group, so the first
invocation runs at the share. RESULT_FILE receives the clock readings (time.perf_counter_ns and
time.process_time_ns) at the start of the program, after the init and around the first invocation, and the
process's peak resident set size (VmHWM, kB), as JSON.
"""

import os
import sys
import time

TYPE_CHECKING = False  # typing itself is not loaded before the init: the functions import it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # os.path: loaded at startup, unlike pathlib


def clocks() -> tuple[int, int]:
    return time.perf_counter_ns(), time.process_time_ns()


def init(program: str) -> "Any":
    """What Lambda's init runs for `program`; returns what the first invocation calls."""
    if program == "proxy":
        from proxy.handler import lambda_handler  # noqa: PLC0415

        return lambda_handler
    if program == "authorizer":
        from authorizer.handler import lambda_handler as authorize  # noqa: PLC0415

        return authorize
    if program == "urllib3":
        import urllib3  # noqa: PLC0415

        return urllib3.PoolManager()
    if program == "boto3":
        import boto3  # noqa: PLC0415

        return boto3.client("ssm")
    raise SystemExit(f"unknown program {program!r}")


def first_invocation(program: str, initialised: "Any", arguments: "dict[str, Any]") -> "Callable[[], object]":
    from bench import fixtures  # noqa: PLC0415 - after the init: it must not load anything for the function

    memory_mb = arguments["memory_mb"]
    if program == "proxy":
        event = fixtures.proxy_event("GET", "/text/1024", b"")
        context = fixtures.lambda_context("bench-proxy", memory_mb)
        return lambda: _expect(initialised(event, context)["statusCode"] == 200, "proxy answered")
    if program == "authorizer":
        context = fixtures.lambda_context("bench-authorizer", memory_mb)
        return lambda: _expect(
            initialised(fixtures.token_event(), context)["policyDocument"]["Statement"][0]["Effect"] == "Allow",
            "authorizer allowed",
        )
    if program == "urllib3":
        return lambda: initialised.request("GET", arguments["url"], headers=arguments["headers"]).data
    return lambda: initialised.get_parameter(Name=fixtures.TOKENS_PARAMETER, WithDecryption=True)


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"the first invocation failed: not {what}")


def main() -> int:
    started = clocks()
    program, result_file, package_path, raw_arguments = sys.argv[1:5]
    sys.path[:0] = package_path.split(os.pathsep)
    initialised = init(program)
    init_done = clocks()

    import json  # noqa: PLC0415 - after the init, which imports it itself

    sys.path.append(ROOT)
    from bench.cpu_share import join_group  # noqa: PLC0415

    arguments = json.loads(raw_arguments)
    invoke = first_invocation(program, initialised, arguments)
    join_group(arguments["group"])
    invoked = clocks()
    invoke()
    answered = clocks()
    with open("/proc/self/status") as status:  # the peak resident set so far, which starts afresh at exec
        peak_rss_kb = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
    readings: dict[str, object] = {"started": started, "init_done": init_done, "invoked": invoked}
    readings |= {"answered": answered, "peak_rss_kb": peak_rss_kb}
    with open(result_file, "w") as result:
        json.dump(readings, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
