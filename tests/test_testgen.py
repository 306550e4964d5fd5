"""Test cases written as data: a malformed case is dropped, never the whole plan."""

from __future__ import annotations

from tui_agent.core.tool.cases import TestPlan, render_tests


def test_a_malformed_case_costs_only_itself() -> None:
    plan = TestPlan.model_validate(
        {
            "cases": [
                {"name": "typical", "args": {"word": "education"}, "expected": 5},
                {"name": "no args", "expected": 3},  # what the local model once sent as case 6
                {"name": "odd error", "args": {"word": ""}, "raises": "BoomError"},
                {"name": "empty", "args": {"word": ""}, "expected": 0},
            ]
        }
    )
    assert [c.name for c in plan.cases] == ["typical", "empty"]
    source = render_tests("count_vowels", plan.cases)
    assert "def test_typical():" in source and "def test_empty():" in source
    assert "count_vowels(word='education') == 5" in source


def test_bad_input_may_be_refused_with_value_or_type_error() -> None:
    """'' * 0.62 raises TypeError where float('') raises ValueError: a test that insists on one
    fails a correct implementation."""
    plan = TestPlan.model_validate(
        {
            "cases": [
                {"name": "empty", "args": {"km": ""}, "raises": "ValueError"},
                {"name": "zero", "args": {"n": 0}, "raises": "ZeroDivisionError"},
            ]
        }
    )
    source = render_tests("convert", plan.cases)
    assert "pytest.raises((ValueError, TypeError))" in source
    assert "pytest.raises(ZeroDivisionError)" in source
