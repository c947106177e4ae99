"""The local API gateway: an HTTP server on 127.0.0.1 that behaves like the deployed REST API.

It answers under /<stage>/ as the execute-api endpoint does (its ApiUrl), or at the root as a custom domain whose
API mapping has an empty base path does.
"""

import dataclasses
import json
import socket
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qsl

from local_gateway.authorization import AuthorizerFunction, TokenAuthorization
from local_gateway.gateway_responses import GatewayResponses
from local_gateway.integration import RestApiIntegration
from local_gateway.model import (
    ACCOUNT_ID,
    API_ID,
    PARTITION,
    REGION,
    Engine,
    EngineFactory,
    IntegrationContext,
    LambdaInvoker,
    MethodRequest,
    MethodResponse,
)
from local_gateway.sam_template import GatewaySettings, ProxyIntegration
from local_gateway.streaming import StreamFailed

# API Gateway's REST API payload limit.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
# Answers that never have a body (RFC 9110 6.4.1), so no chunked framing either.
_NO_BODY_STATUSES = frozenset({204, 304})
_CHUNK_SIZE_LINE_LIMIT = 1024
# Set by API Gateway on the way in; a client's own values are replaced.
_GATEWAY_SET_REQUEST_HEADERS = frozenset({"x-forwarded-proto", "x-forwarded-port"})
# What the execute-api endpoint answers a path outside every stage (the first segment names the stage): not one of
# the API's gateway responses, since no stage was found. Seen by users (e.g. OWASP/Serverless-Goat#14,
# aws-samples/aws-microservices-deploy-options#26); AWS's documentation does not state it.
_UNKNOWN_STAGE_BODY = b'{"message":"Forbidden"}'


class RequestTooLarge(Exception):
    pass


class LocalGateway:
    """Authorizer, integration (request template, proxy_fn, response template) and API Gateway's limits."""

    def __init__(
        self,
        integration: Engine,
        responses: GatewayResponses,
        authorization: TokenAuthorization | None,
        *,
        integration_timeout_seconds: float,
        access_log: TextIO = sys.stderr,
        base_path: str = "",
    ) -> None:
        """`base_path`: "/<stage>" where the API answers under its stage, "" where it answers at the root."""
        self._integration = integration
        self._responses = responses
        self._authorization = authorization
        self._timeout = integration_timeout_seconds
        self._access_log = access_log
        self.base_path = base_path
        self._workers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="integration")

    def path_in_stage(self, path: str) -> str | None:
        """The path API Gateway routes and hands the integration (without the stage), or None outside the stage."""
        if not self.base_path:
            return path
        if path == self.base_path:
            return "/"
        if path.startswith(self.base_path + "/"):
            return path.removeprefix(self.base_path)
        return None

    def handle(self, request: MethodRequest, request_id: str) -> MethodResponse:
        authorizer: dict[str, Any] = {}
        preflight = request.method == "OPTIONS" and self._integration.answers_preflight
        if self._authorization is not None and not preflight:
            authorization = next((v for k, v in request.headers if k.lower() == "authorization"), None)
            decision = self._authorization.decide(authorization, request.method, request.path)
            if decision.refusal:
                return self._responses.refuse(decision.refusal, request_id, request.headers)
            authorizer = decision.context
        context = IntegrationContext(request_id=request_id, request_time_epoch_ms=int(time.time() * 1000))
        future = self._workers.submit(self._integration.handle, request, context, authorizer)
        try:
            return future.result(timeout=self._timeout)
        except FutureTimeout:
            return self._responses.refuse("INTEGRATION_TIMEOUT", request_id, request.headers)

    def refuse(self, response_type: str, request: MethodRequest, request_id: str) -> MethodResponse:
        return self._responses.refuse(response_type, request_id, request.headers)

    @staticmethod
    def unknown_stage(request_id: str) -> MethodResponse:
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ForbiddenException")]
        return MethodResponse(403, headers, _UNKNOWN_STAGE_BODY, request_id)

    def log_access(
        self, request: MethodRequest, path: str, response: MethodResponse, started: float, streamed: int = 0
    ) -> None:
        """One JSON line with the fields of template.yaml's access log; `path` as the client sent it ($context.path).
        `streamed`: the body bytes of a streamed answer."""
        line = {
            "requestId": response.request_id,
            "ip": request.source_ip,
            "httpMethod": request.method,
            "path": path,
            "status": response.status,
            "responseLength": len(response.body) + streamed,
            "responseLatency": round((time.monotonic() - started) * 1000, 1),
        }
        print(json.dumps(line), file=self._access_log, flush=True)

    def close(self) -> None:
        self._workers.shutdown(wait=False, cancel_futures=True)


def build_gateway(
    settings: GatewaySettings,
    api: ProxyIntegration,
    proxy: LambdaInvoker,
    authorize: AuthorizerFunction | None,
    *,
    access_log: TextIO = sys.stderr,
    stage: str | None = None,
    stage_prefix: bool = True,
    engine: EngineFactory | None = None,
) -> LocalGateway:
    """The gateway template.yaml describes, with its default parameters (stage, authorizer cache TTL).

    `stage_prefix`: answer under /<stage>/ as the execute-api endpoint does, or at the root as a custom domain with
    an empty base path does ($context.path then has no stage either). `engine`: the integration pipeline around
    `proxy`; our RestApiIntegration unless given (the tests give both engines).
    """
    stage = stage or settings.parameters["StageName"]
    base_path = f"/{stage}" if stage_prefix else ""
    authorization = None
    if authorize is not None:
        authorization = TokenAuthorization(
            authorize,
            settings.token_validation_expression,
            cache_ttl_seconds=float(settings.parameters["AuthorizerCacheTtlSeconds"]),
            api_arn=f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{stage}",
        )
    responses = GatewayResponses(settings.gateway_responses, stage)
    integration = (
        engine(proxy)
        if engine
        else RestApiIntegration(api, proxy, stage, responses=responses, context_path_prefix=base_path)
    )
    return LocalGateway(
        integration,
        responses,
        authorization,
        integration_timeout_seconds=api.timeout_ms / 1000,
        access_log=access_log,
        base_path=base_path,
    )


def make_server(gateway: LocalGateway, host: str, port: int) -> ThreadingHTTPServer:
    """Raises OSError (e.g. EADDRINUSE) when the port is taken."""
    server = ThreadingHTTPServer((host, port), _handler_for(gateway))
    server.daemon_threads = True
    return server


def _handler_for(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "local-api-gateway"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle and delayed ACKs add 40 ms each.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            """The gateway writes its own access log line instead."""

        def _serve(self) -> None:
            started = time.monotonic()
            request_id = str(uuid.uuid4())
            target = self.requestline.split(" ")[1]  # raw: self.path collapses a leading "//"
            client_path, _, query = target.partition("?")
            path = gateway.path_in_stage(client_path)
            request = MethodRequest(
                method=self.command,
                path=client_path if path is None else path,
                query=parse_qsl(query, keep_blank_values=True),
                headers=self._gateway_headers(),
                source_ip=self.client_address[0],
            )
            if path is None:
                response = gateway.unknown_stage(request_id)
                self.close_connection = True  # its body is not read
            else:
                request, response = self._with_body(request, request_id)
            if response.stream is not None:
                self._write_stream(
                    response, lambda streamed: gateway.log_access(request, client_path, response, started, streamed)
                )
                return
            # Logged before the answer goes out, so a client that has its answer also finds its log line.
            gateway.log_access(request, client_path, response, started)
            self._write(response)

        def _with_body(self, request: MethodRequest, request_id: str) -> tuple[MethodRequest, MethodResponse]:
            try:
                body = self._read_body()
            except RequestTooLarge:
                self.close_connection = True  # the rest of the body is not read
                return request, gateway.refuse("REQUEST_TOO_LARGE", request, request_id)
            except ValueError:
                self.close_connection = True
                return request, gateway.refuse("DEFAULT_4XX", request, request_id)
            request = dataclasses.replace(request, body=body)
            return request, gateway.handle(request, request_id)

        def _gateway_headers(self) -> list[tuple[str, str]]:
            """The client's headers with the X-Forwarded-* ones API Gateway sets in front of the integration."""
            headers = [
                (name, _utf8(value))
                for name, value in self.headers.items()
                if name.lower() not in _GATEWAY_SET_REQUEST_HEADERS | {"x-forwarded-for"}
            ]
            chain = ", ".join([*self.headers.get_all("X-Forwarded-For", []), self.client_address[0]])
            port = str(self.server.server_address[1])  # type: ignore[index]  # an (host, port) AF_INET address
            return [*headers, ("X-Forwarded-For", chain), ("X-Forwarded-Proto", "http"), ("X-Forwarded-Port", port)]

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError("negative Content-Length")
            if length > MAX_REQUEST_BYTES:
                raise RequestTooLarge
            return self.rfile.read(length)

        def _read_chunked(self) -> bytes:
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline(_CHUNK_SIZE_LINE_LIMIT).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(_CHUNK_SIZE_LINE_LIMIT).strip():
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BYTES:
                    raise RequestTooLarge
                chunks.append(self.rfile.read(size))
                self.rfile.readline(_CHUNK_SIZE_LINE_LIMIT)

        def _write(self, response: MethodResponse) -> None:
            self._write_head(response)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def _write_stream(self, response: MethodResponse, log_access: Callable[[int], None]) -> None:
            """The head at once, then each chunk as the function sends it (HTTP/1.1 chunked). A stream that fails
            ends without the last chunk: the client sees the answer cut off. Logged before the last chunk goes out."""
            assert response.stream is not None
            with closing(response.stream) as chunks:
                self._write_head(response)
                framed = self.command != "HEAD" and response.status not in _NO_BODY_STATUSES
                if framed:
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                streamed = 0
                try:
                    for chunk in chunks:
                        streamed += len(chunk)
                        if framed and chunk:
                            self.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                            self.wfile.flush()
                except (StreamFailed, OSError):  # the function's stream failed, or the client went away
                    log_access(streamed)
                    self.close_connection = True
                    return
                log_access(streamed)
                if framed:
                    self.wfile.write(b"0\r\n\r\n")

        def _write_head(self, response: MethodResponse) -> None:
            self.send_response_only(response.status)
            self.send_header("Date", self.date_time_string())
            for name, value in response.headers:
                if name.lower() in ("content-length", "transfer-encoding"):
                    continue
                self.send_header(name, value.encode("utf-8").decode("latin-1"))
            self.send_header("x-amzn-RequestId", response.request_id)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    return Handler


def _utf8(value: str) -> str:
    """http.server decodes header bytes as Latin-1; API Gateway hands the template UTF-8 text."""
    return value.encode("latin-1").decode("utf-8", "replace")
