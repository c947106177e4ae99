"""Resolves a CloudFormation template's conditions for given parameters, to inspect what a deployment creates.

Covers what template.yaml uses: Ref to parameters, Fn::Join, Fn::Equals, Fn::Not, Fn::Or, Condition, Fn::If,
AWS::NoValue, and Fn::Sub strings that name only parameters; and in Rules, Fn::And and Fn::EachMemberEquals. Other
intrinsics (Fn::GetAtt, a Fn::Sub naming a resource or pseudo parameter) are left as they are.
"""

import re
from collections.abc import Callable
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")

_REMOVED = object()


class ResolvedTemplate:
    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self._parameters: dict[str, Any] = {}
        for name, spec in template.get("Parameters", {}).items():
            value = parameters.get(name, str(spec.get("Default", "")))
            self._parameters[name] = value.split(",") if spec["Type"] == "CommaDelimitedList" else value
        self._conditions = template.get("Conditions", {})
        self._condition_values: dict[str, bool] = {}
        self.refusals = [
            assertion["AssertDescription"]
            for rule in template.get("Rules", {}).values()
            if self.resolve(rule.get("RuleCondition", True))
            for assertion in rule["Assertions"]
            if not self.resolve(assertion["Assert"])
        ]
        """What CloudFormation would answer instead of deploying: the description of each failed rule assertion."""
        self.resources = {
            name: self.resolve(resource)
            for name, resource in template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            self._condition_values[name] = bool(self.resolve(self._conditions[name]))
        return self._condition_values[name]

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [value for value in (self.resolve(item) for item in node) if value is not _REMOVED]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            handler = _INTRINSICS.get(key)
            result = handler(self, argument) if handler else _UNRESOLVED
            if result is not _UNRESOLVED:
                return result
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _REMOVED}

    def _ref(self, name: Any) -> Any:
        if name == "AWS::NoValue":
            return _REMOVED
        return self._parameters.get(name, _UNRESOLVED)

    def _if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals(self, argument: list[Any]) -> bool:
        left, right = (self.resolve(side) for side in argument)
        return bool(left == right)

    def _sub(self, argument: Any) -> Any:
        if not isinstance(argument, str) or not all(
            isinstance(self._parameters.get(name), str) for name in _SUB_VARIABLE.findall(argument)
        ):
            return _UNRESOLVED
        return _SUB_VARIABLE.sub(lambda match: self._parameters[match.group(1)], argument)

    def _each_member_equals(self, argument: list[Any]) -> bool:
        values, expected = (self.resolve(side) for side in argument)
        return all(value == expected for value in values)

    def _join(self, argument: list[Any]) -> str:
        separator, values = argument
        return str(separator).join(str(value) for value in self.resolve(values))


_UNRESOLVED = object()
_INTRINSICS: dict[str, Callable[[ResolvedTemplate, Any], Any]] = {
    "Ref": ResolvedTemplate._ref,
    "Condition": lambda template, name: template.condition(name) if isinstance(name, str) else _UNRESOLVED,
    "Fn::If": ResolvedTemplate._if,
    "Fn::Equals": ResolvedTemplate._equals,
    "Fn::Not": lambda template, argument: not template.resolve(argument[0]),
    "Fn::And": lambda template, argument: all(template.resolve(condition) for condition in argument),
    "Fn::Or": lambda template, argument: any(template.resolve(condition) for condition in argument),
    "Fn::EachMemberEquals": ResolvedTemplate._each_member_equals,
    "Fn::Join": ResolvedTemplate._join,
    "Fn::Sub": ResolvedTemplate._sub,
}
