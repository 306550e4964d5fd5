"""The library's history as a git repository: the tools folder is one, and every change the
store makes (a version registered, corrected, reverted, approved, removed) is a commit whose
message says why. Git is the history a person can read and the way a team shares (:mod:`remotes`);
the files stay the truth the store reads, so a library without git still works, only without a
journal. Every call runs under the store's lock, so git's own index lock is never contended; one
left by a killed process is stale and removed. Hooks never run."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_agent.core.tool.record import ToolRecord

IGNORED = (
    ".lock",
    ".generation",
    ".starters-imported",
    ".staging-*/",
    ".old-*/",
    ".trash-*/",
    "__pycache__/",
)
IDENTITY = ("selfeng-tui", "selfeng-tui@localhost")
GIT_TIMEOUT_S = 120.0


class GitJournalError(Exception):
    """A git command failed: the message is git's last line."""


@dataclass
class Entry:
    commit: str
    when: str
    message: str


def change_note(name: str, record: ToolRecord, changes: dict[str, Any]) -> str:
    """A commit message for a change of metadata; learned phrasings ride with the next commit."""
    if changes.get("approved") is True:
        return f"{name} v{record.version}: approved to run"
    if "verdict" in changes:
        return f"{name} v{record.version}: verified again, {'passed' if record.verified else 'failed'}"
    return ""


def git_available() -> bool:
    return shutil.which("git") is not None


class GitJournal:
    """Commits of one tools folder. Created on first use, or adopted when it is a repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._ready = False

    def git(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        timeout: float = GIT_TIMEOUT_S,
    ) -> bytes:
        """One git command in the tools folder; GitJournalError with git's last line when it fails."""
        command = ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.quotepath=off", *args]
        try:
            done = subprocess.run(
                command,
                cwd=self.root,
                capture_output=True,
                input=input,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GitJournalError(f"git {args[0]}: {exc}") from None
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"]
            raise GitJournalError(f"git {args[0]}: {lines[-1]}")
        return done.stdout

    def text(self, *args: str, env: dict[str, str] | None = None) -> str:
        return self.git(*args, env=env).decode("utf-8", "replace").strip()

    def ensure(self) -> None:
        """Make the folder a repository (or adopt it) with the library's ignore list."""
        if self._ready:
            return
        if not (self.root / ".git").exists():
            self.git("init", "-q", "-b", "main")
        ignore = self.root / ".gitignore"
        wanted = "\n".join(IGNORED) + "\n"
        if not ignore.exists() or ignore.read_text(encoding="utf-8") != wanted:
            ignore.write_text(wanted, encoding="utf-8")
        stale = self.root / ".git" / "index.lock"
        if stale.exists():  # we hold the library's lock: no git of ours is running
            stale.unlink(missing_ok=True)
        self._ready = True

    def identity(self) -> dict[str, str]:
        """The person's git identity when they have one, the app's otherwise."""
        try:
            if self.text("config", "user.email"):
                return {}
        except GitJournalError:
            pass
        name, email = IDENTITY
        return {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }

    def commit(self, message: str, *paths: str) -> str:
        """What ``paths`` hold now (the whole folder when none), as one commit; nothing when
        nothing changed. Naming the tool keeps a commit's cost flat as the library grows."""
        self.ensure()
        self.git("add", "-A", "--", *(paths or ["."]), ".gitignore")
        try:
            self.git("diff", "--cached", "--quiet")
            return ""  # nothing staged
        except GitJournalError:
            pass
        self.git("commit", "-q", "--no-verify", "-m", message, env=self.identity())
        return self.text("rev-parse", "HEAD")

    def remotes(self) -> dict[str, str]:
        """Each remote's name and the URL it is fetched from (none before the first commit)."""
        if not (self.root / ".git").exists():
            return {}
        found = {}
        for line in self.text("remote", "-v").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2] == "(fetch)":
                found[parts[0]] = parts[1]
        return found

    def log(self, path: str = "", limit: int = 200) -> list[Entry]:
        """Commits that touched ``path`` (the whole library when empty), newest first."""
        if not (self.root / ".git").exists():
            return []
        try:
            out = self.text("log", f"-{limit}", "--format=%H%x1f%cI%x1f%B%x1e", "--", path or ".")
        except GitJournalError:
            return []  # no commit yet
        entries = []
        for chunk in out.split("\x1e"):
            parts = chunk.strip().split("\x1f")
            if len(parts) == 3:
                entries.append(Entry(parts[0], parts[1], parts[2].strip()))
        return entries
