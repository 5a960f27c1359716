"""`ragkube` against a server that answers badly, and bad input: one line, non-zero, no secret.

The CLI must never print a traceback, never hang past `--timeout`, and never show an API
key, token or password, whatever the server sends back.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragkube_cli.main import app
from tests.integration.sdk.misbehaving_server import (
    event_stream,
    http_response,
    misbehaving_server,
    send,
    silence,
)

API_KEY = "rk_cli-secret-key-0123456789"
INGESTED = (
    b'{"request_id":"r","ingested":1,"failed":0,'
    b'"results":[{"document_id":"d1","source":"s","ok":true,"chunks":1}]}'
)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_one_clean_error(result: object, code: int = 1) -> str:
    """The invocation exited `code` with exactly one `error:` line and no traceback."""
    exit_code = result.exit_code  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    exception = result.exception  # type: ignore[attr-defined]
    assert exit_code == code, stderr
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert "Traceback" not in stderr
    assert len(error_lines(stderr)) == 1, stderr
    assert API_KEY not in stderr + result.stdout  # type: ignore[attr-defined]
    return error_lines(stderr)[0]


def test_a_server_message_with_square_brackets_is_printed_not_parsed_as_markup(
    runner: CliRunner,
) -> None:
    body = b'{"error":"bad_request","message":"field [/] is [bold]wrong","request_id":"rq-1"}'
    with misbehaving_server(send(http_response("400 Bad Request", body))) as server:
        result = runner.invoke(app, ["query", "q", "--url", server.url, "--api-key", API_KEY])
    line = assert_one_clean_error(result)
    assert "field [/] is [bold]wrong (request id rq-1)" in line


def test_a_proxys_html_page_is_reported_in_one_line(runner: CliRunner) -> None:
    page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body></html>"
    response = http_response("502 Bad Gateway", page, content_type="text/html")
    with misbehaving_server(send(response)) as server:
        result = runner.invoke(app, ["query", "q", "--url", server.url, "--api-key", API_KEY])
    assert assert_one_clean_error(result) == "error: 502 Bad Gateway"


def test_a_200_that_is_not_an_answer_is_an_error_not_a_traceback(runner: CliRunner) -> None:
    with misbehaving_server(send(http_response("200 OK", b'{"hello": "world"}'))) as server:
        result = runner.invoke(app, ["query", "q", "--url", server.url, "--api-key", API_KEY])
    assert "not a valid QueryResponse" in assert_one_clean_error(result)


def test_a_server_echoing_the_api_key_does_not_get_it_printed(runner: CliRunner) -> None:
    body = f'{{"error":"unauthorized","message":"unknown key {API_KEY}"}}'.encode()
    with misbehaving_server(send(http_response("401 Unauthorized", body))) as server:
        result = runner.invoke(app, ["query", "q", "--url", server.url, "--api-key", API_KEY])
    assert "unknown key ***" in assert_one_clean_error(result)


def test_a_server_that_never_answers_fails_after_the_timeout(runner: CliRunner) -> None:
    with misbehaving_server(silence(10)) as server:
        result = runner.invoke(
            app, ["query", "q", "--url", server.url, "--api-key", API_KEY, "--timeout", "0.5"]
        )
    assert "did not answer within 0.5 s" in assert_one_clean_error(result)
    assert "--timeout" in result.stderr


def test_a_stream_cut_before_its_end_exits_1(runner: CliRunner) -> None:
    events = ['event: sources\ndata: {"sources":[]}\n\n', 'event: token\ndata: {"text":"Hal"}\n\n']
    with misbehaving_server(event_stream(events)) as server:
        result = runner.invoke(
            app, ["query", "q", "--stream", "--url", server.url, "--api-key", API_KEY]
        )
    assert "before its final event" in assert_one_clean_error(result)


def test_terminal_control_sequences_from_the_server_are_not_printed(runner: CliRunner) -> None:
    events = [
        'event: sources\ndata: {"sources":[]}\n\n',
        'event: token\ndata: {"text":"safe\\u001b]0;retitled\\u0007 text"}\n\n',
        'event: final\ndata: {"confidence":0.5}\n\n',
    ]
    with misbehaving_server(event_stream(events)) as server:
        result = runner.invoke(
            app, ["query", "q", "--stream", "--url", server.url, "--api-key", API_KEY]
        )
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert "safe]0;retitled text" in result.stdout


@pytest.mark.parametrize("url", ["localhost:8000", "127.0.0.1:8000", "http://[::1"])
def test_a_url_without_a_scheme_is_a_usage_error(runner: CliRunner, url: str) -> None:
    result = runner.invoke(app, ["query", "q", "--url", url, "--api-key", API_KEY])
    assert "base URL" in assert_one_clean_error(result, code=2)


def test_an_api_key_with_a_space_is_a_usage_error_that_does_not_print_it(
    runner: CliRunner,
) -> None:
    result = runner.invoke(
        app, ["query", "q", "--url", "http://127.0.0.1:9", "--api-key", "rk_cli secret"]
    )
    line = assert_one_clean_error(result, code=2)
    assert "rk_cli" not in line


def test_a_password_in_the_url_is_not_printed(runner: CliRunner) -> None:
    with misbehaving_server(send(b"")) as server:
        port = server.url.rsplit(":", 1)[1]
    result = runner.invoke(
        app,
        ["query", "q", "--url", f"http://admin:hunter2@127.0.0.1:{port}", "--api-key", API_KEY],
    )
    line = assert_one_clean_error(result)
    assert "hunter2" not in result.stderr
    assert "cannot reach the ragkube API" in line


def test_files_with_undecodable_or_markup_names_are_ingested_and_listed(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "[bold]notes.md").write_text("notes")
    with open(os.fsencode(folder) + b"/caf\xe9.md", "wb") as handle:  # Latin-1 file name
        handle.write(b"caf\xe9 au lait")
    with misbehaving_server(send(http_response("200 OK", INGESTED))) as server:
        result = runner.invoke(
            app, ["ingest", str(folder), "--url", server.url, "--api-key", API_KEY, "--json"]
        )
    assert result.exit_code == 0, result.stderr
    assert '"ingested": 2' in result.stdout
    assert "caf\\\\xe9.md" in result.stdout  # the undecodable byte, shown escaped in JSON
    assert server.hits == 2


def test_a_failed_file_whose_error_has_brackets_is_listed_as_text(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "a.md").write_text("x")
    rejected = (
        b'{"request_id":"r","ingested":0,"failed":1,'
        b'"results":[{"document_id":null,"source":"a.md","ok":false,"chunks":0,'
        b'"error":"bad [/] content"}]}'
    )
    with misbehaving_server(send(http_response("200 OK", rejected))) as server:
        result = runner.invoke(
            app, ["ingest", str(tmp_path / "a.md"), "--url", server.url, "--api-key", API_KEY]
        )
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "bad [/] content" in " ".join(result.stdout.split())  # rich wraps at 80 columns
