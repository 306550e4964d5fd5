"""The set-up command is idempotent and explains what it skips when it is not root."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SETUP = REPO / "scripts" / "setup.sh"


def test_second_run_only_checks_and_is_fast() -> None:
    started = time.monotonic()
    result = subprocess.run([str(SETUP)], capture_output=True, text=True, timeout=600, cwd=REPO)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "virtual environment up to date" in result.stdout
    assert "installing" not in result.stdout
    assert elapsed < 60


@pytest.mark.skipif(os.geteuid() != 0, reason="simulating a non-root user needs root to start from")
def test_non_root_run_names_each_skipped_root_step() -> None:
    # An unprivileged user namespace: id -u is not 0 and no root capability is held.
    env = {
        **os.environ,
        "SELFENG_SETUP_APT_PACKAGES": "tmux selfeng-no-such-package",
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",
    }
    result = subprocess.run(
        [shutil.which("unshare") or "unshare", "--user", str(SETUP)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert (
        "SKIPPED (needs root) Debian packages selfeng-no-such-package: run 'sudo apt-get install selfeng-no-such-package'"
        in out
    )
    assert "SKIPPED (needs root) Docker engine: run 'sudo dockerd &'" in out
