"""Static checks on a tool's source, before anything runs.

The sandbox is the boundary and the host is the judge, so the gate no longer guards the verdict:
it refuses only what a tool has no business doing *and* what would reach past its own run,
failing fast with the line it found:

- raw memory and system calls (``ctypes``, ``cffi``): the widest door to the kernel;
- starting programs (``subprocess``, ``multiprocessing``, ``pty``, ``os.system``, ``os.fork``,
  ``os.exec*``, ``os.spawn*``, ``os.posix_spawn*``, ``os.popen``): a tool is a function, and a
  shell inside the sandbox only widens what a kernel bug could be reached with;
- signalling processes (``os.kill``, ``os.killpg``);
- the network (``socket``, ``ssl``, ``urllib.request``, ``http.client``, ...): the sandbox has
  none, so a tool that needs it cannot work; saying so up front beats a confusing runtime error.

Everyday standard-library code (``os.path``, ``shutil``, ``tempfile``, ``threading``,
``functools``, ``builtins``, ``inspect``, ``eval``...) passes: it runs inside the sandbox and
can decide nothing about its verdict. The gate reads imports and attribute names; code that
builds names at run time gets past it and meets the sandbox, as everything does.
"""

from __future__ import annotations

import ast

REFUSED_MODULES = {
    "ctypes": "raw memory and system calls",
    "_ctypes": "raw memory and system calls",
    "cffi": "raw memory and system calls",
    "subprocess": "starting programs",
    "multiprocessing": "starting programs",
    "pty": "starting programs",
    "_posixsubprocess": "starting programs",
    "socket": "the network",
    "_socket": "the network",
    "ssl": "the network",
    "urllib.request": "the network",
    "http.client": "the network",
    "http.server": "the network",
    "ftplib": "the network",
    "smtplib": "the network",
    "poplib": "the network",
    "imaplib": "the network",
    "telnetlib": "the network",
    "xmlrpc": "the network",
    "socketserver": "the network",
}
REFUSED_OS = {
    **dict.fromkeys(
        (
            "system",
            "popen",
            "fork",
            "forkpty",
            "execv",
            "execve",
            "execl",
            "execle",
            "execlp",
            "execlpe",
            "execvp",
            "execvpe",
            "spawnl",
            "spawnle",
            "spawnlp",
            "spawnlpe",
            "spawnv",
            "spawnve",
            "spawnvp",
            "spawnvpe",
            "posix_spawn",
            "posix_spawnp",
        ),
        "starting programs",
    ),
    "kill": "signalling processes",
    "killpg": "signalling processes",
}


class GateError(Exception):
    """A source was refused; the message names the file, line and construct."""


def _refused_module(name: str) -> str | None:
    """The reason a module (or a module it is inside of) is refused, if it is."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        reason = REFUSED_MODULES.get(".".join(parts[:end]))
        if reason:
            return reason
    return None


class _Gate(ast.NodeVisitor):
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.os_names: set[str] = set()  # local names bound to the os module

    def fail(self, node: ast.AST, what: str, why: str) -> None:
        raise GateError(
            f"{self.filename} line {getattr(node, 'lineno', '?')}: {what} is not allowed in a tool ({why})"
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            reason = _refused_module(alias.name)
            if reason:
                self.fail(node, f"import {alias.name}", reason)
            if alias.name == "os":
                self.os_names.add(alias.asname or "os")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self.fail(node, "a relative import", "a tool is one file")
        reason = _refused_module(module)
        if reason:
            self.fail(node, f"from {module} import", reason)
        for alias in node.names:
            reason = _refused_module(f"{module}.{alias.name}")
            if reason:
                self.fail(node, f"from {module} import {alias.name}", reason)
            if module == "os" and alias.name in REFUSED_OS:
                self.fail(node, f"os.{alias.name}", REFUSED_OS[alias.name])
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id in self.os_names and node.attr in REFUSED_OS:
            self.fail(node, f"os.{node.attr}", REFUSED_OS[node.attr])
        self.generic_visit(node)


def _parse(source: str, filename: str) -> ast.Module:
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise GateError(f"{filename} line {exc.lineno}: does not parse ({exc.msg})") from None


def check_source(source: str, filename: str = "tool.py") -> ast.Module:
    """Raise GateError naming the first refused construct; return the parsed module."""
    tree = _parse(source, filename)
    _Gate(filename).visit(tree)
    return tree


def gate_tool(tool_source: str, function_name: str) -> None:
    """The tool must parse, pass the gate and define ``function_name`` at top level."""
    tree = check_source(tool_source, "tool.py")
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    if function_name not in defined:
        raise GateError(f"tool.py: defines no top-level function {function_name!r}")
