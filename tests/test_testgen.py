"""Test cases written as data: a malformed case is dropped, never the whole plan."""

from __future__ import annotations

from tui_agent.core.llm import prompts
from tui_agent.core.synthesis.spec_checks import says_when_it_fails
from tui_agent.core.tool.cases import TestPlan, render_tests
from tui_agent.core.tool.spec import ToolSpec


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


def test_an_error_case_is_asked_for_only_when_the_description_says_when_it_fails() -> None:
    """Error cases a spec never speaks of are dropped as invented rules: asking for them would
    spend the model's tokens on lines that are thrown away."""

    def spec(docstring: str) -> ToolSpec:
        return ToolSpec.model_validate(
            {
                "function_name": "square_root",
                "description": docstring.splitlines()[0],
                "parameters": [{"name": "x", "type": "float", "description": "the number"}],
                "return_type": "float",
                "docstring": docstring,
                "examples": [{"args": {"x": 9}, "result": 3.0}],
            }
        )

    def asked(made: ToolSpec) -> str:
        messages = prompts.tests_messages(made, errors=says_when_it_fails(made))
        return "\n".join(m["content"] for m in messages)

    plain = asked(spec("The square root of x."))
    strict = asked(spec("The square root of x.\n\nRaises ValueError for x below 0."))
    assert "pytest.raises" not in plain and "Only valid arguments" in plain
    assert "pytest.raises(ValueError)" in strict
