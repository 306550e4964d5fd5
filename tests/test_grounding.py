"""An argument the request does not give marks the tool a misfit; one it does give never does."""

from __future__ import annotations

import pytest

from tui_agent.core.request.values import grounded


@pytest.mark.parametrize(
    ("value", "request_text"),
    [
        (15, "What is 15% of 300?"),
        (0.15, "What is 15% of 300?"),  # a percentage handed over as a fraction
        (300.0, "What is 15% of 300?"),
        (1200, "Add 1,200 and 5"),
        (-5, "Convert -5 degrees Celsius to Fahrenheit"),
        ("hello", "Reverse the string 'hello'"),
        (True, "Is it prime?"),
        ("cm", "Convert 5 feet to centimeters"),  # a unit the request spells out, abbreviated
        ("km", "How many kilometres is 26.2 miles?"),
        ("F", "What is 37 degrees Celsius in Fahrenheit?"),
    ],
)
def test_values_the_request_gives_are_grounded(value: object, request_text: str) -> None:
    assert grounded(value, request_text)


@pytest.mark.parametrize(
    ("value", "request_text"),
    [
        (20, "What is the percentage change from 80 to 100?"),
        (0.8, "Reverse the string 'hello'"),
        (0.5, "Multiply 5 by 3"),  # only percentages may be scaled
        ("world", "Reverse the string 'hello'"),
        ("kg", "Convert 5 feet to centimeters"),  # no word of the request it abbreviates
        ("ms", "How many kilometres is 26.2 miles?"),
    ],
)
def test_invented_values_are_not(value: object, request_text: str) -> None:
    assert not grounded(value, request_text)
