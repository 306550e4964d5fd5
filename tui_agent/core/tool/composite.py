"""A composite tool: a plan that answered right, kept as one function that calls its member tools
at the versions the plan ran. Each member's source is embedded as it was verified and run in a
namespace of its own, so a member's new version does not change the composite (it is made again,
and verified again, to use it), and the composite is one self-contained file the sandbox, the
library and MCP treat like any tool."""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any

from tui_agent.core.tool.spec import Parameter, ToolSpec


@dataclass(frozen=True)
class Member:
    name: str  # the tool's name in the library
    version: int
    function: str  # the function its source defines
    source: str
    spec: ToolSpec


@dataclass(frozen=True)
class Step:
    """One call of the plan: ``args`` maps each parameter to a literal or to ``Ref(k)``, the
    result of step ``k`` (0-based)."""

    member: Member
    args: dict[str, Any]


@dataclass(frozen=True)
class Ref:
    step: int


@dataclass
class Composite:
    spec: ToolSpec
    source: str
    call: dict[str, Any]  # the composite's arguments for the run it was made from
    members: list[dict[str, Any]] = field(default_factory=list)


def _free(name: str, taken: set[str]) -> str:
    base = name if name.isidentifier() and not keyword.iskeyword(name) else f"{name}_value"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


def compose(name: str, description: str, steps: list[Step]) -> Composite:
    """The composite of ``steps``: every literal argument becomes one of its parameters (named
    after the member's parameter it feeds), every ``Ref`` the value of an earlier step."""
    taken: set[str] = set()
    params: list[Parameter] = []
    call: dict[str, Any] = {}
    lines: list[str] = []
    for index, step in enumerate(steps):
        by_name = {p.name: p for p in step.member.spec.parameters}
        parts = []
        for arg, value in step.args.items():
            if isinstance(value, Ref):
                parts.append(f"{arg}=step_{value.step + 1}")
                continue
            declared = by_name.get(arg)
            param = _free(arg, taken)
            kind = declared.type if declared is not None else "any"
            params.append(
                Parameter(name=param, type=kind, description=declared.description if declared else "")
            )
            call[param] = value
            parts.append(f"{arg}={param}")
        lines.append(f"    step_{index + 1} = _member({step.member.name!r})({', '.join(parts)})")
    lines.append(f"    return step_{len(steps)}")
    last = steps[-1].member.spec
    spec = ToolSpec(
        function_name=name,
        description=description,
        parameters=params,
        return_type=last.return_type,
        docstring=f"{description} (a composite of {', '.join(s.member.name for s in steps)})",
        examples=[],
    )
    members = {s.member.name: s.member for s in steps}
    embedded = ",\n".join(
        f"    {m.name!r}: ({m.function!r}, {m.version}, {m.source!r})" for m in members.values()
    )
    source = (
        f'"""{description}: a composite of {", ".join(f"{m.name} v{m.version}" for m in members.values())},\n'
        'each embedded as it was verified, so a member\'s new version does not change it."""\n\n'
        f"_MEMBERS = {{\n{embedded},\n}}\n_LOADED = {{}}\n\n\n"
        "def _member(key):\n"
        "    if key not in _LOADED:\n"
        "        function, _version, source = _MEMBERS[key]\n"
        '        namespace = {"__name__": "member_" + key}\n'
        '        exec(compile(source, "<" + key + ">", "exec"), namespace)\n'
        "        _LOADED[key] = namespace[function]\n"
        "    return _LOADED[key]\n\n\n"
        f"{spec.signature()}:\n"
        f'    """{spec.docstring}"""\n' + "\n".join(lines) + "\n"
    )
    pinned = [{"name": m.name, "version": m.version} for m in members.values()]
    return Composite(spec, source, call, pinned)
