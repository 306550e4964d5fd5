"""Structured output from any OpenAI-compatible endpoint: JSON is asked for in the strongest way
the endpoint accepts (``json_schema``; llama.cpp's schema-constrained ``json_object``; plain
``json_object``; instructions only), validated with pydantic, and on invalid output asked again
with the validation error shown, then a typed error."""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from tui_agent.core.llm.errors import LLMError, StructuredOutputError

if TYPE_CHECKING:
    from tui_agent.core.config import Settings

T = TypeVar("T", bound=BaseModel)
Message = dict[str, Any]
MODES = ("json_schema", "llama_cpp", "json_object", "prompt")


@functools.lru_cache(maxsize=64)
def json_schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    """Building a schema costs pydantic 10-30 ms; each structured call would pay it on the loop."""
    return schema.model_json_schema()


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def extract_json(text: str) -> str:
    """The JSON object in a reply: the whole text, or a fenced block, or the outermost braces."""
    stripped = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", stripped, re.DOTALL)
    if fence:
        stripped = fence.group(1).strip()
    if not stripped.startswith("{"):
        start, end = stripped.find("{"), stripped.rfind("}")
        if start != -1 and end > start:
            stripped = stripped[start : end + 1]
    return stripped


def _first_error(exc: ValidationError | json.JSONDecodeError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    errors = exc.errors()
    shown = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in errors[:3])
    return f"does not match the schema ({shown})"


def key_lines(schema: type[BaseModel]) -> str:
    """One line per key (name, JSON type, description), nested objects' keys indented below."""
    full = json_schema_of(schema)
    return "\n".join(_lines(full, full.get("$defs", {}), ""))


def _lines(node: dict[str, Any], definitions: dict[str, Any], indent: str) -> list[str]:
    lines = []
    for name, prop in node.get("properties", {}).items():
        about = f": {prop['description']}" if prop.get("description") else ""
        lines.append(f"{indent}- {name} ({_type_of(prop, definitions)}){about}")
        nested = _object_of(prop, definitions)
        if nested is not None and indent == "":
            lines += _lines(nested, definitions, indent + "  ")
    return lines


def _object_of(prop: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any] | None:
    if "$ref" in prop:
        return definitions.get(prop["$ref"].split("/")[-1])
    if prop.get("type") == "array":
        return _object_of(prop.get("items", {}), definitions)
    return None


def _type_of(prop: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in prop:
        return "object"
    if "anyOf" in prop:
        return " or ".join(_type_of(option, definitions) for option in prop["anyOf"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(prop.get('items', {}), definitions)}"
    return str(kind)


class StructuredOutput:
    """The structured half of the client: ``structured`` on top of the client's ``_create``."""

    settings: Settings
    mode: str | None

    async def _create(self, messages: list[Message], **kwargs: Any) -> str:
        raise NotImplementedError

    def _translate(self, exc: Exception) -> LLMError:
        raise NotImplementedError

    def _response_format(self, mode: str, schema: type[BaseModel]) -> dict[str, Any] | None:
        json_schema = json_schema_of(schema)
        if mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": False},
            }
        if mode == "llama_cpp":
            return {"type": "json_object", "schema": json_schema}
        if mode == "json_object":
            return {"type": "json_object"}
        return None

    def _instructions(self, schema: type[BaseModel]) -> str:
        """Where the endpoint enforces the schema itself (json_schema, llama.cpp's grammar), a
        short list of the keys is enough and keeps the prompt small; elsewhere, the whole schema."""
        if self.mode in ("json_schema", "llama_cpp"):
            return "Reply with one JSON object only, with these keys in this order:\n" + key_lines(schema)
        return (
            "Reply with one JSON object only, no prose and no code fences, matching this JSON schema:\n"
            + json.dumps(json_schema_of(schema), separators=(",", ":"))
        )

    async def _ask_json(
        self,
        messages: list[Message],
        schema: type[BaseModel],
        *,
        purpose: str,
        request_id: str,
        max_tokens: int | None,
        temperature: float = 0.0,
    ) -> str:
        """One call in the strongest mode this endpoint accepts (found once, then remembered)."""
        modes = [self.mode] if self.mode else list(MODES)
        for index, mode in enumerate(modes):
            response_format = self._response_format(mode, schema)
            extra = {"response_format": response_format} if response_format else {}
            try:
                text = await self._create(
                    messages,
                    purpose=purpose,
                    request_id=request_id,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    **extra,
                )
            except openai.APIStatusError as exc:
                if exc.status_code in (400, 422, 500) and index + 1 < len(modes):
                    continue  # the endpoint refuses this format: try the next, weaker one
                raise self._translate(exc) from None
            except openai.OpenAIError as exc:
                raise self._translate(exc) from None
            self.mode = mode
            return text
        raise LLMError("no structured-output mode is accepted by the endpoint")

    async def structured(
        self,
        messages: list[Message],
        schema: type[T],
        *,
        purpose: str,
        request_id: str = "",
        max_tokens: int | None = 1024,
        temperature: float = 0.0,
    ) -> T:
        """A validated ``schema`` instance, re-asking with the validation error on bad output.
        Greedy unless ``temperature`` asks for a different draw."""
        # the task's own words first: a prompt that starts the same way each time is read from
        # the server's cache; the schema (different for every tool) comes after
        conversation = [*messages, {"role": "system", "content": self._instructions(schema)}]
        raw = ""
        problem = ""
        for _attempt in range(self.settings.structured_retries + 1):
            raw = await self._ask_json(
                conversation,
                schema,
                purpose=purpose,
                request_id=request_id,
                max_tokens=max_tokens,
                temperature=temperature,
            )
            try:
                return schema.model_validate(json.loads(extract_json(raw)))
            except (json.JSONDecodeError, ValidationError) as exc:
                problem = _first_error(exc)
            conversation = [
                *conversation,
                {"role": "assistant", "content": raw[:4000]},
                {
                    "role": "user",
                    "content": f"That reply {problem}. Reply again with only the corrected JSON object.",
                },
            ]
        raise StructuredOutputError(
            f"the model's {purpose} reply {problem} after {self.settings.structured_retries + 1} tries", raw
        )
