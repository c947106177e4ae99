"""`make local`: the deployed API's request path on one machine, no Docker, no AWS account.

The API answers on http://127.0.0.1:PORT/STAGE/ as the deployed one does on its ApiUrl: template.yaml's TOKEN
authorizer, its mapping templates (or AWS_PROXY), proxy_fn and API Gateway's limits, in front of your service
(--backend-url) or of the demo backend (httpbin), which it starts on DEMO_PORT and stops with itself.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

# Each function's code is a package in its own folder, as the Lambda runtime loads it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_ROOT / "proxy_fn"), str(PROJECT_ROOT / "authorizer_fn")]

from local_gateway.authorization import AuthorizerFunction
from local_gateway.demo_backend import listen
from local_gateway.lambda_context import lambda_context
from local_gateway.lambda_runtime import invoker, stream_invoker
from local_gateway.local_tokens import LocalTokenStore, mint_session_token
from local_gateway.model import LambdaInvoker
from local_gateway.sam_template import GatewaySettings, load_gateway_settings, load_proxy_integration
from local_gateway.server import LocalGateway, build_gateway, make_server
from proxy.config import ConfigError, load_config

PROG = "make local"
USAGE = "make local [ARGS='OPTION ...']\n       .venv/bin/python -m local_gateway [OPTION ...]"
EPILOG = """\
Each option's environment variable sets it too (BACKEND_URL=http://127.0.0.1:8000 make local). The proxy's own
settings come from the environment as on Lambda, with template.yaml's defaults: BACKEND_TIMEOUT_SECONDS,
CORS_ALLOW_ORIGIN, BACKEND_CA_BUNDLE. SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the gateway and the demo backend."""
LOCAL_STATE = PROJECT_ROOT / ".local"
# template.yaml's StageName AllowedPattern.
_STAGE_NAME = re.compile(r"[A-Za-z0-9_]{1,128}")
_OFF = ("", "0", "false", "no")


class _Stop(BaseException):
    """A stop signal arrived: unwinds through every cleanup, as Ctrl-C does.

    A BaseException, as KeyboardInterrupt is: socketserver hands a connection to its thread inside `except Exception`,
    which would log a stop that lands there and serve on, deaf to every later signal.
    """


class _Parser(argparse.ArgumentParser):
    """A bad value is one line naming the option, its environment variable and what is expected."""

    def __init__(self, environment: dict[str, str], **options: Any) -> None:
        super().__init__(**options)
        self._environment = environment

    def error(self, message: str) -> NoReturn:
        for option, variable in self._environment.items():
            message = message.replace(f"argument {option}:", f"{option} ({variable}):")
        self.exit(2, f"{self.prog}: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_gateway_settings()
    args = parse_arguments(argv, settings.parameters)
    _stop_on_signals()
    try:
        return _run(args, settings)
    except _Stop as stop:
        print(f"make local: stopped ({stop})", file=sys.stderr)
        return 0


def parse_arguments(argv: Sequence[str] | None, defaults: dict[str, str]) -> argparse.Namespace:
    """Options, each also read from an environment variable; defaults from template.yaml's parameters."""
    environment: dict[str, str] = {}
    parser = _Parser(
        environment,
        prog=PROG,
        usage=USAGE,
        description=__doc__.split("\n\n")[1],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    def option(flag: str, variable: str, default: str | None, help: str, **kwargs: Any) -> None:
        environment[flag] = variable
        shown = "%(default)s" if default is not None else "none"
        parser.add_argument(
            flag, default=os.environ.get(variable, default), help=f"{help} [{variable}; default: {shown}]", **kwargs
        )

    option("--port", "PORT", "3000", "the API's port on 127.0.0.1", type=_port)
    option("--stage", "STAGE", defaults["StageName"], "the stage: URLs start with /STAGE/, as ApiUrl", type=_stage)
    parser.add_argument(
        "--no-stage-prefix",
        dest="stage_prefix",
        action="store_false",
        help="answer at / instead, as a custom domain with an empty base path does ($context.path without the stage)",
    )
    option("--backend-url", "BACKEND_URL", None, "your service, instead of the demo: http(s)://host[:port][/path]")
    option("--demo-port", "DEMO_PORT", "8080", "the demo backend's port, without --backend-url", type=_port)
    option(
        "--mode",
        "MODE",
        defaults["IntegrationMode"],
        "IntegrationMode: VTL (mapping templates), PROXY (AWS_PROXY) or STREAM (AWS_PROXY, the answer streamed)",
        type=_one_of("VTL", "PROXY", "STREAM"),
        metavar="{VTL,PROXY,STREAM}",
    )
    option(
        "--auth-mode",
        "AUTH_MODE",
        defaults["AuthMode"],
        "AuthMode: TOKEN (a session token, printed) or NONE",
        type=_one_of("NONE", "TOKEN", note=" (COGNITO and IAM need AWS)"),
        metavar="{NONE,TOKEN}",
    )
    option(
        "--tokens-file",
        "LOCAL_TOKENS_FILE",
        None,
        "a file of token hashes in the SSM parameter's JSON, instead of a session token (LOCAL_AUTH_TOKENS: the JSON)",
        type=Path,
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=os.environ.get("VERBOSE", "").lower() not in _OFF,
        help="besides one access-log line per request: the functions' logs and metrics (stdout) and the demo "
        "backend's request lines [VERBOSE=1]",
    )
    args = parser.parse_args(argv)
    args.backend_url = args.backend_url or None  # BACKEND_URL= (empty) means the demo backend too
    return args


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {value!r}")
    return int(value)


def _stage(value: str) -> str:
    if not _STAGE_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"expected letters, digits and _ (as StageName allows), got {value!r}")
    return value


def _one_of(*choices: str, note: str = "") -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.upper() not in choices:
            listed = f"{', '.join(choices[:-1])} or {choices[-1]}"
            raise argparse.ArgumentTypeError(f"expected {listed}{note}, got {value!r}")
        return value.upper()

    return parse


def _stop_on_signals() -> None:
    """SIGINT, SIGTERM and SIGHUP stop both processes cleanly, once.

    SIGINT counts even where a shell started this with it ignored (a background job: `make local &`). SIGHUP does
    not where nohup ignored it on purpose.
    """
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise _Stop(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signum != signal.SIGHUP or signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, stop)


def _run(args: argparse.Namespace, settings: GatewaySettings) -> int:
    backend_url = args.backend_url or f"http://127.0.0.1:{args.demo_port}"
    _configure_functions(backend_url, args, settings.parameters)
    try:
        load_config(os.environ)  # what proxy_fn's cold start checks, before anything starts
    except ConfigError as error:
        print(f"make local: {error}", file=sys.stderr)
        return 2
    session = args.auth_mode == "TOKEN" and args.tokens_file is None and not os.environ.get("LOCAL_AUTH_TOKENS")
    if session:
        args.tokens_file = LOCAL_STATE / f"tokens-{args.port}.json"  # one per instance: the port is its own
    with ExitStack() as cleanup:
        gateway = _gateway(args, settings)
        cleanup.callback(gateway.close)
        try:
            server = make_server(gateway, "127.0.0.1", args.port)
        except OSError as error:  # before the token: the instance on that port keeps its own
            return _port_taken(args.port, "PORT", error)
        cleanup.callback(server.server_close)
        token = None
        if session:
            token = mint_session_token(args.tokens_file)
            cleanup.callback(args.tokens_file.unlink, missing_ok=True)
        if args.backend_url is None:
            try:
                demo_socket = listen(args.demo_port)
            except OSError as error:
                return _port_taken(args.demo_port, "DEMO_PORT", error, f", or BACKEND_URL={backend_url} to use it")
            cleanup.enter_context(_demo_backend(demo_socket, args.verbose))
        _banner(args, gateway, backend_url, token)
        server.serve_forever(poll_interval=0.2)
    return 0


def _configure_functions(backend_url: str, args: argparse.Namespace, defaults: dict[str, str]) -> None:
    """The functions' environment, as template.yaml gives it to them; quiet unless verbose."""
    os.environ["BACKEND_URL"] = backend_url
    os.environ["INTEGRATION_MODE"] = args.mode
    os.environ["AUTH_MODE"] = args.auth_mode  # the proxy withholds the credential the gateway checked
    os.environ.setdefault("BACKEND_TIMEOUT_SECONDS", defaults["BackendTimeoutSeconds"])
    os.environ.setdefault("CORS_ALLOW_ORIGIN", defaults["CorsAllowOrigin"])
    if args.verbose:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", defaults["LogLevel"])
    else:  # the access-log line says what happened; errors still show
        os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"


def _gateway(args: argparse.Namespace, settings: GatewaySettings) -> LocalGateway:
    cors_allow_origin = os.environ["CORS_ALLOW_ORIGIN"]
    deployed_as = {"IntegrationMode": args.mode, "CorsAllowOrigin": cors_allow_origin, "AuthMode": args.auth_mode}
    api = load_proxy_integration(parameters=deployed_as)
    return build_gateway(
        load_gateway_settings(parameters=deployed_as),
        api,
        _proxy_function(args.mode, api.timeout_ms),
        _token_authorizer(args.tokens_file, settings) if args.auth_mode == "TOKEN" else None,
        stage=args.stage,
        stage_prefix=args.stage_prefix,
    )


def _proxy_function(mode: str, timeout_ms: int) -> LambdaInvoker:
    """proxy_fn in process: its streaming entry point in STREAM mode (the integration's timeout is the function's)."""
    # Imported here: each reads BACKEND_URL at import, like a cold start.
    if mode == "STREAM":
        from proxy import stream_handler  # noqa: PLC0415

        return stream_invoker(stream_handler.lambda_handler, "proxy", timeout_ms)
    from proxy import handler as proxy_handler  # noqa: PLC0415

    return invoker(proxy_handler.lambda_handler, "proxy")


def _token_authorizer(tokens_file: Path | None, settings: GatewaySettings) -> AuthorizerFunction:
    """authorizer_fn in process, reading token hashes from a local store instead of SSM."""
    defaults = settings.parameters
    if tokens_file is None:
        store = LocalTokenStore(inline_json=os.environ["LOCAL_AUTH_TOKENS"])
    else:
        store = LocalTokenStore(path=tokens_file)
    os.environ.setdefault("AUTH_TOKENS_PARAMETER", defaults["AuthTokensParameter"])
    os.environ.setdefault("TOKEN_CACHE_SECONDS", defaults["TokenCacheSeconds"])
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # Lambda always sets one; no SSM call is made
    # The SSM client the import creates would look for credentials up to the EC2 metadata service, 169.254.169.254.
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    from authorizer import handler as authorizer_handler  # noqa: PLC0415 - reads its settings at import too

    authorizer_handler.SSM = store  # the local token store stands in for SSM

    def authorize(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = authorizer_handler.lambda_handler(event, lambda_context("authorizer"))
        return result

    return authorize


def _port_taken(port: int, variable: str, error: OSError, alternative: str = "") -> int:
    print(
        f"make local: port {port} is not free ({error.strerror}); use {variable}=<other> make local{alternative}",
        file=sys.stderr,
    )
    return 2


@contextmanager
def _demo_backend(listener: socket.socket, verbose: bool) -> Iterator[None]:
    """httpbin in its own process, on the socket bound here, stopping with this process however it ends.

    A clean exit here closes the demo backend's stdin, which stops it; so does the kernel when this process dies
    any other way, SIGKILL included.
    """
    command = [sys.executable, "-m", "local_gateway.demo_backend", "--socket-fd", str(listener.fileno())]
    with listener:  # the demo backend has its own copy
        process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            [*command, "--verbose"] if verbose else command,
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            pass_fds=(listener.fileno(),),
        )
    try:
        yield
    finally:
        if process.stdin is not None:  # always: stdin=PIPE
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _banner(args: argparse.Namespace, gateway: LocalGateway, backend_url: str, token: str | None) -> None:
    url = f"http://127.0.0.1:{args.port}{gateway.base_path}/"
    backend = f"the demo backend (httpbin) on {backend_url}" if args.backend_url is None else backend_url
    lines = [f"make local: the API on {url} -> {backend} (IntegrationMode {args.mode}, AuthMode {args.auth_mode})"]
    if token:
        lines.append(f"session token (client local-dev): {token}")
        lines.append(f'  curl -i -H "Authorization: Bearer {token}" {url}anything')
    else:
        lines.append(f"  curl -i {url}anything")
    more = "" if args.verbose else " (--verbose adds the functions' logs)"
    lines.append(f"one access-log line per request follows{more}; Ctrl-C stops it")
    print("\n".join(lines), file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
