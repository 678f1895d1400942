"""A customer's attributes as rows (name, value, type) to read and edit, in place of
a JSON textbox. The rows become the object the customer update service merges."""

import json
import math
import re
from datetime import datetime
from typing import Any

from django import forms
from django.db import models

from segments.rules.values import data_day, is_number

INTEGER = re.compile(r"^[+-]?\d+$")


class AttributeType(models.TextChoices):
    TEXT = "text", "text"
    NUMBER = "number", "number"
    BOOLEAN = "boolean", "true / false"
    DATE = "date", "date"
    JSON = "json", "list or object (JSON)"


def attribute_type(value: Any) -> AttributeType:
    """The type a stored value shows as; dates are text the rules read as dates."""
    if isinstance(value, bool):
        return AttributeType.BOOLEAN
    if is_number(value):
        return AttributeType.NUMBER
    if isinstance(value, str):
        return AttributeType.DATE if data_day(value) else AttributeType.TEXT
    return AttributeType.JSON


def attribute_text(value: Any, kind: AttributeType) -> str:
    if kind in (AttributeType.TEXT, AttributeType.DATE):
        return value
    return json.dumps(value, ensure_ascii=False)


def attribute_rows(attributes: dict[str, Any]) -> list[dict[str, str]]:
    """Sorted rows as the table shows them (and the edit form's initial data)."""
    rows = []
    for key, value in sorted(attributes.items()):
        kind = attribute_type(value)
        rows.append({"key": key, "value": attribute_text(value, kind), "type": kind})
    return rows


def _number(text: str) -> int | float:
    if INTEGER.match(text):
        return int(text)
    number = float(text)  # ValueError for anything else
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _date(text: str) -> str:
    datetime.fromisoformat(text)  # ValueError for a day that does not exist
    if not data_day(text):
        raise ValueError(text)
    return text


def _boolean(text: str) -> bool:
    return {"true": True, "false": False}[text.lower()]


def _json(text: str) -> Any:
    value = json.loads(text)
    if value is None:
        raise ValueError("null")
    return value


PARSERS = {
    AttributeType.TEXT: str,
    AttributeType.NUMBER: _number,
    AttributeType.BOOLEAN: _boolean,
    AttributeType.DATE: _date,
    AttributeType.JSON: _json,
}
HINTS = {
    AttributeType.NUMBER: "Enter a number, such as 42 or 9.5.",
    AttributeType.BOOLEAN: "Enter true or false.",
    AttributeType.DATE: "Enter a date such as 2025-01-31 (or an ISO date-time).",
    AttributeType.JSON: 'Enter a list or an object in JSON, such as ["a", "b"].',
}


class AttributeRowForm(forms.Form):
    key = forms.CharField(required=False, max_length=200)
    value = forms.CharField(required=False)
    type = forms.ChoiceField(choices=AttributeType.choices, initial=AttributeType.TEXT)

    def __init__(self, *args, number: int | str, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in (("key", "name"), ("value", "value"), ("type", "type")):
            self.fields[name].widget.attrs["aria-label"] = f"Attribute {number} {label}"

    def clean(self):
        data = super().clean()
        key, text = (data.get("key") or "").strip(), data.get("value") or ""
        data["key"] = key
        if self.errors or data.get("DELETE") or not (key or text.strip()):
            return data
        if not key:
            self.add_error("key", "Give the attribute a name.")
        kind = AttributeType(data["type"])
        try:
            data["parsed"] = PARSERS[kind](text.strip())
        except (ValueError, KeyError):
            self.add_error("value", HINTS[kind])
        return data


class BaseAttributeFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        # The empty form's number is filled in by the page's "Add" button.
        return {"number": "__number__" if index is None else index + 1}

    def add_fields(self, form, index):
        super().add_fields(form, index)
        number = "__number__" if index is None else index + 1
        form.fields["DELETE"].widget.attrs["aria-label"] = f"Remove attribute {number}"

    def clean(self):
        seen: set[str] = set()
        for form in self.forms:
            key = form.cleaned_data.get("key")
            if not key or form.cleaned_data.get("DELETE"):
                continue
            if key in seen:
                form.add_error("key", f'Another row already names "{key}".')
            seen.add(key)

    def attributes(self) -> dict[str, Any]:
        """The rows kept, as name: value (valid forms only)."""
        return {
            form.cleaned_data["key"]: form.cleaned_data["parsed"]
            for form in self.forms
            if "parsed" in form.cleaned_data and not form.cleaned_data.get("DELETE")
        }


AttributeFormSet = forms.formset_factory(
    AttributeRowForm, formset=BaseAttributeFormSet, extra=1, can_delete=True
)
