"""Static checks on generated sources, before anything runs.

The gate refuses constructs no everyday tool or its tests need but that code under test could use
to forge a verdict or reach out of the sandbox (pytest internals, ``os._exit``, ``atexit``,
``ctypes``, ``sys.modules`` tampering, monkeypatching the function under test). The sandbox is
the real boundary; the gate makes forging a green verdict much harder and fails fast with the
line it found.

It also takes the test inventory: the test names the file defines, expanded by literal
``parametrize`` lists, so the verdict can check pytest collected exactly those.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

FORBIDDEN_MODULES = frozenset(
    {
        "_pytest",
        "pluggy",
        "atexit",
        "ctypes",
        "_ctypes",
        "cffi",
        "gc",
        "inspect",
        "importlib",
        "builtins",
        "subprocess",
        "multiprocessing",
        "signal",
        "socket",
        "ssl",
        "pty",
        "fcntl",
        "resource",
        "mmap",
        "sysconfig",
        "site",
        "code",
        "codeop",
        "marshal",
        "pickle",
        "shelve",
        "unittest",
        "faulthandler",
        "tracemalloc",
        "threading",
        "_thread",
        "concurrent",
        "asyncio",
        "urllib",
        "http",
        "ftplib",
        "smtplib",
        "shutil",
        "tempfile",
    }
)
FORBIDDEN_CALLS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "__import__",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "setattr",
        "delattr",
        "getattr",
        "input",
        "exit",
        "quit",
    }
)
FORBIDDEN_ATTRS = {
    "os": frozenset(
        {
            "_exit",
            "kill",
            "killpg",
            "fork",
            "forkpty",
            "system",
            "popen",
            "execv",
            "execve",
            "execl",
            "execle",
            "execlp",
            "execlpe",
            "execvp",
            "execvpe",
            "spawnl",
            "spawnv",
            "setuid",
            "setgid",
            "seteuid",
            "setsid",
            "abort",
            "environ",
            "putenv",
            "chmod",
            "remove",
            "unlink",
            "rmdir",
            "rename",
            "replace",
            "symlink",
            "link",
            "truncate",
        }
    ),
    "sys": frozenset(
        {
            "modules",
            "_getframe",
            "settrace",
            "setprofile",
            "exit",
            "meta_path",
            "path_hooks",
            "path_importer_cache",
            "addaudithook",
            "stdout",
            "stderr",
            "stdin",
            "__stdout__",
            "__stderr__",
            "excepthook",
            "setrecursionlimit",
            "path",
        }
    ),
}
# Dunders and frame attributes that lead from any object back to modules, frames and globals.
FORBIDDEN_ANY_ATTR = frozenset(
    {
        "__globals__",
        "__code__",
        "__builtins__",
        "__subclasses__",
        "__bases__",
        "__mro__",
        "__dict__",
        "__closure__",
        "__getattribute__",
        "__setattr__",
        "__delattr__",
        "__class__",
        "__loader__",
        "__spec__",
        "__import__",
        "__reduce__",
        "__reduce_ex__",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "gi_frame",
        "cr_frame",
        "ag_frame",
        "tb_frame",
        "tb_next",
        "__traceback__",
        "__wrapped__",
        "__defaults__",
        "__kwdefaults__",
    }
)
ALLOWED_PYTEST_ATTRS = frozenset({"raises", "approx", "mark", "param", "warns", "fixture"})
ALLOWED_MARKS = frozenset({"parametrize"})
MAX_PARAMETRIZED = 500


class GateError(Exception):
    """A source was refused; the message names the file, line and construct."""


@dataclass(frozen=True)
class Inventory:
    """The tests a file defines: ``names`` are ``test_x`` or ``TestC::test_x``; ``count`` expands
    literal parametrize lists."""

    names: tuple[str, ...]
    count: int


def _module_root(name: str | None) -> str:
    return (name or "").split(".")[0]


class _Gate(ast.NodeVisitor):
    def __init__(self, filename: str, *, is_test: bool) -> None:
        self.filename = filename
        self.is_test = is_test
        self.aliases: dict[str, str] = {}  # local name -> module it is (os, sys, pytest)
        self.imported: set[str] = set()  # every name an import binds

    def collect_imports(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    self.imported.add(alias.asname or alias.name.split(".")[0])

    def fail(self, node: ast.AST, what: str) -> None:
        raise GateError(
            f"{self.filename} line {getattr(node, 'lineno', '?')}: {what} is not allowed in generated code"
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            root = _module_root(alias.name)
            if root in FORBIDDEN_MODULES:
                self.fail(node, f"import {alias.name}")
            if alias.name in ("os", "sys", "pytest", "os.path"):
                self.aliases[alias.asname or root] = root
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        root = _module_root(node.module)
        if node.level:
            self.fail(node, "a relative import")
        if root in FORBIDDEN_MODULES:
            self.fail(node, f"from {node.module} import")
        for alias in node.names:
            if alias.name == "*":
                self.fail(node, f"from {node.module} import *")
            if root in FORBIDDEN_ATTRS and alias.name in FORBIDDEN_ATTRS[root]:
                self.fail(node, f"{root}.{alias.name}")
            if root == "pytest" and alias.name not in ALLOWED_PYTEST_ATTRS:
                self.fail(node, f"pytest.{alias.name}")
            if root == "os" and alias.name in ("path",):
                self.aliases[alias.asname or alias.name] = "os.path"
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in FORBIDDEN_ANY_ATTR:
            self.fail(node, f"attribute {node.attr}")
        if isinstance(node.value, ast.Name):
            module = self.aliases.get(node.value.id)
            if module in FORBIDDEN_ATTRS and node.attr in FORBIDDEN_ATTRS[module]:
                self.fail(node, f"{module}.{node.attr}")
            if module == "pytest" and node.attr not in ALLOWED_PYTEST_ATTRS:
                self.fail(node, f"pytest.{node.attr}")
        if (
            isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name)
            and self.aliases.get(node.value.value.id) == "pytest"
            and node.value.attr == "mark"
            and node.attr not in ALLOWED_MARKS
        ):
            self.fail(node, f"pytest.mark.{node.attr}")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_CALLS or node.id in FORBIDDEN_ANY_ATTR:
            self.fail(node, f"{node.id}")
        if self.is_test and isinstance(node.ctx, ast.Store | ast.Del) and node.id in self.imported:
            self.fail(node, f"rebinding the imported name {node.id}")
        if node.id == "pytest_plugins" or node.id == "monkeypatch":
            self.fail(node, node.id)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self.is_test and node.name in self.imported:
            self.fail(node, f"redefining the imported name {node.name}")
        self.generic_visit(node)

    def _check_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if self.is_test and node.name in self.imported:
            self.fail(node, f"redefining the imported name {node.name}")
        if node.name.startswith("pytest_"):
            self.fail(node, f"a pytest hook ({node.name})")
        if self.is_test and node.name.startswith("test") and isinstance(node, ast.AsyncFunctionDef):
            self.fail(node, f"an async test ({node.name})")
        for arg in [*node.args.args, *node.args.kwonlyargs]:
            if arg.arg in ("monkeypatch", "request", "pytestconfig", "capsys", "capfd", "tmp_path_factory"):
                self.fail(node, f"the {arg.arg} fixture")
        self.generic_visit(node)

    visit_FunctionDef = _check_def
    visit_AsyncFunctionDef = _check_def

    def visit_Global(self, node: ast.Global) -> None:
        self.fail(node, "a global statement")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_target(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_target(target)
        self.generic_visit(node)

    def _check_target(self, target: ast.expr) -> None:
        # Rebinding something on an imported module (tool.fn = fake, math.pi = 3) is monkeypatching.
        if isinstance(target, ast.Attribute):
            root = target.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in self.imported:
                self.fail(target, f"assigning to an attribute of the imported {root.id}")


def _parse(source: str, filename: str) -> ast.Module:
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise GateError(f"{filename} line {exc.lineno}: does not parse ({exc.msg})") from None


def check_source(source: str, filename: str, *, is_test: bool = False) -> ast.Module:
    """Raise GateError naming the first forbidden construct; return the parsed module."""
    tree = _parse(source, filename)
    gate = _Gate(filename, is_test=is_test)
    gate.collect_imports(tree)
    gate.visit(tree)
    return tree


def _parametrize_factor(decorator: ast.expr, filename: str) -> int:
    """How many cases a ``@pytest.mark.parametrize(names, [literal, ...])`` decorator makes."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return 1
    if decorator.func.attr != "parametrize":
        return 1
    values = decorator.args[1] if len(decorator.args) > 1 else None
    for keyword in decorator.keywords:
        if keyword.arg == "argvalues":
            values = keyword.value
    if not isinstance(values, ast.List | ast.Tuple):
        raise GateError(f"{filename} line {decorator.lineno}: parametrize values must be a literal list")
    if any(isinstance(v, ast.Starred) for v in values.elts):
        raise GateError(f"{filename} line {decorator.lineno}: parametrize values must be a literal list")
    return len(values.elts)


def _cases(node: ast.FunctionDef, filename: str) -> int:
    count = 1
    for decorator in node.decorator_list:
        count *= _parametrize_factor(decorator, filename)
    return count


def inventory(test_source: str, filename: str = "test_tool.py") -> Inventory:
    """The tests pytest should collect from this file, found without running it."""
    tree = _parse(test_source, filename)
    names: list[str] = []
    count = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            names.append(node.name)
            count += _cases(node, filename)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    names.append(f"{node.name}::{item.name}")
                    count += _cases(item, filename)
    if len(set(names)) != len(names):
        raise GateError(f"{filename}: a test name is defined twice (the first would never run)")
    if count > MAX_PARAMETRIZED:
        raise GateError(f"{filename}: {count} test cases is more than the {MAX_PARAMETRIZED} allowed")
    return Inventory(tuple(names), count)


def gate_tool(tool_source: str, function_name: str) -> None:
    """The tool must parse, pass the gate and define ``function_name`` at top level."""
    tree = check_source(tool_source, "tool.py")
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    if function_name not in defined:
        raise GateError(f"tool.py: defines no top-level function {function_name!r}")


def gate_tests(test_source: str) -> Inventory:
    check_source(test_source, "test_tool.py", is_test=True)
    found = inventory(test_source)
    if found.count == 0:
        raise GateError("test_tool.py: defines no test functions")
    return found
