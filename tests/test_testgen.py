"""Test cases written as data: a malformed case is dropped, never the whole plan."""

from __future__ import annotations

from tui_agent.core.testgen import TestPlan, render_tests


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
