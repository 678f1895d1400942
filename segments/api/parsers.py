"""The API's JSON parser: a body is refused (400) before any view sees it when it
nests deeper than any field takes, or holds text the databases cannot store.

Checked once here rather than per field: a NUL (\\u0000) or an unpaired surrogate
(\\ud800) breaks PostgreSQL's text and jsonb, and the renderer that echoes it in an
error message, wherever it sits in the body. Depth is counted on the raw text, so
a 1,000-deep body is refused without building it (json would hit RecursionError).
"""

import json
import re

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

from .fields import TEXT_PROBLEM, bad_text

# The deepest body the API takes: a rule tree at SEGMENT_RULES_MAX_DEPTH (two levels
# per group, a few more for the body and a condition's list value), and customers'
# attributes at their own limit of 10 inside a list of customers.
BASE_MAX_DEPTH = 32

# A JSON string (skipped whole) or a bracket.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
# Only escapes can put NUL or a surrogate in valid JSON: the raw text says whether
# the parsed value needs a look.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def max_depth() -> int:
    return max(BASE_MAX_DEPTH, 2 * settings.SEGMENT_RULES_MAX_DEPTH + 8)


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream else ""
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"The body is not {encoding} text.") from exc
        check_depth(text)
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        if _SUSPECT_ESCAPE.search(text):
            check_text(data)
        return data


def _refuse_constant(name: str):
    if api_settings.STRICT_JSON:
        raise ValueError(f"{name} is not valid JSON")
    return float(name)


def check_depth(text: str) -> None:
    limit, depth = max_depth(), 0
    for token in _TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > limit:
                raise exceptions.ParseError(
                    f"The JSON body nests deeper than {limit} levels."
                )
        elif bracket in "]}":
            depth -= 1


def check_text(data) -> None:
    """A 400 naming every place (as `customers[0].attributes.name`) whose key or
    value holds NUL or an unpaired surrogate."""
    errors: dict[str, list[str]] = {}
    stack = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str) and bad_text(node):
            errors[path or "body"] = [TEXT_PROBLEM]
        elif isinstance(node, dict):
            for key, value in node.items():
                name = _printable(key)
                if bad_text(key):
                    errors[_join(path, name)] = [f"This key: {TEXT_PROBLEM}"]
                stack.append((_join(path, name), value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", value) for i, value in enumerate(node))
    if errors:
        raise exceptions.ValidationError(dict(sorted(errors.items())))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _printable(key: str) -> str:
    # The error names the key without echoing what cannot be rendered.
    return json.dumps(key)[1:-1] if bad_text(key) else key
