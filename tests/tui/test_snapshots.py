"""Screenshots at fixed sizes: a layout change shows up as a diff a person must accept
(pytest --snapshot-update)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.tui.staged import stage_dashboard, stage_help, stage_tool_view, staged_app


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_dashboard_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(staged_app(), terminal_size=(80, 24), run_before=stage_dashboard)


def test_dashboard_120x40(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(staged_app(), terminal_size=(120, 40), run_before=stage_dashboard)


def test_tool_view(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(staged_app(), terminal_size=(100, 30), run_before=stage_tool_view)


def test_help_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(staged_app(), terminal_size=(100, 30), run_before=stage_help)
