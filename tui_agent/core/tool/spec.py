"""What a tool is, as data: its spec (the contract the model writes first) and the text the
library embeds for search. Shared by the registry, synthesis, the executor and MCP."""

from __future__ import annotations

import keyword
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from tui_agent.core.tool.types import BASE_TYPES, JSON_TYPES, base_type

PYTHON_TYPES: dict[str, Any] = BASE_TYPES


class Parameter(BaseModel):
    name: str = Field(description="a Python identifier")
    type: str = Field(description="str, int, float, bool, list or dict (a Python annotation is accepted)")
    description: str = ""
    default: Any = Field(default=None, description="default value; null when required")
    required: bool = True
    annotation: SkipJsonSchema[str] = ""  # the type exactly as written, when it says more than ``type``
    # For a file parameter: how the file the request names begins. Shown to the model so tests and
    # code follow the real layout (a header, commas without spaces); never stored with the tool.
    sample: SkipJsonSchema[str] = Field(default="", exclude=True)
    # The only texts the tool takes for this parameter, as data (a hand-written tool's units, say):
    # a request giving another ("hours" to a length converter) is no call of it. Compared without
    # case or a trailing full stop. Empty: any text.
    choices: SkipJsonSchema[list[str]] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier() or keyword.iskeyword(value):
            raise ValueError(f"{value!r} is not a valid parameter name")
        return value

    @model_validator(mode="before")
    @classmethod
    def _normalised_type(cls, data: Any) -> Any:
        """``List[float]`` becomes type list, annotation ``List[float]``: never a refusal."""
        if isinstance(data, dict) and "type" in data:
            written = str(data.get("type") or "").strip()
            base = base_type(written)
            data = {**data, "type": base}
            if written and written != base and not data.get("annotation"):
                data["annotation"] = written
        return data

    def admits(self, value: Any) -> bool:
        """Whether ``value`` is one this parameter takes, as far as its ``choices`` say."""
        return not self.choices or (
            isinstance(value, str) and _folded(value) in {_folded(c) for c in self.choices}
        )

    @property
    def shown_type(self) -> str:
        """The annotation code would carry: a file arrives as its path, a ``str``."""
        return self.annotation or ("str" if self.type == "file" else self.type)


def _folded(text: str) -> str:
    return " ".join(text.casefold().rstrip(".").split())


def _choice_check(p: Parameter) -> Any:
    def check(value: Any) -> Any:
        if value is not None and not p.admits(value):
            raise ValueError(
                f"{value!r} is not one of the values {p.name} takes ({', '.join(p.choices[:12])})"
            )
        return value

    return AfterValidator(check)


class Example(BaseModel):
    """A worked example: arguments and the exact expected result."""

    args: dict[str, Any]
    result: Any
    stated: SkipJsonSchema[bool] = False  # written out by the request itself (a doctest), not computed

    @model_validator(mode="before")
    @classmethod
    def _other_spellings(cls, data: Any) -> Any:
        """``input``/``output``, ``arguments``/``expected``: what small models also write."""
        if isinstance(data, dict):
            data = dict(data)
            for key in ("arguments", "input", "inputs", "kwargs", "params"):
                if "args" not in data and key in data:
                    data["args"] = data.pop(key)
            for key in ("expected", "output", "returns", "return", "value"):
                if "result" not in data and key in data:
                    data["result"] = data.pop(key)
        return data


class ToolSpec(BaseModel):
    function_name: str
    description: str = Field(default="", description="one sentence: what the function computes")
    parameters: list[Parameter]
    return_type: str = "str"
    docstring: str = ""
    examples: list[Example] = Field(default_factory=list)
    # The request wrote this function out (signature and docstring): the docstring is shown to
    # every step as written. Not offered to the model.
    described: SkipJsonSchema[bool] = False
    # The code the request wrote around the function (imports, helpers it may call): shown to
    # the implementation and kept with the tool where used; never stored in the spec.
    context: SkipJsonSchema[str] = Field(default="", exclude=True)
    # The request's code as it wrote it (helpers and the function's stub, in its order): what the
    # code writer is first shown. Rewritten by us, the same task was solved less often
    # (benchmarks/humaneval.py). Never stored.
    written: SkipJsonSchema[str] = Field(default="", exclude=True)

    @field_validator("function_name")
    @classmethod
    def _function_identifier(cls, value: str) -> str:
        if not value.isidentifier() or keyword.iskeyword(value):
            raise ValueError(f"{value!r} is not a valid function name")
        return value

    @model_validator(mode="before")
    @classmethod
    def _positional_examples(cls, data: Any) -> Any:
        """An example whose arguments come as a list is read in the parameters' order."""
        if not isinstance(data, dict) or not isinstance(data.get("examples"), list):
            return data
        names = [
            p.get("name") if isinstance(p, dict) else getattr(p, "name", None)
            for p in data.get("parameters") or []
        ]
        examples = []
        for example in data["examples"]:
            if isinstance(example, dict):
                args = next(
                    (example[k] for k in ("args", "arguments", "input", "inputs") if k in example), None
                )
                if isinstance(args, list) and len(args) <= len(names):
                    example = {
                        **{k: v for k, v in example.items() if k not in ("arguments", "input", "inputs")}
                    }
                    example["args"] = dict(zip(names, args, strict=False))
                elif not isinstance(args, dict | list) and args is not None and len(names) == 1:
                    example = {**example, "args": {names[0]: args}}
            examples.append(example)
        return {**data, "examples": examples}

    @model_validator(mode="after")
    def _described(self) -> ToolSpec:
        """A small model sometimes leaves the description out; the docstring or the name says it."""
        if not self.description.strip():
            self.description = self.docstring.strip().split("\n")[0] or self.function_name.replace("_", " ")
        return self

    def signature(self) -> str:
        parts = []
        for p in self.parameters:
            untyped = p.type == "any" and not p.annotation  # a described function may leave hints out
            annotation = p.name if untyped else f"{p.name}: {p.shown_type}"
            parts.append(annotation if p.required else f"{annotation} = {p.default!r}")
        returns = "" if self.return_type == "any" else f" -> {self.return_type}"
        return f"def {self.function_name}({', '.join(parts)}){returns}"

    def search_text(self) -> str:
        """What the library embeds: the name as words, the description, the parameters. The
        registry benchmark compared this with adding docstrings and examples (see
        benchmarks/registry.py): examples add noise that hurts precision on near misses."""
        words = self.function_name.replace("_", " ")
        params = ", ".join(f"{p.name.replace('_', ' ')} ({p.description or p.type})" for p in self.parameters)
        return f"{words}: {self.description} Inputs: {params}."


def input_schema(spec: ToolSpec) -> dict[str, Any]:
    """The JSON Schema of a call's arguments, as MCP and other agents want it."""
    properties: dict[str, Any] = {}
    for p in spec.parameters:
        prop: dict[str, Any] = {"type": JSON_TYPES[p.type]} if p.type in JSON_TYPES else {}
        if p.description:
            prop["description"] = p.description
        if p.choices:
            prop["enum"] = list(p.choices)
        if not p.required:
            prop["default"] = p.default
        properties[p.name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": [p.name for p in spec.parameters if p.required],
        "additionalProperties": False,
    }


def field_name(index: int) -> str:
    """The pydantic field behind parameter ``index``: parameter names live only in aliases, so
    no name (``model_config``, ``_x``, ``schema``) can clash with pydantic's own attributes."""
    return f"p{index}"


def parameter_fields(spec: ToolSpec, *, optional: bool = False) -> dict[str, Any]:
    """Pydantic fields for the spec's parameters, aliased to their names. ``optional``: every
    parameter may be missing (None), as when arguments are still being looked for."""
    fields: dict[str, Any] = {}
    for i, p in enumerate(spec.parameters):
        kind: Any = PYTHON_TYPES[p.type]
        if p.choices and not optional:
            kind = Annotated[kind, _choice_check(p)]
        if optional:
            fields[field_name(i)] = (
                kind | None,
                Field(default=None, alias=p.name, description=p.description or p.type),
            )
        else:
            default = ... if p.required else p.default
            fields[field_name(i)] = (kind, Field(default, alias=p.name, description=p.description or None))
    return fields


def call_model(spec: ToolSpec) -> type[BaseModel]:
    """Validates and coerces a call's arguments: required ones required, unknown ones refused.
    ``model_dump(by_alias=True)`` gives them back under the parameters' names."""
    return create_model(
        f"Call_{spec.function_name}",
        __config__=ConfigDict(extra="forbid", populate_by_name=False),
        **parameter_fields(spec),
    )


# Parameter names that a model-drafted spec may not keep: what pydantic models and the argument
# extraction already use. A drafted spec is renamed before any code is written for it.
CLASHING = frozenset({"fits", "missing", "schema", "json", "dict", "copy", "construct", "validate", "fields"})


def safe_parameter_name(name: str) -> str:
    clean = name.lstrip("_") or "value"
    if clean in CLASHING or clean.startswith("model_") or keyword.iskeyword(clean):
        clean = f"{clean}_value"
    return clean


def renamed_parameters(spec: ToolSpec) -> ToolSpec:
    """The spec with clashing parameter names renamed (in its examples too)."""
    renames = {p.name: safe_parameter_name(p.name) for p in spec.parameters}
    if all(old == new for old, new in renames.items()):
        return spec
    return spec.model_copy(
        update={
            "parameters": [p.model_copy(update={"name": renames[p.name]}) for p in spec.parameters],
            "examples": [
                e.model_copy(update={"args": {renames.get(k, k): v for k, v in e.args.items()}})
                for e in spec.examples
            ],
        }
    )
