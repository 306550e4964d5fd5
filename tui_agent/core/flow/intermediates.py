"""The values the request's own program passes through on its way to the answer: evidence, by
execution, that a library tool computes a step of the request before a plan is drawn.

A tool that ran on the request's values and gave a value of its own may be the first step of a
longer answer (percentage_of(240, 15) = 36 on the way to "rounded up to the nearest 5"), or may
compute something else entirely (is_prime(6) = False beside "the factorial of 6"). The program
that worked the answer out apart tells them apart: every operation and call in it is recorded as
it runs (in the sandbox, like the program itself), and a step of the request is one of those
values. Asking the model for a plan costs a call and invites steps nobody asked for."""

from __future__ import annotations

import ast
import textwrap

SEEN = "_selfeng_seen"
LIMIT = 500  # values kept, in the order they were computed (a loop past it is not followed)

RECORDER = f"""{SEEN}_values = []
def {SEEN}(value):
    if len({SEEN}_values) < {LIMIT}:
        if isinstance(value, (bool, int, float, str)):
            {SEEN}_values.append(value)
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, str)) for v in value):
            {SEEN}_values.append(list(value))
    return value
"""


class _Record(ast.NodeTransformer):
    """Each value-making expression ``e`` becomes ``_selfeng_seen(e)``, which returns ``e``."""

    def _wrap(self, node: ast.expr) -> ast.expr:
        self.generic_visit(node)
        call = ast.Call(func=ast.Name(SEEN, ast.Load()), args=[node], keywords=[])
        return ast.copy_location(call, node)

    visit_BinOp = visit_UnaryOp = visit_BoolOp = visit_Compare = visit_Call = _wrap

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        if isinstance(node.ctx, ast.Load):  # s[::-1] is a value; s[0] = x is a place
            return self._wrap(node)
        self.generic_visit(node)
        return node


def traced(program: str) -> str | None:
    """``program`` whose answer is the list of values it computed on the way, its own answer
    last; None when it cannot be read."""
    try:
        tree = ast.parse(textwrap.dedent(program))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    tree = ast.fix_missing_locations(_Record().visit(tree))
    return f"{RECORDER}{ast.unparse(tree)}\nanswer = [*{SEEN}_values, answer]\n"
