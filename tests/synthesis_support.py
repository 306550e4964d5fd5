"""The stand-in model's scripts and the engine wiring that the synthesis tests share."""

from __future__ import annotations

from tests.scripted_model import ScriptedModel
from tui_agent.core.bus import EventBus
from tui_agent.core.config import load_settings
from tui_agent.core.events import SynthesisStep
from tui_agent.core.library.embeddings import Embedder
from tui_agent.core.library.registry import Registry
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis.engine import SynthesisEngine

SPEC = {
    "function_name": "percentage_of",
    "description": "Compute percent % of value.",
    "parameters": [
        {"name": "value", "type": "float", "description": "the whole"},
        {"name": "percent", "type": "float", "description": "the percentage"},
    ],
    "return_type": "float",
    "examples": [{"args": {"value": 300, "percent": 15}, "result": 45.0}],
}
CASES = {
    "cases": [
        {"name": "half", "args": {"value": 200, "percent": 50}, "expected": 100.0},
        {"name": "zero", "args": {"value": 80, "percent": 0}, "expected": 0.0},
        {"name": "double", "args": {"value": 10, "percent": 200}, "expected": 20.0},
        {"name": "negative", "args": {"value": -40, "percent": 25}, "expected": -10.0},
    ]
}
GOOD = "def percentage_of(value: float, percent: float) -> float:\n    return value * percent / 100\n"
WRONG = "def percentage_of(value: float, percent: float) -> float:\n    return value * percent / 10\n"
# the same behaviour as GOOD, written apart (what an independent second opinion looks like)
GOOD_APART = "def percentage_of(value, percent):\n    share = percent / 100\n    return share * value\n"
# right on every case WRONG fails, wrong on one it passes: it confirms the tests, and is no tool
PARTLY_RIGHT_APART = "def percentage_of(value, percent):\n    if percent == 0:\n        return 1.0\n    return value * (percent / 100)\n"


def engine(
    model: ScriptedModel,
    sandbox: Sandbox,
    embedder: Embedder,
    bus: EventBus | None = None,
    **overrides: object,
):
    settings = load_settings(llm_base_url=model.base_url, llm_model="fake-model", **overrides)
    registry = Registry(settings, bus, embedder)
    registry.open(import_starters=False)
    return SynthesisEngine(LLMClient(settings, bus), sandbox, registry, settings, bus), registry


def steps(events: list[SynthesisStep]) -> list[tuple[str, str, int]]:
    return [(e.step, e.status, e.attempt) for e in events]


def collect(bus: EventBus) -> list[SynthesisStep]:
    seen: list[SynthesisStep] = []
    bus.subscribe(lambda e: seen.append(e) if isinstance(e, SynthesisStep) else None)
    return seen
