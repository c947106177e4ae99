"""`make local` reads template.yaml without SAM CLI installed: its loader must read templates as SAM CLI's does."""

from pathlib import Path

import pytest
from samcli.yamlhelper import yaml_parse

from local_gateway.sam_template import PROJECT_ROOT, load_template


@pytest.mark.parametrize("template", ["template.yaml", "demo/template.yaml"])
def test_the_project_templates_read_as_sam_cli_reads_them(template: str) -> None:
    path = PROJECT_ROOT / template

    assert load_template(path) == yaml_parse(path.read_text(encoding="utf-8"))


def test_short_form_tags_anchors_and_dates(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "AWSTemplateFormatVersion: 2010-09-09\n"
        "Conditions:\n  Local: !Equals [!Ref Mode, local]\n"
        "Shared: &shared {a: !Sub '${AWS::Region}-x'}\n"
        "Copy: *shared\n"
        "Arn: !GetAtt Function.Arn\n"
        "Value: !If [Local, !Ref AWS::NoValue, {k: !Join ['', [a, b]]}]\n",
        encoding="utf-8",
    )

    loaded = load_template(path)

    assert loaded == yaml_parse(path.read_text(encoding="utf-8"))
    assert loaded["AWSTemplateFormatVersion"] == "2010-09-09"
    assert loaded["Conditions"]["Local"] == {"Fn::Equals": [{"Ref": "Mode"}, "local"]}
    assert loaded["Copy"] == {"a": {"Fn::Sub": "${AWS::Region}-x"}}
    assert loaded["Arn"] == {"Fn::GetAtt": ["Function", "Arn"]}
    assert loaded["Value"] == {"Fn::If": ["Local", {"Ref": "AWS::NoValue"}, {"k": {"Fn::Join": ["", ["a", "b"]]}}]}
