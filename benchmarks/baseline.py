"""An older commit checked out beside this one, so that a benchmark compares old and new in one
run on one machine (these machines are shared and noisy: numbers from different runs do not
compare). Each commit gets its own worktree and its own sandbox image tag, built from that
commit's recipe."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = (
    "import docker\nfrom tui_agent.core.sandbox.image import build_image\n"
    "build_image(docker.from_env(), {image!r}, say=lambda m: None)\n"
)


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[tuple[Path, str]]:
    """A worktree of ``rev`` and the tag of its sandbox image; both go away afterwards (the image
    stays, so the next comparison does not build it again)."""
    parent = Path(tempfile.mkdtemp(prefix="selfeng-baseline-"))
    tree = parent / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
        check=True,
        capture_output=True,
    )
    image = f"selfeng-sandbox:baseline-{rev[:12]}"
    try:
        code = BUILD.format(image=image)
        subprocess.run([sys.executable, "-c", code], cwd=tree, env=child_env(tree, image), check=True)
        yield tree, image
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True
        )
        shutil.rmtree(parent, ignore_errors=True)


def child_env(tree: Path, image: str, **extra: str) -> dict[str, str]:
    """The environment of a process that must run ``tree``'s code against ``image``."""
    return {**os.environ, "PYTHONPATH": str(tree), "SELFENG_SANDBOX_IMAGE": image, **extra}


def ratio(new: float, old: float) -> str:
    return f"{new / old:.2f}x" if old else "-"
