"""Building the sandbox image, online or not.

The image is labelled with a hash of its recipe (Dockerfile + runner.py), so a build with an
unchanged recipe is a no-op and a sandbox never runs with a stale runner. The base is pulled
when a registry answers; otherwise it is made from Debian packages with debootstrap and
``docker import`` (DESIGN.md: machines without registries for images)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_agent.core.sandbox.base import RUNNER_PATH
from tui_agent.core.sandbox.results import SandboxError

DOCKERFILE = Path(__file__).with_name("Dockerfile")
DEFAULT_BASE = "python:3.12-slim"
OFFLINE_BASE = "selfeng-base:bookworm"
RECIPE_LABEL = "selfeng.recipe"
DEBIAN_MIRROR = "http://deb.debian.org/debian"

Say = Callable[[str], None]


def recipe_hash() -> str:
    digest = hashlib.sha256()
    for path in (DOCKERFILE, RUNNER_PATH):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image_state(client: Any, image: str) -> str:
    """'ok', 'stale' (built from another recipe) or 'missing'."""
    import docker.errors

    try:
        found = client.images.get(image)
    except docker.errors.ImageNotFound:
        return "missing"
    labels = found.labels or {}
    return "ok" if labels.get(RECIPE_LABEL) == recipe_hash() else "stale"


def _have(client: Any, image: str) -> bool:
    import docker.errors

    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False


def _mirror() -> str:
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    return DEBIAN_MIRROR


def make_offline_base(client: Any, say: Say) -> str:
    """A bookworm minbase with python3 and pytest, imported as an image (root, ~1 min)."""
    if _have(client, OFFLINE_BASE):
        return OFFLINE_BASE
    debootstrap = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").exists() else None
    )
    if debootstrap is None:
        raise SandboxError("cannot pull a base image and debootstrap is missing: apt-get install debootstrap")
    if os.geteuid() != 0:
        raise SandboxError(
            "cannot pull a base image; making one with debootstrap needs root: sudo selfeng-tui sandbox build"
        )
    with tempfile.TemporaryDirectory(prefix="selfeng-rootfs-") as rootfs:
        say(f"making a Debian base with debootstrap from {_mirror()} (about a minute)")
        result = subprocess.run(
            [
                debootstrap,
                "--variant=minbase",
                "--include=python3,python3-pytest",
                "bookworm",
                rootfs,
                _mirror(),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["?"]
            raise SandboxError(f"debootstrap failed: {tail[0]}")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(Path(rootfs) / cache, ignore_errors=True)
        say(f"importing it as {OFFLINE_BASE}")
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "-", OFFLINE_BASE], stdin=tar.stdout, capture_output=True, text=True
        )
        tar.wait()
        if imported.returncode != 0:
            raise SandboxError(f"docker import failed: {imported.stderr.strip()[:200]}")
    return OFFLINE_BASE


def resolve_base(client: Any, base: str | None, say: Say) -> str:
    """The base to build on: as asked when it is here or can be pulled, else the offline base."""
    wanted = base or DEFAULT_BASE
    if _have(client, wanted):
        return wanted
    try:
        say(f"pulling {wanted}")
        client.images.pull(wanted)
        return wanted
    except Exception as exc:
        if base is not None and base != DEFAULT_BASE:
            raise SandboxError(
                f"base image {base} is not here and cannot be pulled: {str(exc)[:120]}"
            ) from None
        say(f"cannot pull {wanted}; using a base made from Debian packages")
        return make_offline_base(client, say)


def build_image(
    client: Any, image: str, *, base: str | None = None, force: bool = False, say: Say = print
) -> str:
    """Build (or confirm) the sandbox image; returns a one-line summary."""
    if not force and image_state(client, image) == "ok":
        return f"{image} is up to date (recipe {recipe_hash()})"
    base_image = resolve_base(client, base, say)
    with tempfile.TemporaryDirectory(prefix="selfeng-build-") as context:
        shutil.copy(DOCKERFILE, Path(context) / "Dockerfile")
        shutil.copy(RUNNER_PATH, Path(context) / "runner.py")
        say(f"building {image} on {base_image}")
        try:
            client.images.build(
                path=context,
                tag=image,
                buildargs={"BASE_IMAGE": base_image},
                labels={RECIPE_LABEL: recipe_hash()},
                rm=True,
                forcerm=True,
                pull=False,
                network_mode="none" if base_image == OFFLINE_BASE else None,
            )
        except Exception as exc:
            raise SandboxError(f"building {image} failed: {str(exc)[:300]}") from None
    return f"{image} built on {base_image} (recipe {recipe_hash()})"
