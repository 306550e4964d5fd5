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
