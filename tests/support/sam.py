"""SAM's own translator, run offline as `sam deploy` would run it on the packaged template."""

import copy
from typing import Any

from samtranslator.translator.transform import transform

from local_gateway.model import PSEUDO_PARAMETERS

REQUIRED_PARAMETERS = {
    "BackendUrl": "http://10.0.1.25:8080",
    "SubnetIds": ["subnet-0123456789abcdef0"],
    "SecurityGroupIds": ["sg-0123456789abcdef0"],
}


class _NoManagedPolicies:
    """The template names no managed policy by name, so SAM never needs IAM to look one up."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Needs AWS_DEFAULT_REGION set (the translator derives the partition from it)."""
    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():  # what `sam deploy` uploads: code and nested templates in S3
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts-bucket/function.zip"
        if resource["Type"] == "AWS::Serverless::Application":
            resource["Properties"]["Location"] = "https://artifacts-bucket.s3.amazonaws.com/demo.template"
    values = {**REQUIRED_PARAMETERS, **PSEUDO_PARAMETERS, **(parameters or {})}
    translated: dict[str, Any] = transform(packaged, values, _NoManagedPolicies())
    return translated
