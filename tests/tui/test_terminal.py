"""The installed `selfeng-tui` in a real terminal (tmux): type a request, read the answer off
the screen, quit with q."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.scripted_model import ScriptedModel

BIN = Path(sys.executable).parent / "selfeng-tui"


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30, check=False
    ).stdout


def wait_for_screen(socket: str, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux(socket, "capture-pane", "-p", "-t", "app")
        if text in screen:
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared on screen; last screen:\n{screen}")


def test_a_request_typed_in_a_real_terminal_is_answered_on_screen(isolated_env: Path, tmp_path: Path) -> None:
    assert shutil.which("tmux"), "tmux is missing: scripts/setup.sh installs it"
    assert BIN.exists(), f"{BIN} is not installed"
    socket = f"selfeng-test-{secrets.token_hex(3)}"
    with ScriptedModel() as model:
        model.on("args", {"fits": True, "missing": [], "text": "hello"}).on(
            "answer", 'Reversed, "hello" is "olleh".'
        )
        env = {
            "SELFENG_HOME": str(isolated_env),
            "SELFENG_CONFIG": os.environ["SELFENG_CONFIG"],
            "SELFENG_LLM_BASE_URL": model.base_url,
            "SELFENG_LLM_MODEL": "fake-model",
            "SELFENG_SANDBOX_POOL": "1",
            "HF_HUB_OFFLINE": "1",
            "TERM": "xterm-256color",
        }
        command = " ".join(f"{k}={v!s}" for k, v in env.items())
        marker = tmp_path / "exit-code"
        tmux(
            socket,
            "new-session", "-d", "-s", "app", "-x", "100", "-y", "30",
            f"env {command} {BIN}; echo $? > {marker}",
        )  # fmt: skip
        try:
            wait_for_screen(socket, "11 tools", timeout=120)
            tmux(socket, "send-keys", "-t", "app", "-l", "Reverse the string 'hello'")
            tmux(socket, "send-keys", "-t", "app", "Enter")
            screen = wait_for_screen(socket, "olleh", timeout=60)
            assert "Answer:" in screen
            tmux(socket, "send-keys", "-t", "app", "Escape")
            time.sleep(0.5)  # a lone escape, not the start of an alt+q sequence
            tmux(socket, "send-keys", "-t", "app", "q")
            deadline = time.monotonic() + 60
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.3)
            assert marker.exists() and marker.read_text().strip() == "0", (
                "selfeng-tui did not quit cleanly on q"
            )
        finally:
            tmux(socket, "kill-server")


def test_a_closed_terminal_stops_the_app_and_its_containers(isolated_env: Path) -> None:
    """An SSH session that drops sends SIGHUP: the app cleans up and leaves."""
    import docker

    socket = f"selfeng-test-{secrets.token_hex(3)}"
    with ScriptedModel() as model:
        command = (
            f"SELFENG_HOME={isolated_env} SELFENG_CONFIG={os.environ['SELFENG_CONFIG']} "
            f"SELFENG_LLM_BASE_URL={model.base_url} SELFENG_LLM_MODEL=fake-model SELFENG_SANDBOX=docker "
            f"HF_HUB_OFFLINE=1 TERM=xterm-256color {BIN}"
        )
        tmux(socket, "new-session", "-d", "-s", "app", "-x", "100", "-y", "30", f"env {command}")
        try:
            wait_for_screen(socket, "11 tools", timeout=120)
            pid = int(tmux(socket, "display", "-p", "-t", "app", "#{pane_pid}").strip())
        finally:
            tmux(socket, "kill-server")
        client = docker.from_env()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            Path(f"/proc/{pid}").exists()
            or client.containers.list(
                all=True, filters={"label": f"selfeng.owner={os.uname().nodename}:{pid}"}
            )
        ):
            time.sleep(0.3)
        assert not Path(f"/proc/{pid}").exists(), "selfeng-tui outlived its terminal"
        assert not client.containers.list(
            all=True, filters={"label": f"selfeng.owner={os.uname().nodename}:{pid}"}
        )
