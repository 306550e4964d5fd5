"""What every sub-command shares: the setting flags and ``--json`` (added by one helper), the
settings they make, one-line errors and the exit codes."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tui_agent.core.config import ConfigError, Settings, load_settings

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_QUESTION = 3

# Flags that override a setting directly (highest precedence); `--set KEY=VALUE` covers the rest.
SETTING_FLAGS: dict[str, tuple[str, str]] = {
    "--home": ("home", "data directory (tools, index, journal)"),
    "--llm-base-url": ("llm_base_url", "OpenAI-compatible endpoint; unset = local model"),
    "--llm-model": ("llm_model", "model name at the endpoint"),
    "--chroma-url": ("chroma_url", "Chroma server URL; unset = embedded index"),
    "--embedding-model": ("embedding_model", "sentence-transformers name or path"),
    "--candidate-threshold": (
        "candidate_threshold",
        "verified tools scoring at least this are held against a request",
    ),
    "--sandbox": ("sandbox", "auto | docker | bwrap"),
    "--repair-attempts": ("repair_attempts", "implementation repairs before giving up"),
}


class CLIError(Exception):
    """A user-facing failure: printed as one line, exit code 1."""


def add_common(parser: argparse.ArgumentParser, *, top: bool = False) -> argparse.ArgumentParser:
    """``--json`` (sub-commands) and the setting flags. Setting flags work before and after the
    sub-command; a sub-command's copy uses SUPPRESS so an absent flag does not hide one given
    at the top level."""
    if not top:
        parser.add_argument("--json", action="store_true", help="machine-readable output")
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
    return parser


def overrides(args: argparse.Namespace) -> dict[str, Any]:
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
    return load_settings(**overrides(args))


def emit(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str) if as_json else text)
