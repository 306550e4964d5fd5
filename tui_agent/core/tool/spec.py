"""What a tool is, as data: its spec (the contract the model writes first) and the text the
library embeds for search. Shared by the registry, synthesis, the executor and MCP."""

from __future__ import annotations

import keyword
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

ParamType = Literal["str", "int", "float", "bool", "list", "dict"]
PYTHON_TYPES: dict[str, type] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
}


JSON_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
}


class Parameter(BaseModel):
    name: str = Field(description="a Python identifier")
    type: ParamType = Field(description="one of str, int, float, bool, list, dict")
    description: str = ""
    default: Any = Field(default=None, description="default value; null when required")
    required: bool = True

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier() or keyword.iskeyword(value):
            raise ValueError(f"{value!r} is not a valid parameter name")
        return value


class Example(BaseModel):
    """A worked example: arguments and the exact expected result."""

    args: dict[str, Any]
    result: Any


class ToolSpec(BaseModel):
    function_name: str
    description: str = Field(default="", description="one sentence: what the function computes")
    parameters: list[Parameter]
    return_type: str = "str"
    docstring: str = ""
    examples: list[Example] = Field(default_factory=list)

    @field_validator("function_name")
    @classmethod
    def _function_identifier(cls, value: str) -> str:
        if not value.isidentifier() or keyword.iskeyword(value):
            raise ValueError(f"{value!r} is not a valid function name")
        return value

    @model_validator(mode="after")
    def _described(self) -> ToolSpec:
        """A small model sometimes leaves the description out; the docstring or the name says it."""
        if not self.description.strip():
            self.description = self.docstring.strip().split("\n")[0] or self.function_name.replace("_", " ")
        return self

    def signature(self) -> str:
        parts = []
        for p in self.parameters:
            annotation = f"{p.name}: {p.type}"
            parts.append(annotation if p.required else f"{annotation} = {p.default!r}")
        return f"def {self.function_name}({', '.join(parts)}) -> {self.return_type}"

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
        prop: dict[str, Any] = {"type": JSON_TYPES[p.type]}
        if p.description:
            prop["description"] = p.description
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
