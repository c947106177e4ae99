"""LocalStack's REST API invocation pipeline (localstack-core 2026.3.0) as a second engine, in process.

LocalStack's own code imports the API definition (its OpenAPI importer), routes, selects templates, converts
payloads, renders VTL (its ApiGatewayVtlTemplate on airspeed), applies responseOverride, builds AWS_PROXY events
and reads their answers, and renders gateway responses. Only the Lambda service is replaced: `LambdaService`
answers LocalStack's Invoke call the way Lambda's Invoke API does, by calling a Python function.

    deployment = template_deployment(IntegrationMode="VTL")          # built once per parameter set
    engine = LocalStackIntegration(deployment, invoke_handler)
    response = engine.handle(MethodRequest("GET", "/orders"), IntegrationContext.fresh())

LocalStack's contradictions of AWS's documentation are corrected in tests.support.localstack.corrections;
`template_deployment(corrected=False)` runs LocalStack exactly as shipped, and `deploy(definition, corrections=...)`
with any subset.
"""

import copy
import functools
import json
import re
from collections.abc import Collection, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from botocore.exceptions import ClientError
from moto.apigateway.models import apigateway_backends
from rolo import Request, Response
from werkzeug.datastructures import Headers

from local_gateway.cfn import ResolvedTemplate
from local_gateway.model import (
    ACCOUNT_ID,
    API_ID,
    LAMBDA_REQUEST_LIMIT_BYTES,
    LAMBDA_REQUEST_TOO_LARGE,
    LAMBDA_RESPONSE_LIMIT_BYTES,
    LAMBDA_RESPONSE_TOO_LARGE,
    PSEUDO_PARAMETERS,
    REGION,
    RESOURCE_ID,
    STACK_NAME,
    Engine,
    FunctionError,
    IntegrationContext,
    LambdaInvoker,
    MethodRequest,
    MethodResponse,
    function_arn,
    lambda_refusal,
)
from local_gateway.sam_template import TEMPLATE_PATH, load_template
from tests.support.localstack.corrections import ALL as ALL_CORRECTIONS
from tests.support.localstack.corrections import Correction, complete_import
from tests.support.localstack.corrections import active as active_corrections
from tests.support.localstack.runtime import (
    REST_API_INTEGRATIONS,
    ApiGatewayEndpoint,
    EndpointResponse,
    RequestContext,
    RestApiContainer,
    RestApiDeployment,
    RestApiInvocationContext,
    apigateway_stores,
    aws,
    gateway,
    gateway_responses,
    handlers,
    helpers,
    legacy_helpers,
)

# Headers the gateway adds on the wire, left out of the MethodResponse (our engine leaves them to the server).
TRANSPORT_HEADERS = frozenset(
    {"content-length", "date", "connection", "x-amzn-requestid", "x-amz-apigw-id", "x-amzn-trace-id"}
)
_REQUEST_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"  # LocalStack's REQUEST_TIME_DATE_FORMAT


# --- the API definition ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiDefinition:
    """A REST API as API Gateway imports it: an OpenAPI body with AWS extensions and no intrinsic left."""

    body: dict[str, Any]
    stage: str

    @classmethod
    def from_template(cls, parameters: Mapping[str, str] | None = None, path: Path = TEMPLATE_PATH) -> "ApiDefinition":
        """template.yaml's ProxyApi for these parameters, as SAM hands it to API Gateway."""
        template = load_template(path)
        given = dict(parameters or {})
        if unknown := sorted(set(given) - set(template["Parameters"])):
            raise ValueError(f"{path.name} has no parameter {', '.join(unknown)}")
        properties = ResolvedTemplate(template, given).resources["ProxyApi"]["Properties"]
        values = {
            name: given.get(name, str(spec.get("Default", ""))) for name, spec in template["Parameters"].items()
        } | PSEUDO_PARAMETERS
        functions = {
            name
            for name, resource in template["Resources"].items()
            if resource["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")
        }
        values |= {f"{name}.Arn": function_arn(f"{STACK_NAME}-{name}") for name in functions}
        body = _render_subs(copy.deepcopy(properties["DefinitionBody"]), values)
        if media_types := properties.get("BinaryMediaTypes"):
            # SAM copies BinaryMediaTypes into the body with "~1" written "/" (samtranslator's
            # SwaggerEditor.add_binary_media_types), which is what API Gateway imports.
            body["x-amazon-apigateway-binary-media-types"] = [media.replace("~1", "/") for media in media_types]
        return cls(body=body, stage=str(properties["StageName"]))


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def _render_subs(node: Any, values: Mapping[str, str]) -> Any:
    """Renders every Fn::Sub that ResolvedTemplate leaves, from parameters, pseudo parameters and function ARNs."""
    if isinstance(node, list):
        return [_render_subs(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if list(node) == ["Fn::Sub"]:
        argument = node["Fn::Sub"]
        text, extra = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        scope = {**values, **{name: str(_render_subs(value, values)) for name, value in extra.items()}}

        def variable(match: re.Match[str]) -> str:
            if match.group(1) not in scope:
                raise ValueError(f"cannot render ${{{match.group(1)}}} in {text!r}")
            return scope[match.group(1)]

        return _SUB_VARIABLE.sub(variable, text)
    return {key: _render_subs(value, values) for key, value in node.items()}


# --- the deployment -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalStackDeployment:
    """A frozen deployment of one stage, as LocalStack's router would find it. Reusable across requests."""

    frozen: RestApiDeployment
    deployment_id: str
    stage: str
    corrections: frozenset[Correction]
    import_warnings: tuple[str, ...]


def deploy(definition: ApiDefinition, *, corrections: Collection[Correction] = ALL_CORRECTIONS) -> LocalStackDeployment:
    """Imports the definition with LocalStack's OpenAPI importer (over moto's backend, as LocalStack does) and
    freezes it with LocalStack's freeze_rest_api; the moto and LocalStack stores are left as they were."""
    backend = apigateway_backends[ACCOUNT_ID][REGION]
    moto_api = backend.create_rest_api(name=str(definition.body.get("info", {}).get("title", "api")), description="")
    store = apigateway_stores[ACCOUNT_ID][REGION]
    store.rest_apis[moto_api.id] = RestApiContainer(rest_api={})
    try:
        context = RequestContext(Request("PUT", f"/restapis/{moto_api.id}"))
        context.account_id, context.region = ACCOUNT_ID, REGION
        moto_api, warnings = legacy_helpers.import_api_from_openapi_spec(
            moto_api, context=context, open_api_spec=copy.deepcopy(definition.body), mode="overwrite"
        )
        container = store.rest_apis[moto_api.id]
        container.rest_api = moto_api.to_dict()  # what LocalStack's put_rest_api stores
        complete_import(moto_api, container, definition.body, corrections)
        frozen = helpers.freeze_rest_api(ACCOUNT_ID, REGION, moto_api, container)
    finally:
        del store.rest_apis[moto_api.id]
        backend.delete_rest_api(moto_api.id)
    deployment_id = f"deployment-{moto_api.id}"
    return LocalStackDeployment(frozen, deployment_id, definition.stage, frozenset(corrections), tuple(warnings))


@functools.cache
def template_deployment(*, corrected: bool = True, **parameters: str) -> LocalStackDeployment:
    """template.yaml's ProxyApi deployed once per parameter set (and per test session)."""
    return deploy(ApiDefinition.from_template(parameters), corrections=ALL_CORRECTIONS if corrected else ())


# --- the Lambda service ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaInvocation:
    """What Lambda's Invoke API answers: HTTP status, headers, payload."""

    status: int
    headers: dict[str, str]
    payload: bytes


class LambdaService:
    """Lambda's synchronous Invoke API in front of a Python function: FunctionError becomes a function error
    (200 with X-Amz-Function-Error and an {"errorMessage", "errorType"} payload), as the Lambda runtime reports
    an unhandled exception; a request Lambda refuses gets Lambda's 4XX error instead."""

    def __init__(self, function: LambdaInvoker) -> None:
        self._function = function

    def invoke(self, payload: bytes) -> LambdaInvocation:
        if len(payload) > LAMBDA_REQUEST_LIMIT_BYTES:
            return _lambda_refusal(413, "RequestEntityTooLargeException", LAMBDA_REQUEST_TOO_LARGE)
        try:
            event = json.loads(payload)
        except json.JSONDecodeError as error:
            return _lambda_refusal(
                400, "InvalidRequestContentException", f"Could not parse request body into json: {error}"
            )
        try:
            result = json.dumps(self._function(event)).encode()
        except FunctionError as error:
            return _function_error(str(error), type(error).__name__)
        except Exception as error:
            # A bug in the function or the test, not a function error: AWS_PROXY would hide it behind a 502.
            _UNEXPECTED.get().append(error)
            raise
        if len(result) > LAMBDA_RESPONSE_LIMIT_BYTES:
            return _function_error(LAMBDA_RESPONSE_TOO_LARGE, "Function.ResponseSizeTooLarge")
        return LambdaInvocation(200, {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"}, result)


def _function_error(message: str, error_type: str) -> LambdaInvocation:
    payload = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Amz-Executed-Version": "$LATEST",
        "X-Amz-Function-Error": "Unhandled",
    }
    return LambdaInvocation(200, headers, payload)


def _lambda_refusal(status: int, code: str, message: str) -> LambdaInvocation:
    payload = lambda_refusal(message).encode()
    return LambdaInvocation(status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, payload)


class _AwsIntegration(aws.RestApiAwsIntegration):  # type: ignore[misc]
    """LocalStack's AWS integration; a Lambda URI goes to the LambdaService instead of LocalStack's Lambda."""

    def __init__(self, lambda_service: LambdaService) -> None:
        super().__init__()
        self._lambda = lambda_service

    def invoke(self, context: RestApiInvocationContext) -> EndpointResponse:
        parsed = self.parse_aws_integration_uri(context.integration_request["uri"])
        if parsed["service_name"] != "lambda" or not parsed["path"].startswith("2015-03-31/functions/"):
            return super().invoke(context)
        answer = self._lambda.invoke(context.integration_request["body"])
        return EndpointResponse(body=answer.payload, status_code=answer.status, headers=Headers(answer.headers))


class _AwsProxyIntegration(aws.RestApiAwsProxyIntegration):  # type: ignore[misc]
    """LocalStack's AWS_PROXY integration with only call_lambda replaced; Lambda refusals surface as the
    botocore ClientError LocalStack's Lambda client would raise."""

    def __init__(self, lambda_service: LambdaService) -> None:
        super().__init__()
        self._lambda = lambda_service

    def call_lambda(self, function_arn: str, event: bytes, source_arn: str, credentials: str | None = None) -> bytes:
        answer = self._lambda.invoke(event)
        if answer.status != 200:
            error = json.loads(answer.payload)
            code = answer.headers["x-amzn-ErrorType"]
            raise ClientError({"Error": {"Code": code, "Message": error["message"]}}, "Invoke")
        return answer.payload


# --- the gateway ----------------------------------------------------------------------------------------------------


class _InvocationContext(RestApiInvocationContext):  # type: ignore[misc]
    """LocalStack's invocation context plus the deployment identity our engine uses for the same request."""

    identity: IntegrationContext
    source_ip: str
    authorizer: dict[str, Any] | None
    resource_id: str


def _set_request_identity(chain: Any, context: _InvocationContext, response: Response) -> None:
    """After LocalStack's parser: request id, time, domain name, source IP and authorizer context as our engine has
    them. LocalStack community does not run Lambda authorizers; the authorizer's context is given instead."""
    variables = context.context_variables
    moment = datetime.fromtimestamp(context.identity.request_time_epoch_ms / 1000, tz=UTC)
    variables["requestId"] = context.identity.request_id
    variables["requestTime"] = moment.strftime(_REQUEST_TIME_FORMAT)
    variables["requestTimeEpoch"] = context.identity.request_time_epoch_ms
    variables["domainName"] = context.invocation_request["headers"].get("Host") or "localhost"
    variables["domainPrefix"] = variables["domainName"].split(".")[0]
    variables["identity"]["sourceIp"] = context.source_ip
    context.trace_id = context.identity.trace_id  # both engines derive it from the request id
    if context.authorizer is not None:
        variables["authorizer"] = dict(context.authorizer)


def _set_resource_identity(chain: Any, context: _InvocationContext, response: Response) -> None:
    """After LocalStack's router: our engine names every resource the same."""
    context.context_variables["resourceId"] = context.resource_id


class _IntegrationHandler:
    """LocalStack's IntegrationHandler over this engine's own table of integrations (no global registry touched)."""

    def __init__(self, integrations: Mapping[str, Any]) -> None:
        self._integrations = integrations

    def __call__(self, chain: Any, context: RestApiInvocationContext, response: Response) -> None:
        integration_type = context.integration["type"]
        endpoint_response = self._integrations[integration_type].invoke(context)
        context.endpoint_response = endpoint_response
        if "PROXY" in integration_type:
            context.invocation_response = endpoint_response


# Exceptions that are neither gateway errors nor function errors, for the request running in this thread: LocalStack
# would answer them with a 500 (or a 502 for AWS_PROXY); the adapter raises them, as our engine lets them through.
_UNEXPECTED: ContextVar[list[Exception]] = ContextVar("localstack_engine_unexpected")


class _UnexpectedErrors:
    def __call__(self, chain: Any, exception: Exception, context: RestApiInvocationContext, response: Response) -> None:
        if not isinstance(exception, gateway_responses.BaseGatewayException):
            _UNEXPECTED.get().append(exception)


def _gateway(lambda_service: LambdaService) -> Any:
    """LocalStack's RestApiGateway with the identity handlers added and this engine's integration handler."""
    engine = gateway.RestApiGateway()
    integrations = {
        **REST_API_INTEGRATIONS,  # MOCK and HTTP as LocalStack ships them
        "AWS": _AwsIntegration(lambda_service),
        "AWS_PROXY": _AwsProxyIntegration(lambda_service),
    }
    chain = engine.request_handlers
    chain.insert(chain.index(handlers.parse_request) + 1, _set_request_identity)
    chain.insert(chain.index(handlers.route_request) + 1, _set_resource_identity)
    chain[chain.index(handlers.integration_handler)] = _IntegrationHandler(integrations)
    engine.exception_handlers.insert(0, _UnexpectedErrors())
    return engine


class LocalStackIntegration(Engine):
    """The Engine our RestApiIntegration is, through LocalStack's handler chain."""

    def __init__(
        self,
        deployment: LocalStackDeployment,
        invoke: LambdaInvoker,
        *,
        api_id: str = API_ID,
        resource_id: str = RESOURCE_ID,
        corrections: Collection[Correction] | None = None,
    ) -> None:
        """`corrections`: the run-time corrections to apply; by default those the deployment was built with."""
        self._deployment = deployment
        self._corrections = deployment.corrections if corrections is None else frozenset(corrections)
        self._gateway = _gateway(LambdaService(invoke))
        self._api_id = api_id
        self._resource_id = resource_id

    @property
    def deployment(self) -> LocalStackDeployment:
        return self._deployment

    @property
    def answers_preflight(self) -> bool:
        return any("OPTIONS" in resource.get("resourceMethods", {}) for resource in self._resources())

    def _resources(self) -> list[dict[str, Any]]:
        return list(self._deployment.frozen.rest_api.resources.values())

    def answer(
        self, request: MethodRequest, context: IntegrationContext, authorizer: dict[str, Any] | None
    ) -> MethodResponse:
        http_request = self._http_request(request)
        invocation = _InvocationContext(http_request)
        invocation.identity = context
        invocation.source_ip = request.source_ip
        invocation.authorizer = authorizer
        invocation.resource_id = self._resource_id
        invocation.deployment = self._deployment.frozen
        invocation.api_id = self._api_id
        invocation.stage = self._deployment.stage
        invocation.deployment_id = self._deployment.deployment_id
        invocation.stage_configuration = {"stageName": self._deployment.stage, "variables": {}}
        response = ApiGatewayEndpoint.create_response(http_request)  # LocalStack's starting response
        unexpected: list[Exception] = []
        token = _UNEXPECTED.set(unexpected)
        try:
            with active_corrections(self._corrections):
                self._gateway.process_with_context(invocation, response)
        finally:
            _UNEXPECTED.reset(token)
        if unexpected:
            raise RuntimeError(f"LocalStack's pipeline failed on {request.method} {request.path}") from unexpected[0]
        headers = [(name, value) for name, value in response.headers.items() if name.lower() not in TRANSPORT_HEADERS]
        return MethodResponse(response.status_code, headers, response.get_data(), context.request_id)

    def _http_request(self, request: MethodRequest) -> Request:
        """The request as LocalStack's execute-api route receives it: `/{stage}{path}` with the path still
        percent-encoded in RAW_URI (what LocalStack's parser reads), the query re-encoded from its decoded pairs."""
        raw_path = f"/{self._deployment.stage}{request.path}"
        forwarded_port = next((v for k, v in request.headers if k.lower() == "x-forwarded-port"), "443")
        return Request(
            method=request.method,
            path=unquote(raw_path),
            headers=Headers(request.headers),
            body=request.body,
            query_string=urlencode(request.query, quote_via=quote),
            remote_addr=request.source_ip,
            server=("localhost", int(forwarded_port) if forwarded_port.isdigit() else 443),
            raw_path=raw_path,
        )


__all__ = [
    "TRANSPORT_HEADERS",
    "ApiDefinition",
    "LambdaInvocation",
    "LambdaService",
    "LocalStackDeployment",
    "LocalStackIntegration",
    "deploy",
    "template_deployment",
]
