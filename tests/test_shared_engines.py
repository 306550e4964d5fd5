"""Engines a team runs once and shares, each started for real on this machine and answering a
request end to end: a Chroma server for the index, a second Docker engine on its own socket for
the sandbox (DOCKER_HOST), and an OpenAI-compatible server for the model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.engines_support import chroma_server
from tests.scripted_model import ScriptedModel, program
from tests.test_orchestrator import services_for
from tui_agent.core.config import load_settings
from tui_agent.core.doctor import check_docker
from tui_agent.core.events import ToolCalled

REQUEST = "Could you work out 25 percent of 80 for me?"  # worded like no phrasing the library has
EXE = str(Path(sys.executable).parent / "selfeng-tui")


def script(model: ScriptedModel) -> None:
    """What the request works out to, and the starter percentage_of's arguments for it."""
    model.on("ground", program("answer = 80 * 25 / 100"))
    model.on("args", {"missing": [], "percent": 25, "value": 80})


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[str]:
    with chroma_server(tmp_path / "chroma") as url:
        yield url


async def test_a_request_through_a_chroma_server(chroma: str, model: ScriptedModel) -> None:
    script(model)
    services, seen = await services_for(model, chroma_url=chroma)
    try:
        outcome = await services.orchestrator.handle(REQUEST)
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.tool == "percentage_of" and outcome.value == 20.0
    assert not load_settings().index_dir.exists()  # the index is the server's, nothing embedded here
    import chromadb

    remote = chromadb.HttpClient(host="127.0.0.1", port=int(chroma.rsplit(":", 1)[1]))
    assert remote.list_collections() and sum(c.count() for c in remote.list_collections()) > 0
    assert [e.name for e in seen if isinstance(e, ToolCalled)][-1] == "percentage_of"


@pytest.fixture
def second_docker(tmp_path: Path) -> Iterator[str]:
    """Another Docker engine on its own socket and data root, with the sandbox image loaded."""
    root = Path(f"/tmp/selfeng-d2-{os.getpid()}")  # a unix socket path must stay short
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    host = f"unix://{root}/docker.sock"
    log = (tmp_path / "dockerd.log").open("wb")
    engine = subprocess.Popen(
        [
            "dockerd",
            "--host",
            host,
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "docker.pid"),
            "--bridge",
            "none",
            "--iptables=false",
            "--ip-masq=false",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = docker.DockerClient(base_url=host, timeout=30)  # asks for the API version
                break
            except (docker.errors.DockerException, OSError):  # requests raises OSErrors
                assert time.monotonic() < deadline, (tmp_path / "dockerd.log").read_text()[-2000:]
                time.sleep(0.3)
        image = load_settings().sandbox_image
        local = docker.from_env(timeout=120)
        try:
            client.images.load(local.api.get_image(image))  # saved under its own name
        finally:
            local.close()
        yield host
        client.close()
    finally:
        engine.terminate()
        engine.wait(timeout=60)
        log.close()
        subprocess.run(["umount", "-R", str(root / "exec")], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


async def test_a_request_through_a_docker_engine_on_its_own_socket(
    second_docker: str, model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", second_docker)
    assert check_docker(load_settings()).ok  # doctor looks where DOCKER_HOST says
    script(model)
    services, _ = await services_for(model, sandbox="docker")
    try:
        outcome = await services.orchestrator.handle(REQUEST)
        engine = docker.DockerClient(base_url=second_docker)
        ran_there = engine.containers.list(all=True)
        engine.close()
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.tool == "percentage_of" and outcome.value == 20.0
    assert ran_there, "no sandbox container on the second engine"


def test_a_request_through_an_openai_compatible_server(isolated_env: Path) -> None:
    """`ask` with --llm-base-url talks to whatever server speaks the chat API there."""
    with ScriptedModel() as model:
        script(model)
        done = subprocess.run(
            [EXE, "--llm-base-url", model.base_url, "--llm-model", "served-model", "ask", REQUEST],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        asked = list(model.asked)
        models = {body.get("model") for _step, body in model.bodies}
    assert done.returncode == 0, done.stderr[-500:]
    assert "20" in done.stdout
    assert "ground" in asked and models == {"served-model"}
