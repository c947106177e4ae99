"""API Gateway's mapping-template language on a real Velocity engine (airspeed), with AWS's semantics.

`$util.escapeJavaScript` follows Apache commons-lang 2 `StringEscapeUtils.escapeJavaScript`, which API Gateway
uses: it escapes `'` as `\\'` (invalid JSON), `/` as `\\/` and every non-ASCII UTF-16 unit as `\\uXXXX`.
Lenient emulators skip the `\\'`; rendering with it is what catches templates that break on AWS.
"""

import base64
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
from airspeed import operators

_JSONPATH_STEP = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*(\d+)\s*\]")

# Java's Map and String methods that templates call; airspeed lacks these.
_JAVA_MAP_METHODS: dict[str, Callable[..., Any]] = {
    "get": dict.get,
    "keySet": lambda self: list(self.keys()),
    "values": lambda self: list(self.values()),
    "containsKey": lambda self, key: key in self,
    "isEmpty": lambda self: len(self) == 0,
    "size": len,
    "put": operators.dict_put,
}
_JAVA_STRING_METHODS: dict[str, Callable[..., Any]] = {
    "isEmpty": lambda self: len(self) == 0,
    "equals": lambda self, other: self == other,
    "toLowerCase": lambda self: self.lower(),
    "toUpperCase": lambda self: self.upper(),
    "trim": lambda self: self.strip(),
    "endsWith": lambda self, suffix: self.endswith(suffix),
}
operators.__additional_methods__[str].update(_JAVA_STRING_METHODS)
_airspeed_calculate = operators.NameOrCall.calculate


def _java_calculate(self: Any, current_object: Any, loader: Any, top_namespace: Any) -> Any:
    """In Java `$map.keySet()` is a method even when the map has a key "keySet" (a header can be named so);
    airspeed looks the key up first, so method calls on maps are routed to the Java methods here."""
    if self.parameters is not None and isinstance(current_object, dict) and self.name in _JAVA_MAP_METHODS:
        arguments = self.parameters.calculate(top_namespace, loader)
        return _JAVA_MAP_METHODS[self.name](current_object, *arguments)
    return _airspeed_calculate(self, current_object, loader, top_namespace)


operators.NameOrCall.calculate = _java_calculate


def escape_javascript(value: str | None) -> str | None:
    """commons-lang 2.x StringEscapeUtils.escapeJavaScript, character for character."""
    if value is None:
        return None
    return _NEEDS_ESCAPE.sub(_escape_match, value)


_CONTROL_ESCAPES = {"\b": "\\b", "\n": "\\n", "\t": "\\t", "\f": "\\f", "\r": "\\r"}
_PRINTABLE_ESCAPES = {"'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/"}
_NEEDS_ESCAPE = re.compile(r"[^\x20-\x7f]|['\"\\/]")


def _escape_match(match: re.Match[str]) -> str:
    character = match.group()
    if character in _PRINTABLE_ESCAPES:
        return _PRINTABLE_ESCAPES[character]
    if character in _CONTROL_ESCAPES:
        return _CONTROL_ESCAPES[character]
    # Java strings are UTF-16: a character outside the BMP is two units, each escaped on its own.
    encoded = character.encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{int.from_bytes(encoded[i : i + 2], 'big'):04X}" for i in range(0, len(encoded), 2))


class Util:
    """`$util` in API Gateway mapping templates."""

    def escapeJavaScript(self, value: str | None) -> str | None:
        return escape_javascript(value)

    def base64Encode(self, value: str) -> str:
        return base64.b64encode(value.encode("utf-8")).decode("ascii")

    def base64Decode(self, value: str) -> str:
        return base64.b64decode(value).decode("utf-8", "replace")

    def urlEncode(self, value: str) -> str:
        return quote_plus(value, safe="*")

    def urlDecode(self, value: str) -> str:
        return unquote_plus(value)

    def parseJson(self, value: str) -> Any:
        return json.loads(value)


@dataclass
class Input:
    """`$input`: the payload as the template sees it (base64 text for binary media types) and the parameters."""

    body: str
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    query_parameters: Mapping[str, str] = field(default_factory=dict)
    header_parameters: Mapping[str, str] = field(default_factory=dict)

    def params(self, name: str | None = None) -> Any:
        sections = {
            "path": dict(self.path_parameters),
            "querystring": dict(self.query_parameters),
            "header": dict(self.header_parameters),
        }
        if name is None:
            return sections
        for section in sections.values():
            if name in section:
                return section[name]
        return ""

    def path(self, expression: str) -> Any:
        return jsonpath(json.loads(self.body) if self.body else {}, expression)

    def json(self, expression: str) -> str:
        return json.dumps(self.path(expression))


def jsonpath(document: Any, expression: str) -> Any:
    """The JSONPath subset templates use: `$`, `.name`, `['name']` and `[index]`."""
    if not expression.startswith("$"):
        raise ValueError(f"JSONPath must start with '$': {expression!r}")
    position, current = 1, document
    while position < len(expression):
        step = _JSONPATH_STEP.match(expression, position)
        if step is None:
            raise ValueError(f"unsupported JSONPath {expression!r}")
        name, quoted, double_quoted, index = step.groups()
        key: str | int = int(index) if index is not None else (name or quoted or double_quoted or "")
        try:
            current = current[key]
        except (KeyError, IndexError, TypeError):
            return None
        position = step.end()
    return current


@functools.lru_cache(maxsize=32)
def _compiled(template: str) -> airspeed.Template:
    """Parsing is most of a render's cost; a parsed template is reusable across merges."""
    compiled = airspeed.Template(template)
    compiled.ensure_compiled()
    return compiled


@dataclass
class RenderResult:
    output: str
    status_override: int | None
    header_overrides: dict[str, str]


def render(
    template: str, input_: Input, context: Mapping[str, Any], stage_variables: Mapping[str, str]
) -> RenderResult:
    """Renders like API Gateway: `$context.responseOverride` starts empty and is read back after rendering."""
    context_variables = json.loads(json.dumps(context))  # a private copy the template may write into
    context_variables["responseOverride"] = {"status": None, "header": {}}
    namespace = {
        "input": input_,
        "util": Util(),
        "context": context_variables,
        "stageVariables": dict(stage_variables),
    }
    output = _compiled(template).merge(namespace)
    override = context_variables["responseOverride"]
    status = override["status"]
    return RenderResult(
        output=output,
        status_override=int(status) if status not in (None, "") else None,
        header_overrides={str(name): str(value) for name, value in override["header"].items()},
    )
