"""The one door to localstack-core: imports LocalStack's REST API pipeline with a private copy of airspeed.

Both engines render VTL with airspeed, and both change it globally: local_gateway.vtl adds Java's Map and
String methods (keySet() on every dict, isEmpty(), equals(), ...), LocalStack patches
VariableExpression.calculate. Sharing one airspeed would let our engine's additions quietly repair LocalStack's
rendering (and the reverse), so the second engine would no longer be independent. LocalStack's two VTL modules
are therefore imported while `airspeed` is absent from sys.modules: they load their own copy, keep it through
their module globals, and everyone else keeps (or later loads) the usual one.

Every other module imports LocalStack through this one, so the isolation happens before any LocalStack module
that touches airspeed is loaded, and the process-wide settings LocalStack's import changes are put back.
"""

import logging
import os
import sys
from typing import Any, ClassVar


def _import_with_private_airspeed() -> None:
    shared = {name: module for name, module in sys.modules.items() if _is_airspeed(name)}
    for name in shared:
        del sys.modules[name]
    # Importing LocalStack also sets process-wide state the rest of the tests must not inherit: its config adds
    # no_proxy to the environment, its Docker client raises urllib3's log level to INFO (which would hide the
    # DEBUG lines the security tests read).
    environment = dict(os.environ)
    log_levels = {name: logging.getLogger(name).level for name in ("urllib3", "botocore", "")}
    try:
        # template_mapping imports localstack.utils.aws.templating, the only other module that imports airspeed;
        # the gateway pulls in every handler and integration (plugin loading makes this the slow import).
        import localstack.services.apigateway.next_gen.execute_api.gateway
        import localstack.services.apigateway.next_gen.execute_api.template_mapping  # noqa: F401
    finally:
        for name in [name for name in sys.modules if _is_airspeed(name)]:
            del sys.modules[name]
        sys.modules.update(shared)
        os.environ.clear()
        os.environ.update(environment)
        for name, level in log_levels.items():
            logging.getLogger(name).setLevel(level)


def _is_airspeed(module_name: str) -> bool:
    return module_name == "airspeed" or module_name.startswith("airspeed.")


_import_with_private_airspeed()

# Re-exported for the adapter and the corrections; importing them here cannot load a second airspeed any more.
from localstack.aws.api import RequestContext  # noqa: E402
from localstack.services.apigateway import helpers as legacy_helpers  # noqa: E402
from localstack.services.apigateway.models import (  # noqa: E402
    RestApiContainer,
    RestApiDeployment,
    apigateway_stores,
)
from localstack.services.apigateway.next_gen.execute_api import (  # noqa: E402
    gateway,
    handlers,
    helpers,
    template_mapping,
)
from localstack.services.apigateway.next_gen.execute_api import gateway_response as gateway_responses  # noqa: E402
from localstack.services.apigateway.next_gen.execute_api.context import (  # noqa: E402
    EndpointResponse,
    RestApiInvocationContext,
)
from localstack.services.apigateway.next_gen.execute_api.handlers import (  # noqa: E402
    gateway_exception,
    integration_request,
    integration_response,
    parse,
)
from localstack.services.apigateway.next_gen.execute_api.integrations import (  # noqa: E402
    REST_API_INTEGRATIONS,
    aws,
    mock,
)
from localstack.services.apigateway.next_gen.execute_api.router import ApiGatewayEndpoint  # noqa: E402

LOCALSTACK_AIRSPEED: Any = template_mapping.airspeed  # a module; Any as LocalStack's own imports are


class _ParsedOnce(LOCALSTACK_AIRSPEED.Template):  # type: ignore[misc]
    """LocalStack parses every mapping template on every request, which is most of its per-request cost (about
    6 of 10 ms for template.yaml's request template). A parsed template is reusable (our engine caches them too),
    so the parse is kept per template text; what renders is unchanged."""

    _parsed: ClassVar[dict[tuple[str, str], Any]] = {}
    root_element: Any

    def ensure_compiled(self) -> None:
        key = (self.filename, self.content)
        if not self.root_element:
            self.root_element = self._parsed.get(key)
        if not self.root_element:
            super().ensure_compiled()
            self._parsed[key] = self.root_element


# LocalStack's templating module creates templates as airspeed.Template(...) on its own copy of airspeed.
LOCALSTACK_AIRSPEED.Template = _ParsedOnce

__all__ = [
    "LOCALSTACK_AIRSPEED",
    "REST_API_INTEGRATIONS",
    "ApiGatewayEndpoint",
    "EndpointResponse",
    "RequestContext",
    "RestApiContainer",
    "RestApiDeployment",
    "RestApiInvocationContext",
    "apigateway_stores",
    "aws",
    "gateway",
    "gateway_exception",
    "gateway_responses",
    "handlers",
    "helpers",
    "integration_request",
    "integration_response",
    "legacy_helpers",
    "mock",
    "parse",
    "template_mapping",
]
