"""Driving the real app: stand-in LLM server, real sandbox and library, Pilot keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from textual.pilot import Pilot

from tui_agent.app import SelfengApp
from tui_agent.core.config import load_settings


def make_app(base_url: str, **overrides: Any) -> SelfengApp:
    """approve_new_tools = auto unless a test asks otherwise: approvals have their own tests."""
    settings = load_settings(
        **{
            "llm_base_url": base_url,
            "llm_model": "fake-model",
            "sandbox_pool": 1,
            "approve_new_tools": "auto",
            **overrides,
        }
    )
    return SelfengApp(settings)


async def until(
    pilot: Pilot[Any], condition: Callable[[], Any], timeout: float = 60.0, what: str = ""
) -> None:
    """Wait for what a user would wait for, not a fixed time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            app = pilot.app
            tail = log_text(app).splitlines()[-12:] if isinstance(app, SelfengApp) else []
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what or condition}; screen {app.screen!r}; "
                "log tail:\n" + "\n".join(tail)
            )
        await pilot.pause(0.05)


@asynccontextmanager
async def running(app: SelfengApp, size: tuple[int, int] = (100, 32)) -> AsyncIterator[Pilot[Any]]:
    """The app, started, with its engine ready and the library shown."""
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.ready.is_set(), what="the engine")
        if app.services is not None:
            await until(pilot, lambda: app.dashboard.library.loaded, what="the library")
        try:
            yield pilot
        finally:
            await asyncio.wait_for(app.shutdown(), 30)


async def ask(pilot: Pilot[Any], app: SelfengApp, text: str) -> None:
    await pilot.press("slash")
    bar = app.dashboard.query_one("#query")
    bar.value = text  # type: ignore[attr-defined]
    await pilot.press("enter")


def log_text(app: SelfengApp) -> str:
    return "\n".join(line.text for line in app.dashboard.log_view.lines)
