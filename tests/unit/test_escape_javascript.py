"""`$util.escapeJavaScript` as API Gateway runs it (commons-lang 2), and AWS's documented fix for its \\'."""

import json

import pytest

from local_gateway.vtl import Input, escape_javascript, render


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("it's", "it\\'s"),
        ('say "hi"', 'say \\"hi\\"'),
        ("a\\b", "a\\\\b"),
        ("a/b", "a\\/b"),
        ("tab\tnew\nline\r", "tab\\tnew\\nline\\r"),
        ("\x01\x1f", "\\u0001\\u001F"),
        ("del\x7f", "del\x7f"),
        ("caf\u00e9", "caf\\u00E9"),
        ("\u20ac", "\\u20AC"),
        ("\U0001f600", "\\uD83D\\uDE00"),
        (None, None),
    ],
)
def test_escape_javascript_matches_commons_lang(raw: str | None, escaped: str | None) -> None:
    assert escape_javascript(raw) == escaped


@pytest.mark.parametrize("value", ["it's", "\\'", "\\\\'", "'\"\\/", "é'€'😀", "''''", "\\"])
def test_the_documented_replace_all_fix_yields_json_that_decodes_to_the_value(value: str) -> None:
    template = '{"v": "$util.escapeJavaScript($input.params(\'v\')).replaceAll("\\\\\'","\'")"}'

    output = render(template, Input(body="", query_parameters={"v": value}), {}, {}).output

    assert json.loads(output) == {"v": value}


def test_without_the_fix_a_quote_makes_invalid_json() -> None:
    """Why the template needs the fix: this is the original blog template's failure on AWS."""
    output = render(
        '{"v": "$util.escapeJavaScript($input.params(\'v\'))"}',
        Input(body="", query_parameters={"v": "it's"}),
        {},
        {},
    )

    with pytest.raises(json.JSONDecodeError):
        json.loads(output.output)
