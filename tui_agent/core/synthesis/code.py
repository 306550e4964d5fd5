"""Code in and out of the model: the function in a reply, and the stub the tests must fail on."""

from __future__ import annotations

import io
import re
import tokenize

from tui_agent.core.tool.spec import ToolSpec


def extract_code(text: str) -> str:
    blocks = re.findall(r"```(?:python|py)?\s*\n(.*?)```", text, re.DOTALL)
    if blocks:
        return max(blocks, key=len).strip() + "\n"
    if "```" in text:  # an unterminated block while streaming
        return text.split("```", 1)[1].removeprefix("python").strip() + "\n"
    return text.strip() + "\n"


def stub_source(spec: ToolSpec) -> str:
    params = ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in spec.parameters)
    return f"def {spec.function_name}({params}):\n    raise NotImplementedError\n"


def rename_function(source: str, old: str, new: str) -> str:
    """``source`` with every use of the name ``old`` (the definition, recursive calls) as ``new``;
    strings and comments are left as they are."""
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string == old:
            token = token._replace(string=new)
        tokens.append(token)
    return tokenize.untokenize(tokens)


def defines(source: str, name: str) -> bool:
    """Whether ``source`` defines a top-level function ``name``."""
    return re.search(rf"^(async\s+)?def\s+{re.escape(name)}\s*\(", source, re.M) is not None


TYPING_NAMES = (
    "List",
    "Dict",
    "Tuple",
    "Optional",
    "Any",
    "Union",
    "Set",
    "Iterable",
    "Sequence",
    "Callable",
)


def with_typing_imports(source: str) -> str:
    """A signature kept as stated (``List[float]``) needs its ``typing`` names: the ones used and
    not imported are imported, so the stated signature never costs a NameError."""
    used = [n for n in TYPING_NAMES if re.search(rf"\b{n}\[|\b{n}\b\s*[,)\]=]|->\s*{n}\b", source)]
    missing = [
        n for n in used if not re.search(rf"^\s*(from typing import .*\b{n}\b|import typing)", source, re.M)
    ]
    if not missing:
        return source
    return f"from typing import {', '.join(missing)}\n" + source
