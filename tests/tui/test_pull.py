"""The p key pulls the library's remotes: a tool a teammate published appears in the tree marked
with its remote and not approved, verified by this dashboard's sandbox."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.scripted_model import ScriptedModel
from tests.test_team import MINE, make
from tests.tui.conftest import make_app, running, until
from tui_agent.core.library.remotes import Remotes
from tui_agent.core.library.store import ToolStore


async def test_the_pull_key_brings_a_teammates_tool_in_unapproved(tmp_path: Path) -> None:
    hub = tmp_path / "hub.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(hub)], check=True)
    with ScriptedModel() as model:
        app = make_app(model.base_url, import_starters=False)
        async with running(app) as pilot:
            services, tree = app.services, app.dashboard.library
            teammate = Remotes(ToolStore(tmp_path / "teammate" / "tools"))
            make(teammate.store, services.sandbox, MINE)
            teammate.add("team", str(hub))
            assert teammate.push("team") == ["published percentage_of to team"]
            Remotes(services.registry.store).add("team", str(hub))
            await pilot.press("escape", "p")
            await until(
                pilot, lambda: any(e.name == "percentage_of" for e in tree.entries), what="the pulled tool"
            )
            [entry] = tree.entries
            assert entry.origin == "team" and not entry.approved and entry.verdict == "passed"
            assert "from team" in str(tree._label(entry)) and "not approved" in str(tree._label(entry))
