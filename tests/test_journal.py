from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from tui_agent.core.bus import EventBus
from tui_agent.core.events import EVENT_TYPES, Event, from_dict, to_dict, to_json
from tui_agent.core.journal import Journal, read_journal


def _sample(hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _sample(next(a for a in typing.get_args(hint) if a is not type(None)))
    if origin is tuple:
        return (_sample(typing.get_args(hint)[0]), _sample(typing.get_args(hint)[0]))
    if origin is dict or hint is dict:
        return {"x": 1, "nested": [1, "two", {"three": 3.0}], "none": None}
    return {str: "héllo\nworld", int: 7, float: 0.25, bool: True}.get(hint, {"any": [1, 2.5, None, "s"]})


def sample_event(cls: type[Event]) -> Event:
    hints = typing.get_type_hints(cls)
    values = {f.name: _sample(hints[f.name]) for f in dataclasses.fields(cls) if f.name != "ts"}
    return cls(**values, ts=1700000000.5)


ALL_EVENTS = [sample_event(cls) for cls in EVENT_TYPES.values() if cls is not Event]


def test_every_event_type_is_json_serialisable_and_round_trips() -> None:
    assert len(ALL_EVENTS) >= 15
    for event in ALL_EVENTS:
        line = to_json(event)
        data = json.loads(line)
        assert data["type"] == event.type
        assert from_dict(data) == event


async def test_journal_round_trips_every_event_type(isolated_env: Path) -> None:
    bus = EventBus()
    journal = Journal(isolated_env / "journal", session_id="s1")
    journal.attach(bus)
    for event in ALL_EVENTS:
        bus.publish(event)
    await bus.aclose()
    journal.close()
    assert journal.path == isolated_env / "journal" / "s1.jsonl"
    assert list(read_journal(journal.path)) == ALL_EVENTS


def test_a_torn_last_line_is_skipped_but_corruption_elsewhere_is_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    good = to_json(ALL_EVENTS[0])
    path.write_text(good + "\n" + good[: len(good) // 2])
    assert list(read_journal(path)) == [ALL_EVENTS[0]]
    path.write_text("{not json}\n" + good + "\n")
    with pytest.raises(ValueError, match=r"j\.jsonl:1"):
        list(read_journal(path))


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        from_dict({"type": "no_such_event"})
    with pytest.raises(ValueError, match="bad answer event"):
        from_dict({**to_dict(ALL_EVENTS[0]), "type": "answer"})
