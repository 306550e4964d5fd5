"""A library a team shares through git remotes: a remote's ``main`` holds tool folders, as
published by ``push``. What comes in with ``pull`` is someone else's code: it is read bounded
(:mod:`untrusted`), verified again in this host's sandbox, kept unapproved and marked with the
remote it came from; a version that fails here is kept in the history and never made current.

Which side is newer is decided by content, not by clocks: a version whose ``tool.py`` is among
the other side's versions is behind it. When both sides changed a tool, nothing is overwritten:
theirs becomes a version here and ours goes on top of it, so the next push carries both."""

from __future__ import annotations

import io
import re
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tui_agent.core.library.folders import RegistryError, ToolFolder
from tui_agent.core.library.git_journal import GitJournal, GitJournalError, git_available
from tui_agent.core.library.store import ToolStore
from tui_agent.core.library.untrusted import read_untrusted_dirs
from tui_agent.core.tool.record import TOOL_FILE, ToolStoreError, sha256_text, validate_name

BRANCH = "main"
MAX_FOLDER_BYTES = 4 << 20  # a tool folder, all its versions included
PUSH_ATTEMPTS = 4
REACH_TIMEOUT_S = 10.0
REMOTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")

Verify = Callable[[str, str, list[Any]], Any]


class State(StrEnum):
    SAME = "same"
    HERE_ONLY = "only here"
    THERE_ONLY = "only there"
    AHEAD = "newer here"
    BEHIND = "newer there"
    DIVERGED = "changed on both sides"


@dataclass
class Lineage:
    """One side's tool: the sha256 of its current ``tool.py`` and of every version's."""

    current: str
    history: set[str] = field(default_factory=set)


INCOMING = {State.THERE_ONLY, State.BEHIND, State.DIVERGED}


def compare(here: Lineage | None, there: Lineage | None) -> State:
    if here is None:
        return State.THERE_ONLY
    if there is None:
        return State.HERE_ONLY
    if here.current == there.current:
        return State.SAME
    if there.current in here.history:
        return State.AHEAD
    if here.current in there.history:
        return State.BEHIND
    return State.DIVERGED


class Remotes:
    """The remotes of one home's library. Every git command runs under the library's lock;
    verifying what comes in (the slow part) runs outside it."""

    def __init__(self, store: ToolStore, verify: Verify | None = None) -> None:
        if store.journal is None:
            raise RegistryError("sharing a library needs git, which is not installed: apt install git")
        self.store, self.journal, self.verify = store, store.journal, verify

    # --- remotes ------------------------------------------------------------------------

    def add(self, name: str, url: str) -> None:
        if not REMOTE_NAME.match(name):
            raise RegistryError(f"{name!r} is not a remote name: letters, digits, '.', '_' and '-'")
        with self.store.locked():
            self.journal.ensure()
            if name in self.urls():
                raise RegistryError(f"there is already a remote named {name!r}")
            self.journal.git("remote", "add", name, url)

    def urls(self) -> dict[str, str]:
        return self.journal.remotes()

    def _known(self, remote: str) -> None:
        if remote not in self.urls():
            raise RegistryError(f"no remote named {remote!r}: add one with `library remote add NAME URL`")

    def _fetch(self, remote: str) -> str | None:
        """The remote's tip after fetching it; None when nothing was ever published there."""
        self._known(remote)
        heads = self.journal.text("ls-remote", "--heads", remote, BRANCH)
        if not heads:
            return None
        self.journal.git("fetch", "-q", remote, f"+refs/heads/{BRANCH}:refs/remotes/{remote}/{BRANCH}")
        return self.journal.text("rev-parse", "--verify", f"refs/remotes/{remote}/{BRANCH}^{{commit}}")

    # --- what each side holds -----------------------------------------------------------

    def _here(self) -> dict[str, Lineage]:
        return {name: lineage for name in self.store.names() if (lineage := self._one(name)) is not None}

    def _one(self, name: str) -> Lineage | None:
        """This library's lineage of one tool; None when it has no such tool (or it is broken)."""
        try:
            current = self.store.record(name).sha256["tool"]
            return Lineage(current, {r.sha256.get("tool", "") for r in self.store.history(name)} | {current})
        except (ToolStoreError, OSError):
            return None

    def _there(self, tip: str | None) -> tuple[dict[str, Lineage], dict[str, int]]:
        """Each published tool's lineage, from the blobs of its tool.py files, and its size."""
        if tip is None:
            return {}, {}
        listing = self.journal.git("ls-tree", "-r", "-l", "-z", tip).split(b"\0")
        blobs: dict[str, list[tuple[str, bool]]] = {}
        sizes: dict[str, int] = {}
        for entry in filter(None, listing):
            meta, _, path = entry.decode("utf-8", "replace").partition("\t")
            _mode, kind, blob, size = meta.split()
            name, _, inner = path.partition("/")
            sizes[name] = sizes.get(name, 0) + (int(size) if size.isdigit() else MAX_FOLDER_BYTES)
            if kind == "blob" and (inner == TOOL_FILE or _version_tool(inner)):
                blobs.setdefault(name, []).append((blob, inner == TOOL_FILE))
        kept = {n: files for n, files in blobs.items() if sizes[n] <= MAX_FOLDER_BYTES and _valid(n)}
        digests = self._digests([blob for files in kept.values() for blob, _ in files])
        lineages = {}
        for name, files in kept.items():
            current = next((digests[blob] for blob, is_current in files if is_current), "")
            if current:
                lineages[name] = Lineage(current, {digests[blob] for blob, _ in files})
        return lineages, sizes

    def _digests(self, blobs: list[str]) -> dict[str, str]:
        """sha256 of each blob's text, read by one ``git cat-file --batch``."""
        if not blobs:
            return {}
        out = self.journal.git("cat-file", "--batch", input="".join(f"{b}\n" for b in blobs).encode())
        digests, at = {}, 0
        for blob in blobs:
            header_end = out.index(b"\n", at)
            size = int(out[at:header_end].split()[2])
            body = out[header_end + 1 : header_end + 1 + size]
            digests[blob] = sha256_text(body.decode("utf-8", "replace"))
            at = header_end + 1 + size + 1
        return digests

    def status(self, remote: str) -> dict[str, State]:
        """Every tool either side holds, and which side is newer."""
        with self.store.locked():
            tip = self._fetch(remote)
            there, _ = self._there(tip)
            here = self._here()
        return {name: compare(here.get(name), there.get(name)) for name in sorted({*here, *there})}

    # --- pull ---------------------------------------------------------------------------

    def pull(self, remote: str) -> list[str]:
        """Bring in what the remote has and this library does not; one line per tool taken."""
        with self.store.locked():
            tip = self._fetch(remote)
            there, sizes = self._there(tip)
            here = self._here()
            wanted = [n for n in there if compare(here.get(n), there[n]) in INCOMING]
            refused = [
                f"{n}: refused, {size} bytes is more than a tool folder may hold"
                for n, size in sizes.items()
                if size > MAX_FOLDER_BYTES
            ]
        notes = list(refused)
        if tip is None:
            return [f"{remote} has nothing published yet"]
        with tempfile.TemporaryDirectory(prefix="selfeng-pull-") as scratch:
            if wanted:
                self._unpack(tip, wanted, Path(scratch))
            read = read_untrusted_dirs([Path(scratch) / name for name in wanted])
            for name in wanted:
                notes.append(self._take(remote, name, there[name], read[Path(scratch) / name]))
        return notes

    def _unpack(self, tip: str, names: list[str], scratch: Path) -> None:
        """The folders as published, unpacked with tar's data filter (no links out, no devices)."""
        packed = self.journal.git("archive", "--format=tar", tip, "--", *names)
        try:
            with tarfile.open(fileobj=io.BytesIO(packed)) as archive:
                archive.extractall(scratch, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise RegistryError(f"the published folders could not be unpacked: {exc}") from None

    def _take(self, remote: str, name: str, theirs: Lineage, folder: ToolFolder | RegistryError) -> str:
        if isinstance(folder, ToolFolder) and folder.name != name:
            folder = RegistryError(f"its record names it {folder.name!r}")
        if isinstance(folder, RegistryError):
            return f"{name}: not taken ({str(folder)[:160]})"
        verdict = (
            self.verify(folder.tool_source, folder.spec.function_name, folder.cases) if self.verify else None
        )
        record = verdict.to_record() if verdict is not None else None
        passed = bool(verdict is not None and verdict.passed)
        fields = dict(
            cases=[c.model_dump() for c in folder.cases],
            verdict=record,
            model=str(folder.meta.get("model", "")),
            source="pulled",
            origin=remote,
            approved=False,
            unread_tests=folder.unread,
            why=f"pulled from {remote}",
        )
        with self.store.locked():  # the library may have moved while this was verified
            state = compare(self._one(name), theirs)
            if state not in INCOMING:
                return f"{name}: already here"
            ours = self.store.load(name) if state != State.THERE_ONLY else None
            save = self.store.create if ours is None else self.store.add_version
            taken = save(name, folder.tool_source, folder.test_source, folder.spec.model_dump(), **fields)
            if ours is not None and (state == State.DIVERGED or not passed):
                why = "changed on both sides" if passed else f"{remote}'s version failed here"
                kept = ours.record
                self.store.add_version(
                    name,
                    ours.tool_source,
                    ours.test_source,
                    kept.spec,
                    cases=kept.cases,
                    verdict=kept.verdict,
                    model=kept.model,
                    source=kept.source,
                    origin=kept.origin,
                    approved=kept.approved,
                    unread_tests=kept.unread_tests,
                    why=f"kept current: {why} (theirs is v{taken.version})",
                )
                return f"{name}: {why}; theirs kept as v{taken.version}, yours stays current"
        state_word = "verified here" if passed else "FAILED verification here, never offered"
        return f"{name} v{taken.version} from {remote}: {state_word}, waits for your approval"

    # --- push ---------------------------------------------------------------------------

    def push(self, remote: str) -> list[str]:
        """Publish every verified tool that is newer here. What the remote has that is newer is
        pulled first; a push that loses a race with another push pulls again and retries."""
        notes: list[str] = []
        for _ in range(PUSH_ATTEMPTS):
            tip, states, behind = self._compared(remote)
            if behind:
                notes += self.pull(remote)
                tip, states, _ = self._compared(remote)
            with self.store.locked():
                sent, skipped = self._publish(remote, tip, states)
            if sent is None:
                continue  # another push got there first
            notes += [f"{n}: not published, not verified" for n in skipped]
            return notes + (
                [f"published {', '.join(sent)} to {remote}"] if sent else [f"{remote} is up to date"]
            )
        raise RegistryError(
            f"{remote} kept moving: others pushed {PUSH_ATTEMPTS} times while this was publishing"
        )

    def _compared(self, remote: str) -> tuple[str | None, dict[str, State], list[str]]:
        """The remote's tip, the state of each tool here, and the tools newer there."""
        with self.store.locked():
            tip = self._fetch(remote)
            there, _ = self._there(tip)
            here = self._here()
        states = {n: compare(lineage, there.get(n)) for n, lineage in here.items()}
        behind = [n for n in there if compare(here.get(n), there[n]) in INCOMING]
        return tip, states, behind

    def _publish(
        self, remote: str, tip: str | None, states: dict[str, State]
    ) -> tuple[list[str] | None, list[str]]:
        """One commit on top of the remote's ``tip`` replacing the folders newer here; None when
        the remote moved past ``tip`` meanwhile."""
        newer = [n for n, s in states.items() if s in {State.HERE_ONLY, State.AHEAD}]
        records = {n: self.store.record(n) for n in newer}
        # a starter as shipped is in every home already; one that was changed is published
        sent = [
            n for n, r in records.items() if r.verified and not (r.source == "starter" and r.version == 1)
        ]
        skipped = [n for n, r in records.items() if not r.verified]
        if not sent:
            return [], skipped
        with tempfile.TemporaryDirectory(prefix="selfeng-push-") as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self.journal.git("read-tree", *([tip] if tip else ["--empty"]), env=env)
            for name in sent:
                self.journal.git("rm", "-r", "-q", "-f", "--cached", "--ignore-unmatch", "--", name, env=env)
                self.journal.git("add", "--", name, env=env)
            tree = self.journal.text("write-tree", env=env)
        parents = ["-p", tip] if tip else []
        message = f"published {', '.join(sent)}"
        commit = self.journal.text("commit-tree", tree, *parents, "-m", message, env=self.journal.identity())
        try:
            self.journal.git("push", "-q", remote, f"{commit}:refs/heads/{BRANCH}")
        except GitJournalError:
            if self._fetch(remote) != tip:
                return None, skipped
            raise
        return sent, skipped


def answering(root: Path) -> list[tuple[str, str, str]]:
    """Each remote of the library at ``root``: (name, URL, why it does not answer, or "")."""
    if not git_available():
        return []
    journal = GitJournal(root)
    found = []
    for name, url in journal.remotes().items():
        try:
            journal.git("ls-remote", "--heads", name, BRANCH, timeout=REACH_TIMEOUT_S)
            found.append((name, url, ""))
        except GitJournalError as exc:
            found.append((name, url, str(exc)))
    return found


def _version_tool(inner: str) -> bool:
    """``versions/v<N>/tool.py``: an older version's code."""
    parts = inner.split("/")
    return len(parts) == 3 and parts[0] == "versions" and parts[1][1:].isdigit() and parts[2] == TOOL_FILE


def _valid(name: str) -> bool:
    try:
        validate_name(name)
    except ToolStoreError:
        return False
    return True


def states_line(states: dict[str, State]) -> Iterator[str]:
    for name, state in states.items():
        yield f"{name:<32} {state}"
