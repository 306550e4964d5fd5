"""Arguments a request states plainly, matched to a tool's typed parameters without a model:
quoted texts and ISO dates to the text parameters, numbers to the number parameters, a run of
numbers to a list parameter. Only an unambiguous match counts: each kind of value fills exactly
the parameters of its kind, one for one, and every value is used. Two numbers for two number
parameters are told apart only by the words beside them ("20 percent" is the percent, "radius
2.5" the radius, the last one then the other); otherwise which is which is left to the model."""

from __future__ import annotations

from typing import Any

from tui_agent.core.request.patterns import stem
from tui_agent.core.request.reading import read
from tui_agent.core.request.values import grounded
from tui_agent.core.tool.spec import ToolSpec


def stated_values(request: str) -> dict[str, list[Any]]:
    """What a request writes out, by kind and in order: texts (quoted, or ISO dates), numbers,
    and lists (runs of two or more numbers)."""
    reading = read(request)
    return {
        "str": [*reading.quoted, *reading.dates],
        "number": list(reading.values),
        "list": [list(run) for run in reading.lists],
    }


def plain_arguments(request: str, spec: ToolSpec) -> dict[str, Any] | None:
    """The arguments when the request states them unambiguously, else None."""
    values = stated_values(request)
    params = spec.parameters
    kinds = {p.name: ("number" if p.type in ("int", "float") else p.type) for p in params}
    if any(k not in ("str", "number", "list") for k in kinds.values()):
        return None
    wanted = {kind: [p for p in params if kinds[p.name] == kind] for kind in ("str", "number", "list")}
    if wanted["list"]:
        if len(wanted["list"]) != 1 or wanted["number"] or len(values["list"]) != 1:
            return None
        values["number"] = []  # the numbers are the list's
    elif values["list"] and len(values["number"]) > 1:
        return None  # a run of numbers for number parameters: which is which is for the model
    args: dict[str, Any] = {}
    if len(wanted["number"]) > 1 and not wanted["list"]:
        named = numbers_by_name(request, [p.name for p in wanted["number"]])
        if named is None:
            return None
        args.update(named)
        wanted["number"], values["number"] = [], []
    for kind, group in wanted.items():
        found = values[kind]
        required = [p for p in group if p.required]
        if len(group) > 1 or len(found) != len(required) or len(required) > 1:
            return None
        if required:
            args[required[0].name] = found[0]
    leftover = sum(len(v) for k, v in values.items() if not wanted[k])
    if leftover:
        return None  # a value the call would not use: the request may ask something else
    for example in spec.examples:
        # a worked example the request's own values also fit, read another way (percent=0.15 for
        # "15 percent"), says the plain reading may be the wrong one: the model decides
        if example.args != args and all(grounded(v, request) for v in example.args.values()):
            return None
    return None if off_scale(args, spec) else args


def off_scale(args: dict[str, Any], spec: ToolSpec) -> bool:
    """A number of 1 or more for a parameter whose worked examples are all fractions (a percent
    taken as 0.15): the plain reading disagrees with the tool's own examples."""
    for name, value in args.items():
        shown = [e.args[name] for e in spec.examples if isinstance(e.args.get(name), int | float)]
        fractions = shown and all(0 < abs(v) < 1 for v in shown)
        if fractions and isinstance(value, int | float) and abs(value) >= 1:
            return True
    return False


def _stem(word: str) -> str:
    return stem("percent" if word == "%" else word)


def numbers_by_name(request: str, names: list[str]) -> dict[str, Any] | None:
    """Each number of the request given to the parameter the word beside it names ("20 percent",
    "15%", "radius 2.5", "width is 4"); one number and one parameter left over go together.
    None unless every number finds its own parameter."""
    found = read(request).numbers
    if len(found) != len(names):
        return None
    stems = {name: {_stem(w) for w in name.split("_") if len(w) > 1} for name in names}
    args: dict[str, Any] = {}
    left = []
    for number in found:
        words = {_stem(w) for w in (number.before, number.after) if w}
        owners = [n for n in names if n not in args and stems[n] & words]
        if len(owners) > 1:
            return None
        if owners:
            args[owners[0]] = number.value
        else:
            left.append(number)
    free = [n for n in names if n not in args]
    if len(left) > 1 or len(free) != len(left):
        return None
    if left:
        args[free[0]] = left[0].value
    return args


TAKES_TEXT = frozenset(["str", "any", "list", "dict", "file"])


def unused_values(request: str, spec: ToolSpec) -> str:
    """Why the tool would leave values the request gives unused, or "": a request that gives
    four numbers is not answered by a function of two (gcd_of for "the largest of 4, 17, 9, 12"),
    nor one that gives dates or quoted text by a function of numbers alone (fibonacci for "days
    between 2024-01-01 and 2024-03-01")."""
    stated = stated_values(request)
    texts = stated["str"]
    if texts and not any(p.type in TAKES_TEXT for p in spec.parameters):
        shown = ", ".join(repr(t) for t in texts[:2])
        return f"the request gives {shown}, and {spec.function_name} takes no text"
    dates = read(request).dates
    if dates and not any(p.type in ("str", "any", "file") for p in spec.parameters):
        # a date is not three numbers: average(numbers=[2024, 1, 1, 2024, 3, 1]) is no answer
        return f"the request gives the date {dates[0]}, and {spec.function_name} takes no date"
    more = more_numbers(request, spec)
    if more:
        takes = sum(p.type in ("int", "float") for p in spec.parameters)
        return f"the request gives {takes + more} numbers and {spec.function_name} takes {takes}"
    return ""


def more_numbers(request: str, spec: ToolSpec) -> int:
    """How many more numbers the request gives than the tool's number parameters take (0 when a
    list, a text or a mapping parameter could hold any number of them)."""
    if any(p.type in ("list", "dict", "any", "str") for p in spec.parameters):
        return 0
    takes = sum(p.type in ("int", "float") for p in spec.parameters)
    return max(0, len(stated_values(request)["number"]) - takes)
