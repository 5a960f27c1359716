"""The command line's surface: help for every command, usage errors, the token store."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragkube_cli import token_store
from ragkube_cli.ingest import collect_files
from ragkube_cli.main import app

COMMANDS = ["serve", "ingest", "query", "login", "token", "eval", "operator", "demo", "version"]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("RAGKUBE_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("RAGKUBE_URL", "RAGKUBE_API_KEY", "RAGKUBE_TOKEN", "RAGKUBE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(runner: CliRunner, command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: ragkube" in result.output


def test_without_arguments_the_cli_lists_its_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, [])
    assert result.exit_code in (0, 2)
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-command"],
        ["query"],
        ["query", "a question", "--max-results", "0"],
        ["query", "a question", "--mode", "fuzzy"],
        ["ingest"],
        ["ingest", "/no/such/path"],
        ["ingest", ".", "--metadata", "novalue"],
        ["eval"],
        ["serve", "--workers", "0"],
    ],
)
def test_usage_errors_exit_with_2(runner: CliRunner, args: list[str]) -> None:
    assert runner.invoke(app, args).exit_code == 2


def test_token_without_a_login_fails_with_1(runner: CliRunner) -> None:
    result = runner.invoke(app, ["token", "--url", "http://127.0.0.1:1"])
    assert result.exit_code == 1
    assert "ragkube login" in result.stderr


def test_a_saved_token_is_printed_for_its_url_only(runner: CliRunner) -> None:
    token_store.save("http://api.example:8000/", "abc.def.ghi", 600, ["query"])
    result = runner.invoke(app, ["token", "--url", "http://api.example:8000"])
    assert (result.exit_code, result.stdout.strip()) == (0, "abc.def.ghi")
    as_json = runner.invoke(app, ["token", "--url", "http://api.example:8000", "--json"])
    assert json.loads(as_json.stdout)["scopes"] == ["query"]
    assert runner.invoke(app, ["token", "--url", "http://other:8000"]).exit_code == 1


def test_the_token_file_is_private_and_expired_tokens_are_ignored(runner: CliRunner) -> None:
    token_store.save("http://api.example:8000", "abc.def.ghi", 600, [])
    mode = stat.S_IMODE(os.stat(token_store.credentials_path()).st_mode)
    assert mode == 0o600
    assert token_store.load("http://api.example:8000") is not None
    later = token_store.load("http://api.example:8000", now=10**12)
    assert later is None


def test_folders_are_searched_for_supported_files_only(tmp_path: Path) -> None:
    (tmp_path / "docs" / "nested").mkdir(parents=True)
    (tmp_path / "docs" / ".git").mkdir()
    for name in ["a.md", "nested/b.txt", "nested/c.pdf", "image.png", ".hidden.md", ".git/x.md"]:
        (tmp_path / "docs" / name).write_text("x")
    explicit = tmp_path / "notes.rst"
    explicit.write_text("x")
    files, missing = collect_files([tmp_path / "docs", explicit, tmp_path / "missing"])
    relative = sorted(str(p.relative_to(tmp_path)) for p in files)
    assert relative == ["docs/a.md", "docs/nested/b.txt", "docs/nested/c.pdf", "notes.rst"]
    assert missing == [str(tmp_path / "missing")]
