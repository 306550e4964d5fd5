from __future__ import annotations

from pathlib import Path

import pytest

from tui_agent.cli import main
from tui_agent.core.config import ConfigError, load_settings


def test_defaults_when_nothing_is_set(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.home == isolated_env
    assert settings.sandbox == "auto"
    assert settings.llm_base_url is None  # the embedded local model
    assert settings.repair_attempts == 3
    assert settings.tools_dir == isolated_env / "tools"


def test_config_file_overrides_defaults(config_file: Path) -> None:
    config_file.write_text('sandbox = "bwrap"\nsimilarity_threshold = 0.7\n')
    settings = load_settings()
    assert settings.sandbox == "bwrap"
    assert settings.similarity_threshold == 0.7


def test_environment_overrides_config_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.write_text('sandbox = "bwrap"\nrepair_attempts = 5\n')
    monkeypatch.setenv("SELFENG_SANDBOX", "docker")
    settings = load_settings()
    assert settings.sandbox == "docker"
    assert settings.repair_attempts == 5  # untouched by the environment


def test_cli_flag_overrides_environment(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text('sandbox = "bwrap"\n')
    monkeypatch.setenv("SELFENG_SANDBOX", "docker")
    monkeypatch.setenv("SELFENG_REPAIR_ATTEMPTS", "4")
    assert main(["config", "--json", "--sandbox", "auto", "--set", "repair_attempts=1"]) == 0
    out = capsys.readouterr().out
    assert '"sandbox": "auto"' in out
    assert '"repair_attempts": 1' in out


def test_flags_before_the_subcommand_also_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sandbox", "bwrap", "config", "--json"]) == 0
    assert '"sandbox": "bwrap"' in capsys.readouterr().out


def test_openai_variables_are_honoured_but_ours_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    settings = load_settings()
    assert settings.llm_api_key is not None and settings.llm_api_key.get_secret_value() == "sk-openai"
    assert settings.llm_base_url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("SELFENG_LLM_API_KEY", "sk-ours")
    assert load_settings().llm_api_key.get_secret_value() == "sk-ours"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("where", "name", "value", "allowed"),
    [
        ("env", "SANDBOX", "podman", "'auto', 'docker' or 'bwrap'"),
        ("env", "SIMILARITY_THRESHOLD", "2.5", "less than or equal to 2"),
        ("env", "REPAIR_ATTEMPTS", "many", "valid integer"),
        ("env", "LLM_BASE_URL", "localhost:8080", "http:// or https://"),
        ("toml", "sandbox_timeout", "-1", "greater than 0"),
    ],
)
def test_bad_value_is_one_line_naming_setting_and_allowed(
    where: str, name: str, value: str, allowed: str, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if where == "env":
        monkeypatch.setenv(f"SELFENG_{name}", value)
    else:
        config_file.write_text(f"{name} = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert name.lower() in message.lower()
    assert allowed in message


def test_bad_value_stops_start_up_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SELFENG_SANDBOX", "podman")
    assert main(["doctor"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("selfeng-tui: invalid setting") and "sandbox" in err


def test_unknown_key_and_broken_toml_are_named(config_file: Path) -> None:
    config_file.write_text("sandbox_typo = 1\n")
    with pytest.raises(ConfigError, match="sandbox_typo: unknown setting"):
        load_settings()
    config_file.write_text("sandbox = \n")
    with pytest.raises(ConfigError, match=r"config\.toml"):
        load_settings()


def test_malformed_set_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--set", "novalue"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
