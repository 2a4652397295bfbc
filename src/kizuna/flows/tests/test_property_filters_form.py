"""Event property filters are written one per line on the flow page."""

from __future__ import annotations

import pytest
from django import forms

from kizuna.flows.forms import format_properties, parse_properties


def test_lines_become_filters_with_typed_values():
    assert parse_properties("path = /settings\nseconds > 30\ncomplete = false\nplan exists") == [
        {"key": "path", "op": "eq", "value": "/settings"},
        {"key": "seconds", "op": "gt", "value": 30},
        {"key": "complete", "op": "eq", "value": False},
        {"key": "plan", "op": "exists", "value": None},
    ]


def test_filters_are_written_back_as_lines():
    text = "path = /settings\nseconds > 30\ncomplete = false"
    assert format_properties(parse_properties(text)) == text


@pytest.mark.parametrize("line", ["path /settings", "seconds >", "seconds > many"])
def test_an_unreadable_line_is_refused_with_its_number(line):
    with pytest.raises(forms.ValidationError) as error:
        parse_properties(f"plan exists\n{line}")
    assert "Line 2" in str(error.value)
