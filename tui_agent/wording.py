"""One readable line per engine event, shared by the activity log and its tests.

Kept free of Textual so the wording can be tested without an app. ``kind`` names a theme
colour role, never a colour, so the log follows the active theme."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tui_agent.core.events import Event

# Streams with a home of their own (code viewer, answer pane) stay out of the log.
QUIET = {"code_chunk", "answer_chunk", "sandbox_output"}

STEP_ICONS = {"started": "…", "done": "✓", "failed": "✗"}


@dataclass(frozen=True)
class LogLine:
    kind: str  # info | query | step | success | error | warning | muted | answer
    icon: str
    text: str


def _short(value: Any, limit: int = 80, *, quote: bool = False) -> str:
    plain = isinstance(value, str) and not quote
    text = value if plain else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(event: Event) -> LogLine | None:
    e: Any = event
    match event.type:
        case _ if event.type in QUIET:
            return None
        case "session_started":
            return LogLine("muted", "●", f"session {e.session_id} (selfeng-tui {e.version})")
        case "component_state":
            kind = {"ready": "success", "failed": "error", "unreachable": "error"}.get(e.state, "muted")
            detail = f": {e.detail}" if e.detail else ""
            return LogLine(kind, "⚙", f"{e.component} {e.state}{detail}")
        case "progress":
            total = f"/{e.total}" if e.total else ""
            return LogLine("muted", "↻", f"{e.task} {e.done}{total} {e.message}".rstrip())
        case "notice":
            kind = {"error": "error", "warning": "warning"}.get(e.level, "info")
            return LogLine(kind, "!", e.message)
        case "query_received":
            return LogLine("query", "❯", e.text)
        case "follow_up":
            return LogLine("info", "↪", f"read as: {e.rewritten}")
        case "plan":
            shown = " → ".join(s["tool"] if s["tool"] != "new" else f"new: {s['request']}" for s in e.steps)
            return LogLine("info", "☰", f"plan: {_short(shown, 120)}")
        case "plan_step":
            if e.status == "started":
                return None
            kind = "success" if e.status == "done" else "error"
            said = f" = {_short(repr(e.value), 60)}" if e.status == "done" else f": {_short(e.detail, 100)}"
            return LogLine(kind, "☰", f"step {e.index} {e.tool}{said}")
        case "search_results":
            if not e.candidates:
                return LogLine("info", "⌕", "library: no tool matches")
            top = e.candidates[0]
            return LogLine("info", "⌕", f"library: best {top['name']} ({top['score']:.2f})")
        case "decision":
            kind = {"reuse": "info", "ask": "warning", "refuse": "warning"}.get(e.decision, "muted")
            what = {
                "reuse": f"reuse {e.tool}",
                "ask": f"ask (for {e.tool})" if e.tool else "ask",
                "synthesise": "make a new tool",
                "refuse": "refuse",
            }
            return LogLine(kind, "◆", f"{what.get(e.decision, e.decision)}: {_short(e.reason, 100)}")
        case "repair_offered":
            return LogLine(
                "warning", "⚒", f"{e.tool} failed on this input: press r to repair it with it as a new test"
            )
        case "tool_chosen":
            verb = "reusing" if e.reused else "using new tool"
            return LogLine("info", "→", f"{verb} {e.name}")
        case "synthesis_step":
            attempt = f" (attempt {e.attempt})" if e.attempt > 1 else ""
            detail = f": {_short(e.detail)}" if e.detail and e.status != "started" else ""
            kind = {"done": "step", "failed": "error"}.get(e.status, "muted")
            return LogLine(kind, STEP_ICONS.get(e.status, "·"), f"{e.step}{attempt}{detail}")
        case "verdict":
            if e.passed:
                return LogLine("success", "✓", f"{e.tool}: {e.collected} tests passed in {e.duration_s:.2f}s")
            return LogLine(
                "error", "✗", f"{e.tool}: tests failed ({e.reason}), {e.failed}/{e.collected} failing"
            )
        case "tool_registered":
            return LogLine("success", "＋", f"registered {e.name} v{e.version}")
        case "approval_requested":
            return LogLine("warning", "?", f"{e.name} v{e.version} is new: waiting for your yes to run it")
        case "approval_decided":
            if e.approved:
                by = {"auto": " (approve_new_tools = auto)", "flag": " (--yes)"}.get(e.by, "")
                return LogLine("success", "✓", f"{e.name} approved to run{by}")
            return LogLine("warning", "✗", f"{e.name} not approved: it was not run")
        case "tool_removed":
            return LogLine("warning", "－", f"removed {e.name}")
        case "tool_called":
            args = ", ".join(f"{k}={_short(v, 24, quote=True)}" for k, v in e.args.items())
            if e.ok:
                return LogLine("info", "▶", f"{e.name}({args}) = {_short(e.result, quote=True)}")
            return LogLine("error", "▶", f"{e.name}({args}) failed: {_short(e.error)}")
        case "llm_call":
            tokens = e.prompt_tokens + e.completion_tokens
            state = "" if e.ok else " FAILED"
            return LogLine("muted", "✦", f"llm {e.purpose}: {tokens} tokens, {e.latency_s:.1f}s{state}")
        case "question":
            return LogLine("warning", "?", e.text)
        case "answer":
            mark = "" if e.verified else " (unverified)"
            return LogLine("answer", "★", f"{e.text}{mark}")
        case "request_failed":
            return LogLine("error", "✗", e.reason)
    return LogLine("muted", "·", event.type)
