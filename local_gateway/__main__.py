"""`make local`: the whole request path on one machine, no Docker, no AWS account.

    python -m local_gateway [--port 3000] [--backend-url http://127.0.0.1:9000] [--auth-mode NONE|TOKEN]
                            [--mode VTL|PROXY]

Without --backend-url (or BACKEND_URL) it starts the demo backend (httpbin) on 127.0.0.1:8080 first.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Each function's code is a package in its own folder, as the Lambda runtime loads it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_ROOT / "proxy_fn"), str(PROJECT_ROOT / "authorizer_fn")]

from local_gateway.authorization import AuthorizerFunction
from local_gateway.lambda_runtime import invoker, lambda_context
from local_gateway.local_tokens import LocalTokenStore, mint_session_token
from local_gateway.sam_template import GatewaySettings, load_gateway_settings, load_proxy_integration
from local_gateway.server import build_gateway, make_server

LOCAL_STATE = PROJECT_ROOT / ".local"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    demo: subprocess.Popen[bytes] | None = None
    backend_url = args.backend_url or os.environ.get("BACKEND_URL")
    if not backend_url:
        demo = _start_demo_backend(args.demo_port)
        if demo is None:
            return 2
        backend_url = f"http://127.0.0.1:{args.demo_port}"
    try:
        return _serve(args, backend_url)
    finally:
        if demo is not None:
            demo.terminate()
            demo.wait(timeout=10)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--backend-url", help="a real service instead of the demo backend (default: $BACKEND_URL)")
    parser.add_argument("--demo-port", type=int, default=int(os.environ.get("DEMO_PORT", "8080")))
    parser.add_argument(
        "--auth-mode",
        choices=["NONE", "TOKEN"],
        default=os.environ.get("AUTH_MODE"),
        help="default: template.yaml's AuthMode (TOKEN); COGNITO and IAM need AWS",
    )
    parser.add_argument(
        "--mode",
        type=str.upper,
        choices=["VTL", "PROXY"],
        default=os.environ.get("MODE"),
        help="template.yaml's IntegrationMode: VTL (mapping templates, the default) or PROXY (AWS_PROXY)",
    )
    parser.add_argument(
        "--tokens-file",
        type=Path,
        default=os.environ.get("LOCAL_TOKENS_FILE"),
        help="token hashes as in SSM; default: a fresh token for this session (or $LOCAL_AUTH_TOKENS as JSON)",
    )
    return parser.parse_args(argv)


def _start_demo_backend(port: int) -> "subprocess.Popen[bytes] | None":
    command = [sys.executable, "-m", "local_gateway.demo_backend", "--port", str(port)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT)  # noqa: S603 - our interpreter, fixed arguments
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"make local: the demo backend could not start on port {port} (DEMO_PORT=...)", file=sys.stderr)
            return None
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    print("make local: the demo backend did not start within 15 s", file=sys.stderr)
    return None


def _serve(args: argparse.Namespace, backend_url: str) -> int:
    settings = load_gateway_settings()
    defaults = settings.parameters
    auth_mode = args.auth_mode or defaults["AuthMode"]
    if auth_mode not in ("NONE", "TOKEN"):
        print(f"make local: AuthMode {auth_mode} needs AWS; use --auth-mode NONE or TOKEN", file=sys.stderr)
        return 2
    mode = args.mode or defaults["IntegrationMode"]
    os.environ["BACKEND_URL"] = backend_url
    os.environ["INTEGRATION_MODE"] = mode
    os.environ["AUTH_MODE"] = auth_mode  # the proxy withholds the credential the gateway checked
    os.environ.setdefault("BACKEND_TIMEOUT_SECONDS", defaults["BackendTimeoutSeconds"])
    os.environ.setdefault("CORS_ALLOW_ORIGIN", defaults["CorsAllowOrigin"])
    from proxy import handler as proxy_handler  # noqa: PLC0415 - reads BACKEND_URL at import, like a cold start

    authorize, token = _token_authorizer(args, settings) if auth_mode == "TOKEN" else (None, None)
    deployed_as = {"IntegrationMode": mode, "CorsAllowOrigin": os.environ["CORS_ALLOW_ORIGIN"], "AuthMode": auth_mode}
    gateway = build_gateway(
        load_gateway_settings(parameters=deployed_as),
        load_proxy_integration(parameters=deployed_as),
        invoker(proxy_handler.lambda_handler, "proxy"),
        authorize,
    )
    try:
        server = make_server(gateway, "127.0.0.1", args.port)
    except OSError as error:
        print(
            f"make local: port {args.port} is not free ({error.strerror}); use PORT=<other> make local", file=sys.stderr
        )
        return 2
    _banner(args.port, backend_url, auth_mode, mode, token)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nmake local: stopping", file=sys.stderr)
    finally:
        server.server_close()
        gateway.close()
    return 0


def _token_authorizer(args: argparse.Namespace, settings: GatewaySettings) -> tuple[AuthorizerFunction, str | None]:
    """authorizer_fn in process, reading token hashes from a local store instead of SSM."""
    defaults = settings.parameters
    token = None
    if os.environ.get("LOCAL_AUTH_TOKENS"):
        store = LocalTokenStore(inline_json=os.environ["LOCAL_AUTH_TOKENS"])
    else:
        path = args.tokens_file or LOCAL_STATE / "tokens.json"
        if args.tokens_file is None:
            token = mint_session_token(path)
        store = LocalTokenStore(path=path)
    os.environ.setdefault("AUTH_TOKENS_PARAMETER", defaults["AuthTokensParameter"])
    os.environ.setdefault("TOKEN_CACHE_SECONDS", defaults["TokenCacheSeconds"])
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # Lambda always sets one; no SSM call is made
    from authorizer import handler as authorizer_handler  # noqa: PLC0415 - reads its settings at import too

    authorizer_handler.SSM = store  # the local token store stands in for SSM

    def authorize(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = authorizer_handler.lambda_handler(event, lambda_context("authorizer"))
        return result

    return authorize, token


def _banner(port: int, backend_url: str, auth_mode: str, mode: str, token: str | None) -> None:
    url = f"http://127.0.0.1:{port}"
    lines = [
        f"local API gateway on {url} -> {backend_url} (IntegrationMode {mode}, AuthMode {auth_mode}); Ctrl-C stops it"
    ]
    if token:
        lines.append(f"session token (client local-dev): {token}")
        lines.append(f'  curl -i -H "Authorization: Bearer {token}" {url}/anything')
    else:
        lines.append(f"  curl -i {url}/anything")
    print("\n".join(lines), file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
