"""Every assumption the design makes about API Gateway (and Lambda under it), with the evidence for each: data only.

The single source: tests/e2e/test_api_gateway_assumptions.py has one test per id (marked
`@pytest.mark.assumption("Axx")`), `make e2e` prints their results against a deployed stack in this order, and
docs/api-gateway-assumptions.md holds what tests/support/assumption_report.py renders from this list (a unit test
compares them; `python -m tests.support.assumption_report --write` regenerates it).

Evidence is quoted as written: a sentence of AWS's documentation with its page, or a LocalStack test that LocalStack
ran against real AWS (its `*.validation.json` date), described by what it asserts and nothing more. What no evidence
covers is said in `unverified`; the first real deploy settles it (`STACK_NAME=<stack> make e2e`, once per
IntegrationMode). The API Gateway quotes are from AWS's developer guide, whose archived source
(awsdocs/amazon-api-gateway-developer-guide, doc_source/*.md, 2023) holds each of them word for word; the Lambda
quote is from the Lambda API reference. Response streaming (STREAM, November 2025) postdates that archive: its quotes
are from the live guides' pages, as their markdown editions (the page's URL ending in .md) give them.
"""

from dataclasses import dataclass

from tests.support.deployed import PROXY, STREAM, VTL

BOTH = (VTL, PROXY)
MODES = (VTL, PROXY, STREAM)

_GUIDE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
_LOCALSTACK_TESTS = "tests/aws/services/apigateway/"


@dataclass(frozen=True)
class AwsDoc:
    """A sentence of AWS's documentation, verbatim, and the page that holds it."""

    quote: str
    url: str


@dataclass(frozen=True)
class LocalStackTest:
    """A LocalStack test validated against AWS: `file::[class::]test` under tests/aws/services/apigateway/."""

    test: str
    validated: str  # last_validated_date in the file's *.validation.json (UTC day)
    asserts: str  # what the test asserts that bears on the claim, in our words


@dataclass(frozen=True)
class Assumption:
    id: str
    short: str  # for the printed table
    claim: str
    modes: tuple[str, ...]
    docs: tuple[AwsDoc, ...] = ()
    localstack: tuple[LocalStackTest, ...] = ()
    unverified: str = ""  # the part of the claim no evidence above covers
    note: str = ""  # context that is not evidence: community reports, contradictions, what the design does if false

    @property
    def evidence_kind(self) -> str:
        kinds = [name for name, items in (("AWS docs", self.docs), ("LocalStack", self.localstack)) if items]
        if not kinds:
            return "not yet verified"
        kind = " + ".join(kinds) if len(kinds) == 2 else ("LocalStack-validated" if self.localstack else "AWS docs")
        return f"{kind} (part not yet verified)" if self.unverified else kind


def _doc(page: str, quote: str) -> AwsDoc:
    return AwsDoc(quote=quote, url=_GUIDE + page)


_BODY_FORMATTING = LocalStackTest(
    "test_apigateway_common.py::TestApiGatewayCommon::test_input_body_formatting",
    "2025-03-19",
    "a POST without body (Content-Type application/json, no binaryMediaTypes) renders `$input.body` as `{}` "
    "in a request template (`MessageBody=$input.body` became `MessageBody={}`)",
)
_SQS_WITHOUT_PAYLOAD = LocalStackTest(
    "test_apigateway_sqs.py::test_sqs_aws_integration",
    "2025-03-19",
    "a POST with no body and no Content-Type, against an integration with only an application/json request "
    "template and passthroughBehavior NEVER, answered 200 and sent the message body `{}` (MD5 99914b93…)",
)
_S3_REQUEST_CONVERT_TO_TEXT = LocalStackTest(
    "test_apigateway_s3.py::TestApiGatewayS3BinarySupport::test_apigw_s3_binary_support_request[CONVERT_TO_TEXT]",
    "2025-03-17",
    "with binaryMediaTypes image/png and the integration's contentHandling CONVERT_TO_TEXT, a non-UTF-8 image/png "
    "request body reached S3 as its base64 (no request template); sent as text/plain, the same bytes arrived with "
    "U+FFFD replacements",
)
_S3_RESPONSE_CONVERT_TO_TEXT = LocalStackTest(
    "test_apigateway_s3.py::TestApiGatewayS3BinarySupport::test_apigw_s3_binary_support_response_convert_to_text",
    "2025-03-17",
    "an integration response with contentHandling CONVERT_TO_TEXT turned a binary payload (Content-Type image/png, "
    "a binary media type) into its base64, with Accept image/png and with Accept text/plain (no response template)",
)
_S3_RESPONSE_TEMPLATE = LocalStackTest(
    "test_apigateway_s3.py::TestApiGatewayS3BinarySupport::"
    "test_apigw_s3_binary_support_response_convert_to_binary_with_request_template",
    "2025-03-17",
    'with CONVERT_TO_TEXT a response template `{"data": "$input.body"}` rendered the (text) payload; the same '
    "integration response switched to CONVERT_TO_BINARY answered 500",
)
_PROXY_BINARY_RESPONSE = LocalStackTest(
    "test_apigateway_lambda.py::test_aws_proxy_binary_response",
    "2025-01-29",
    "binaryMediaTypes [image/png, */test], then [image/png, application/*, image/jpg]: a base64 AWS_PROXY answer "
    "came back as bytes only when the request's first Accept type matched a binary media type exactly or by a "
    "right-side wildcard (`image/png,image/*,*/*;q=0.8` bytes, `image/webp,image/png,*/*;q=0.8` base64 text); the "
    "configured `*/test` did not match `random/test`; Accept `*/*` gave base64 text; the answer's own Content-Type "
    "did not matter",
)
_PROXY_EVENT = LocalStackTest(
    "test_apigateway_lambda.py::test_lambda_aws_proxy_integration",
    "2024-08-02",
    "on stage `stage`, GET /stage/proxy-value gave the AWS_PROXY event `path` /proxy-value and `requestContext.path` "
    "/stage/proxy-value; `%2B` in the URL stayed `%2B` in `path` and in `pathParameters.proxy`",
)
_SELECTION_PATTERNS = LocalStackTest(
    "test_apigateway_lambda.py::test_lambda_selection_patterns",
    "2025-05-05",
    "a Lambda (non-proxy) integration with selection patterns empty (200), `.*four hundred.*` (405), `.+` (502) "
    "and `200` (504): a normal return answered 200; exceptions raised by the function were matched by their "
    "errorMessage and answered 405 and 502",
)

_HEADER_REMAPPING = LocalStackTest(
    "test_apigateway_integrations.py::TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_aws",
    "2024-12-11",
    "[AWS] and [AWS_PROXY]: request headers Connection, Content-Length, Content-MD5, Expect, Max-Forwards, "
    "Proxy-Authenticate, Server, TE, Transfer-Encoding, Trailer, Upgrade and WWW-Authenticate never reached the "
    "integration; integration response headers Date and Server (and, for non-proxy integrations, Authorization, "
    "Content-MD5, Expect, Host, Max-Forwards, Proxy-Authenticate, Trailer, Upgrade, User-Agent and WWW-Authenticate) "
    "reached the client renamed x-amzn-Remapped-<name>; API Gateway's own errors carried x-amzn-ErrorType",
)

_WORKFLOW = "api-gateway-payload-encodings-workflow.html"
_MAPPINGS = "request-response-data-mappings.html"
_TEMPLATE_REFERENCE = "api-gateway-mapping-template-reference.html"
_OVERRIDES = "apigateway-override-request-response-parameters.html"
_PASSTHROUGH = "integration-passthrough-behaviors.html"
_AUTHORIZER_CONSOLE = "configure-api-gateway-lambda-authorization-with-console.html"
_AUTHORIZER_OUTPUT = "api-gateway-lambda-authorizer-output.html"
_LAMBDA_ERRORS = "handle-errors-in-lambda-integration.html"
_QUOTAS = "limits.html"
_GATEWAY_RESPONSE_TYPES = "supported-gateway-response-types.html"
_KNOWN_ISSUES = "api-gateway-known-issues.html"
_STREAMING = "response-transfer-mode.html"
_STREAMING_LAMBDA = "response-transfer-mode-lambda.html"
_LAMBDA_STREAMING = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html"
_TO_TEXT_TEMPLATE = (
    "When converting a binary payload to a text string, API Gateway always applies a Base64 encoding on the binary "
    "data. You can define a mapping template for such a payload, but can only access the Base64-encoded string in "
    "the mapping template through $input.body, as shown in the following excerpt of an example mapping template."
)

ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "A01",
        "*/* makes every request Content-Type binary",
        "binaryMediaTypes `*/*` matches every request Content-Type, text types included, so every request body is "
        "converted as binary (never mangled as text, never through escapeJavaScript).",
        BOTH,
        docs=(
            _doc(
                "api-gateway-payload-encodings.html",
                "You can use the wildcard character (*) to cover multiple media types. For example, */* includes "
                "all content types.",
            ),
            _doc(
                "api-gateway-payload-encodings-configure-with-console.html",
                "To support all binary media types, specify */*.",
            ),
        ),
        note="LocalStack's validated test_aws_proxy_binary_response shows that a left-side wildcard (`*/test`) does "
        "not match `random/test`; `*/*` itself is not in it, and LocalStack's engine skips `*/*` altogether. If "
        "`*/*` did not apply to text types, VTL would hand the template raw text marked as base64 (a 400 from the "
        "proxy) and PROXY would replace non-UTF-8 bytes.",
    ),
    Assumption(
        "A02",
        "VTL: a binary body is base64 in $input.body",
        "With the integration's contentHandling CONVERT_TO_TEXT, a binary request payload reaches the request "
        "template as its base64 in `$input.body`, which the template passes on without encoding it again.",
        (VTL,),
        docs=(
            _doc(
                _WORKFLOW,
                "Binary data | A binary data type | Set with matching media types | CONVERT_TO_TEXT | "
                "Base64-encoded string",
            ),
            _doc(_WORKFLOW, _TO_TEXT_TEMPLATE),
        ),
        localstack=(_S3_REQUEST_CONVERT_TO_TEXT,),
    ),
    Assumption(
        "A03",
        "PROXY: a binary body arrives base64, isBase64Encoded",
        "In AWS_PROXY, a request body whose Content-Type matches binaryMediaTypes reaches the function base64-encoded "
        "with `isBase64Encoded: true`.",
        (PROXY,),
        unverified="AWS documents isBase64Encoded for the function's answer, not for the event; no validated "
        "LocalStack test sends a binary request through AWS_PROXY.",
    ),
    Assumption(
        "A04",
        "VTL: an empty body is {} in $input.body",
        "An empty request body reaches the request template as the two characters `{}`; under `*/*` every real body "
        "is base64, which never contains `{`, so a body that is `{}` itself stays distinguishable.",
        (VTL,),
        localstack=(_BODY_FORMATTING, _SQS_WITHOUT_PAYLOAD),
        unverified="Both tests ran without binaryMediaTypes. Under `*/*` with CONVERT_TO_TEXT an empty body could "
        "arrive as an empty string instead; the template reads that as an empty base64 body, which is the same.",
    ),
    Assumption(
        "A05",
        "VTL: no Content-Type selects the application/json template",
        "A request without Content-Type is mapped with the `application/json` request template (passthroughBehavior "
        "NEVER does not refuse it).",
        (VTL,),
        docs=(
            _doc(
                _MAPPINGS,
                "When the Content-Type header is absent in the request, API Gateway assumes that its default value is "
                "application/json. For such a request, API Gateway uses application/json as the default key to "
                "select the mapping template, if one is defined.",
            ),
            _doc(
                _PASSTHROUGH,
                "None (default to application/json) | The request payload is transformed using the template. | The "
                "request payload is transformed using the template. | The request payload is transformed using the "
                "template.",
            ),
        ),
        localstack=(_SQS_WITHOUT_PAYLOAD,),
    ),
    Assumption(
        "A06",
        "A body without Content-Type is converted as binary too",
        "A request body without Content-Type is treated as binary under `*/*` (as the default application/json), so "
        "it reaches the template as base64 (VTL) or the function with isBase64Encoded (PROXY), byte for byte.",
        BOTH,
        unverified="AWS documents the default type for choosing a template only, not for the binary conversion.",
    ),
    Assumption(
        "A07",
        "VTL: only the MIME type selects a request template",
        "Request templates are chosen by the Content-Type's MIME type alone: `application/json; charset=UTF-8` uses "
        "the `application/json` template.",
        (VTL,),
        docs=(
            _doc(
                _MAPPINGS,
                "Only the MIME type is used from the Accept and Content-Type headers when selecting a mapping "
                'template. For example, a header of "Content-Type: application/json; charset=UTF-8" will have a '
                "request template with the application/json key selected.",
            ),
        ),
    ),
    Assumption(
        "A08",
        "VTL: an unlisted Content-Type is a 415",
        "With passthroughBehavior NEVER, a Content-Type without a request template is refused with 415 through the "
        "UNSUPPORTED_MEDIA_TYPE gateway response (the template's JSON), before the function runs.",
        (VTL,),
        docs=(
            _doc(
                _PASSTHROUGH,
                "The request is rejected with an HTTP 415 Unsupported Media Type response.",
            ),
            _doc(
                "supported-gateway-response-types.html",
                "The gateway response when a payload is of an unsupported media type, if strict passthrough behavior "
                "is enabled.",
            ),
        ),
    ),
    Assumption(
        "A09",
        "VTL: a gateway response header echoes a request header",
        "A gateway response header can be mapped from a request header: the 415 carries the refused type in "
        "`X-Unsupported-Content-Type` (from `method.request.header.Content-Type`).",
        (VTL,),
        docs=(
            _doc(
                "api-gateway-gatewayResponse-definition.html",
                "A gateway response mapping template can access $context variable values and $stageVariables "
                "property values, as well as method request parameters, in the form of "
                "method.request.param-position.param-name.",
            ),
            _doc(
                "api-gateway-swagger-extensions-gateway-responses.responseParameters.html",
                '"gatewayresponse.header.from-request-header" : method.request.header.Accept,',
            ),
        ),
    ),
    Assumption(
        "A10",
        "VTL: $input.params() holds one string per name",
        "`$input.params()` gives maps (path, querystring, header) whose `keySet()` the request template iterates, "
        "each name with one string value; a repeated query key keeps its last value.",
        (VTL,),
        docs=(_doc(_TEMPLATE_REFERENCE, "Returns a map of all the request parameters."),),
        unverified="AWS does not say which value of a repeated name the map holds. For query strings the limits "
        "(docs/request-flow.md) say the last; for a repeated header both local engines take the first (LocalStack's "
        "choice). The multi-value forms exist only as parameter-mapping sources.",
    ),
    Assumption(
        "A11",
        "VTL: escapeJavaScript's \\' is undone by replaceAll",
        "`$util.escapeJavaScript()` writes `'` as `\\'` (invalid JSON); `.replaceAll(\"\\\\'\",\"'\")` undoes it, so "
        "header and query values with quotes, backslashes and non-ASCII text reach the function unchanged.",
        (VTL,),
        docs=(
            _doc(
                _TEMPLATE_REFERENCE,
                "This function will turn any regular single quotes (') into escaped ones (\\'). However, the escaped "
                "single quotes are not valid in JSON. Thus, when the output from this function is used in a JSON "
                "property, you must turn any escaped single quotes (\\') back to regular single quotes (').",
            ),
        ),
    ),
    Assumption(
        "A12",
        "The backend path has no stage",
        "The path the function forwards (VTL: the `{proxy+}` path parameter; PROXY: the event's `path`) excludes the "
        "stage; only `$context.path` carries it.",
        BOTH,
        docs=(
            _doc(
                _TEMPLATE_REFERENCE,
                "The request path. For example, for a non-proxy request URL of "
                "https://{rest-api-id}.execute-api.{region}.amazonaws.com/{stage}/root/child, the $context.path "
                "value is /{stage}/root/child.",
            ),
        ),
        localstack=(_PROXY_EVENT,),
        unverified="`$input.params().path` in a mapping template is not separately verified (the AWS_PROXY event's "
        "pathParameters are the same method request parameters).",
    ),
    Assumption(
        "A13",
        "The backend path keeps the client's %-encoding",
        "That path still carries the client's percent-encoding (`%2B` stays `%2B`, not `+`), which the proxy keeps, "
        "so the backend is asked for the path the client sent.",
        BOTH,
        localstack=(_PROXY_EVENT,),
        unverified="`$input.params().path` in a mapping template, and escapes other than `%2B`.",
        note="Only a backend that echoes the raw request target shows it (the demo backend does; werkzeug-based "
        "httpbin decodes the path first), so the e2e test skips on other backends.",
    ),
    Assumption(
        "A14",
        "VTL: a normal return selects the default response",
        "A normal return from the function (any statusCode in it) selects the default integration response; the "
        "`(?s).+` error mapping is matched only against a Lambda error's errorMessage.",
        (VTL,),
        docs=(
            _doc(
                _LAMBDA_ERRORS,
                "At runtime, API Gateway matches the Lambda error's errorMessage against the pattern of the regular "
                "expression on the selectionPattern property.",
            ),
        ),
        localstack=(_SELECTION_PATTERNS,),
    ),
    Assumption(
        "A15",
        "A failed invocation is a 502",
        "A failed invocation (crash, init error, timeout) is a 502: in VTL through the `(?s).+` error mapping and its "
        "JSON, in PROXY from API Gateway itself.",
        BOTH,
        docs=(
            _doc(
                _LAMBDA_ERRORS,
                "If there is a match, API Gateway returns the Lambda error as an HTTP response of the corresponding "
                "HTTP status code.",
            ),
            _doc(
                "set-up-lambda-proxy-integrations.html",
                "If the function output is of a different format, API Gateway returns a 502 Bad Gateway error "
                "response.",
            ),
        ),
        localstack=(_SELECTION_PATTERNS,),
        unverified="That a crash, an init failure or a timeout (not a raised exception) carries a non-empty "
        "errorMessage, and that AWS_PROXY treats a failed invocation like a malformed answer.",
    ),
    Assumption(
        "A16",
        "VTL: contentHandling runs before the response template",
        "The Lambda's answer is an integration response of Content-Type application/json, a binary payload under "
        "`*/*`; the integration response's CONVERT_TO_TEXT turns it into base64 before the response template runs, "
        "so the template always reads text.",
        (VTL,),
        docs=(
            _doc(
                _KNOWN_ISSUES,
                "API Gateway includes a Content-Type header for all integration responses. By default, the content "
                "type is application/json.",
            ),
            _doc(_WORKFLOW, _TO_TEXT_TEMPLATE),
        ),
        localstack=(_S3_RESPONSE_CONVERT_TO_TEXT, _S3_RESPONSE_TEMPLATE),
        unverified="The validated tests use S3, not a Lambda invoke result; and an answer arriving does not show "
        "which text the template read (the base64, or the JSON itself: the template accepts both).",
        note="Without CONVERT_TO_TEXT the template would meet binary; with CONVERT_TO_BINARY and a template AWS "
        "answered 500 (the LocalStack test above).",
    ),
    Assumption(
        "A17",
        "VTL: parseJson gives a map; base64Decode a string",
        "`$util.base64Decode()` returns a string and `$util.parseJson()` a map whose `keySet()` and `get()` the "
        "response template uses to copy every header.",
        (VTL,),
        docs=(
            _doc(_TEMPLATE_REFERENCE, "Decodes the data from a base64-encoded string."),
            _doc(
                _TEMPLATE_REFERENCE,
                'Takes "stringified" JSON and returns an object representation of the result. You can use the result '
                "from this function to access and manipulate elements of the payload natively in Apache Velocity "
                "Template Language (VTL).",
            ),
        ),
        unverified="That the object has `keySet()` and `get()` (a Java Map), and that base64Decode's result is a "
        "string the template can pass to parseJson.",
    ),
    Assumption(
        "A18",
        "VTL: responseOverride sets any status and header name",
        "`$context.responseOverride.status` sets any status, and `$context.responseOverride.header[$name]` sets "
        "headers whose names come from the function's answer.",
        (VTL,),
        docs=(
            _doc(
                _OVERRIDES,
                "Any type of request parameter, response header, or response status code may be overridden.",
            ),
            _doc(
                _OVERRIDES,
                "To iterate over the contents of a json body and remap key value pairs to headers or query strings",
            ),
        ),
        unverified="The documented examples write fixed names (`header.name`); the bracket form with a variable is "
        "not shown.",
    ),
    Assumption(
        "A19",
        "VTL: one value per header: only the first Set-Cookie",
        "responseOverride holds one value per header name, so only the first of several Set-Cookie headers reaches "
        "the client (the function counts the dropped ones).",
        (VTL,),
        docs=(
            _doc(
                _OVERRIDES,
                "Overrides are final. An override may only be applied to each parameter once. Trying to override the "
                "same parameter multiple times will result in 5XX responses from Amazon API Gateway.",
            ),
        ),
        unverified="AWS documents no multi-value override; that exactly one Set-Cookie (the first) arrives.",
    ),
    Assumption(
        "A20",
        "VTL: non-ASCII UTF-8 text survives the response template",
        "`$util.base64Decode()` decodes the base64 of the function's JSON answer as UTF-8, and the template's output "
        "is sent as the UTF-8 body, so a non-ASCII text body arrives byte for byte.",
        (VTL,),
        unverified="AWS documents neither charset.",
        note="The Lambda runtime may write non-ASCII characters into the JSON answer unescaped; base64Decode's "
        "charset then decides whether they survive.",
    ),
    Assumption(
        "A21",
        "VTL: the response template applies whatever Accept",
        "The one `application/json` response template maps every answer, whatever the client's Accept (none, a "
        "binary type, another text type).",
        (VTL,),
        docs=(
            _doc(
                _MAPPINGS,
                "When the Accept header is not specified in the request, API Gateway assumes that its default value "
                "is application/json.",
            ),
            _doc(
                _MAPPINGS,
                "Similarly, API Gateway uses the first existing template when the specified Accept header value does "
                "not match any existing template key.",
            ),
        ),
    ),
    Assumption(
        "A22",
        "The CORS preflight mock works under */*",
        "The OPTIONS mock answers preflights (204 with the CORS headers) under `*/*`, given contentHandling "
        "CONVERT_TO_TEXT on its integration and its integration response.",
        BOTH,
        unverified="No AWS documentation or validated test covers a mock integration under `*/*`.",
        note="aws/chalice#1310 (a community report, not AWS evidence): OPTIONS mocks answered 500 under `*/*` until "
        "contentHandling was set.",
    ),
    Assumption(
        "A23",
        "PROXY: with */*, any Accept gets base64 answers as bytes",
        "In AWS_PROXY an `isBase64Encoded` answer goes out as bytes when the request's first Accept type is a binary "
        "media type; under `*/*` that is any Accept value, a browser's included.",
        (PROXY,),
        docs=(
            _doc(
                "lambda-proxy-binary-media.html",
                "API Gateway uses the first Accept header from clients to determine if a response should return "
                "binary media. To return binary media when you can't control the order of Accept header values, such "
                "as requests from a browser, set your API's binary media types to */* (for all content types).",
            ),
        ),
        localstack=(_PROXY_BINARY_RESPONSE,),
        unverified="The validated test never configured `*/*`; that `*/*` matches every Accept type rests on the "
        "documentation alone.",
    ),
    Assumption(
        "A24",
        "PROXY: without Accept, base64 answers stay base64 text",
        "In AWS_PROXY, a request without an Accept header gets an `isBase64Encoded` answer as its base64 text, not "
        "as bytes (clients must send Accept for binary downloads).",
        (PROXY,),
        unverified="Not documented. LocalStack's validated \"no Accept\" case sent `requests`' default `Accept: */*`.",
    ),
    Assumption(
        "A25",
        "PROXY: headers and multiValueHeaders are merged",
        "In AWS_PROXY, `headers` and `multiValueHeaders` of the answer are merged into one list, so disjoint maps "
        "deliver every header (every Set-Cookie) exactly once.",
        (PROXY,),
        docs=(
            _doc(
                "set-up-lambda-proxy-integrations.html",
                "If you specify values for both headers and multiValueHeaders, API Gateway merges them into a single "
                "list. If the same key-value pair is specified in both, only the values from multiValueHeaders will "
                "appear in the merged list.",
            ),
        ),
    ),
    Assumption(
        "A26",
        "TOKEN: a cached Allow covers the client's next paths",
        "The TOKEN authorizer's result is cached per token for AuthorizerCacheTtlSeconds and applied to the client's "
        "other methods and paths, which the Allow policy therefore covers (the whole stage).",
        BOTH,
        docs=(
            _doc(
                _AUTHORIZER_CONSOLE,
                "When policy caching is enabled, the header name specified in Token Source becomes the cache key.",
            ),
            _doc(
                _AUTHORIZER_CONSOLE,
                "To enable caching, your authorizer must return a policy that is applicable to all methods across an "
                "API.",
            ),
        ),
        unverified="The e2e test shows that the token works on the client's next methods and paths; it cannot tell "
        "whether the cached result or a fresh authorizer call allowed them.",
    ),
    Assumption(
        "A27",
        "TOKEN: no token 401, malformed 401, unknown 403",
        "No Authorization header and a header failing identityValidationExpression are 401 (the latter without "
        "invoking the authorizer), an unknown token is 403 (Deny), each in the JSON gateway response.",
        BOTH,
        docs=(
            _doc(
                _AUTHORIZER_CONSOLE,
                "API Gateway performs initial validation of the input token against this expression and invokes the "
                "authorizer upon successful validation.",
            ),
            _doc(
                "apigateway-use-lambda-authorizer.html",
                "If access is denied, API Gateway returns a suitable HTTP status code, such as 403 ACCESS_DENIED.",
            ),
        ),
    ),
    Assumption(
        "A28",
        "TOKEN: the authorizer's context reaches the function",
        "The authorizer's `context.client` reaches the function (VTL: `$context.authorizer.client`; PROXY: "
        "`requestContext.authorizer.client`), which sends it as X-Authenticated-Client.",
        BOTH,
        docs=(
            _doc(
                _AUTHORIZER_OUTPUT,
                'You can access the stringKey, numberKey, or booleanKey value (for example, "value", "1", or '
                '"true") of the context map in a mapping template by calling $context.authorizer.stringKey, '
                "$context.authorizer.numberKey, or $context.authorizer.booleanKey, respectively.",
            ),
            _doc(
                _AUTHORIZER_OUTPUT,
                "For the Lambda proxy integration, API Gateway passes the context object from a Lambda authorizer "
                "directly to the backend Lambda function as part of the input event.",
            ),
        ),
    ),
    Assumption(
        "A29",
        "A request over 10 MB is a 413 from API Gateway",
        "API Gateway refuses a request payload over 10 MB with 413 before any integration runs.",
        BOTH,
        docs=(_doc(_QUOTAS, "Payload size | 10 MB | No"),),
        note="AWS also says: \"Customizing the default gateway response for 413 REQUEST_TOO_LARGE isn't currently "
        f'supported." ({_GUIDE}{_KNOWN_ISSUES}) The template therefore defines no REQUEST_TOO_LARGE response, and '
        "the local gateway answers AWS's own body; the e2e test reports which body arrived.",
    ),
    Assumption(
        "A30",
        "An event over Lambda's 6 MB is refused before the function",
        "Lambda takes at most 6 MB per synchronous invoke, so a request whose event exceeds it (a binary body over "
        "about 4.5 MB, as base64) is refused with an error status and never reaches the function or the backend.",
        BOTH,
        docs=(
            AwsDoc(
                "For synchronous invocations, the maximum payload size is 6 MB.",
                "https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html",
            ),
        ),
        unverified="What API Gateway does with Lambda's refusal. Both local engines follow LocalStack: a mapping "
        "template integration hands it to the default integration response, whose template answers a 502 JSON error "
        "naming it (it has no statusCode); AWS_PROXY answers 502 itself.",
    ),
    Assumption(
        "A31",
        "API Gateway waits up to 29 s for the function",
        "API Gateway waits up to 29 s (timeoutInMillis 29000) for the function, longer than BackendTimeoutSeconds "
        "(at most 28), so the proxy's own 504 always comes first.",
        BOTH,
        docs=(
            _doc(
                _QUOTAS,
                "Integration timeout | 50 milliseconds - 29 seconds for all integration types, including Lambda, "
                "Lambda proxy, HTTP, HTTP proxy, and AWS integrations.",
            ),
        ),
        note="Since June 2024 the upper bound can be raised for Regional and private APIs, possibly with a lower "
        "account throttle; the template keeps 29 s.",
    ),
    Assumption(
        "A32",
        "Some backend headers reach the client renamed",
        "API Gateway renames some integration response headers to `x-amzn-Remapped-<name>` and sends its own: a "
        "backend's `Date` and `Server` (VTL also `Authorization`, `Host`, `User-Agent`, `WWW-Authenticate` and a few "
        "more) reach the client as `x-amzn-Remapped-Date`, `x-amzn-Remapped-Server`, ... ",
        BOTH,
        localstack=(_HEADER_REMAPPING,),
        note='So "every header" has exceptions the proxy cannot avoid; the header table in docs/request-flow.md '
        "lists them.",
    ),
    Assumption(
        "A33",
        "Some request headers never reach the function",
        "API Gateway drops `Connection`, `Content-Length`, `Content-MD5`, `Expect`, `Max-Forwards`, "
        "`Proxy-Authenticate`, `Server`, `TE`, `Transfer-Encoding`, `Trailer`, `Upgrade` and `WWW-Authenticate` from "
        "the request before any template or event sees it.",
        BOTH,
        localstack=(_HEADER_REMAPPING,),
        note="The proxy still removes hop-by-hop headers itself, for events that carry them (sam local invoke).",
    ),
    Assumption(
        "A34",
        "A failed authorizer is a 500, and is not cached",
        "A TOKEN authorizer invocation that fails (the function raises anything but `Unauthorized`) is answered "
        "with a 500, and nothing is cached: the same token's next request runs the authorizer again. So the "
        "authorizer fails, rather than returning a Deny, when its token store cannot be read (a Deny would be "
        "cached for AuthorizerCacheTtlSeconds).",
        BOTH,
        docs=(
            _doc(
                _GATEWAY_RESPONSE_TYPES,
                "The gateway response for failing to connect to a custom or Amazon Cognito authorizer. If the "
                "response type is unspecified, this response defaults to the DEFAULT_5XX type.",
            ),
            _doc(
                _GATEWAY_RESPONSE_TYPES,
                "The gateway response when a custom or Amazon Cognito authorizer failed to authenticate the caller. "
                "If the response type is unspecified, this response defaults to the DEFAULT_5XX type.",
            ),
        ),
        unverified="Which of the two (AUTHORIZER_CONFIGURATION_ERROR, AUTHORIZER_FAILURE) a raised error selects, "
        "and that a failure is never cached: AWS documents the caching of policies only.",
        note="Community reports (e.g. dev.to/marcogrcr, API Gateway + Lambda authorizer failure modes) show a 500 "
        'with `x-amzn-ErrorType: AuthorizerConfigurationException` and `{"message": null}`; the local gateway '
        "answers that, uncached. If AWS cached the failure, one unreadable second would lock a token out for the "
        "TTL either way, and a Deny would say less about why.",
    ),
    Assumption(
        "A35",
        "Streaming invokes need only lambda:InvokeFunction",
        "API Gateway invokes the function with InvokeWithResponseStream under the same resource permission as a "
        "buffered invoke (`lambda:InvokeFunction` for apigateway.amazonaws.com, scoped to this API).",
        (STREAM,),
        docs=(
            AwsDoc(
                "This operation requires permission for the lambda:InvokeFunction action.",
                "https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html",
            ),
        ),
        note="Some deployment tools grant API Gateway `lambda:InvokeWithResponseStream` too (anomalyco/sst#6565). "
        "A missing permission would answer every request 500.",
    ),
    Assumption(
        "A36",
        "The prelude sets status, headers, cookies; bytes stay raw",
        "The client gets the prelude's `statusCode`, its `headers`, one `Set-Cookie` per entry of `cookies`, and the "
        "body bytes after the eight NUL bytes unchanged, whatever binaryMediaTypes and the client's Accept say.",
        (STREAM,),
        docs=(
            _doc(
                _STREAMING_LAMBDA,
                "In a Lambda proxy integration for response streaming, API Gateway begins the payload stream after it "
                "receives the valid metadata and delimiter from Lambda.",
            ),
            _doc(_STREAMING, "Receive a binary payload without configuring the binary media types."),
        ),
        unverified="That each `cookies` entry becomes its own Set-Cookie header, and which prelude headers API "
        "Gateway renames or drops (the local gateway treats them as AWS_PROXY's, A32).",
    ),
    Assumption(
        "A37",
        "Headers reach the client before the body is complete",
        "With a streaming integration the client gets the status and headers, then each part of the body, as the "
        "function sends them: the first byte does not wait for the last.",
        (STREAM,),
        docs=(
            _doc(
                _STREAMING,
                "However, if you set your integration's response transfer mode to STREAM, API Gateway doesn't wait "
                "for a response to be completely computed before sending it to the client.",
            ),
        ),
    ),
    Assumption(
        "A38",
        "Answers past 10 MB stream whole, slower after the first MBs",
        "An answer larger than Lambda's 6 MB and API Gateway's 10 MB reaches the client whole (up to Lambda's "
        "200 MB); past the first megabytes it arrives at a capped rate.",
        (STREAM,),
        docs=(
            _doc(_STREAMING, "Exceed API Gateway's 10 MB response payload limit."),
            AwsDoc(
                "Additionally, response streaming functions can return payloads up to 200 MB, compared to the 6 MB "
                "maximum for buffered responses.",
                _LAMBDA_STREAMING,
            ),
            AwsDoc(
                "The streaming rate for the first 6 MB of your function’s response is uncapped. For responses "  # noqa: RUF001 - AWS's apostrophe, as written
                "larger than 6 MB, the remainder of the response is subject to a bandwidth cap.",
                _LAMBDA_STREAMING,
            ),
        ),
        unverified="API Gateway's own rate past the first 10 MB of a streamed answer; Lambda's guide gives a "
        "maximum of 2 MBps after its first 6 MB. The e2e test records the rate it sees after 10 MB.",
    ),
    Assumption(
        "A39",
        "A stream that fails midway reaches the client cut off",
        "When the function ends its stream with the Runtime API's error trailers, the client keeps the bytes already "
        "sent and sees an incomplete response: HTTP/1.1 without its last chunk, or a reset HTTP/2 stream; never a "
        "complete-looking answer.",
        (STREAM,),
        unverified="What API Gateway sends after an error trailer is not documented. aws-lambda-rie returns the "
        "bytes sent before it with status 200 and drops the trailers; the local gateway ends the chunked body "
        "without its last chunk.",
    ),
    Assumption(
        "A40",
        "Authorizers and usage plans apply to streamed routes",
        "A streaming integration changes nothing before the function: the TOKEN authorizer (401/403), API keys and "
        "usage plans, resource policies and throttling apply to the request as in the buffered modes.",
        (STREAM,),
        unverified="No AWS page says so for response streaming; AWS's announcement post (compute blog, "
        "2025-11-19) calls it compatible with API Gateway's security features, without a list.",
    ),
    Assumption(
        "A41",
        "Streaming works on this REGIONAL API, idle-limited",
        "Response streaming works on the template's REGIONAL endpoint (and private ones), whose idle timeout (5 "
        "minutes) is far above the proxy's idle limit between two reads (BackendTimeoutSeconds, at most 28 s).",
        (STREAM,),
        docs=(
            _doc(_STREAMING, "Response streaming works for all REST API endpoint types."),
            _doc(
                _STREAMING,
                "Your streams are subject to idle timeouts. For Regional or private endpoints, the timeout is 5 "
                "minutes. For edge-optimized endpoints, the timeout is 30 seconds.",
            ),
        ),
        note="Edge-optimized endpoints' 30 s is above the proxy's 28 s too, so the proxy's own limit ends a silent "
        "backend first on every endpoint type.",
    ),
    Assumption(
        "A42",
        "A streaming integration waits up to 15 minutes",
        "The integration's timeoutInMillis accepts StreamTimeoutSeconds' values up to 900000, and API Gateway keeps "
        "streaming until then (the function's timeout is the same, and the proxy stops a second before).",
        (STREAM,),
        docs=(
            _doc(
                "response-streaming-http.html",
                "When you use response streaming, you can configure the integration timeout up to 15 minutes.",
            ),
            _doc(_STREAMING, "You can stream your response for up to 15 minutes."),
        ),
        note="The first sentence is on the page for HTTP proxy integrations; the Lambda page gives no limit of its "
        "own.",
    ),
)
