"""`ragkube ingest`, `query`, `login` and `token` through their entry point, against a live API."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ragkube_cli.main import app
from ragkube_client import RagkubeClient
from tests.integration.sdk.live_api import LiveApi


def flat(text: str) -> str:
    """Terminal output without box-drawing borders and line wrapping."""
    return " ".join(text.replace("│", " ").split())


def corpus_with_one_corrupt_file(root: Path) -> Path:
    folder = root / "handbook"
    (folder / "ops").mkdir(parents=True)
    (folder / "ops" / "backups.md").write_text(
        "# Backups\n\nSnapshot the Chroma volume nightly and keep seven copies."
    )
    (folder / "oncall.txt").write_text("The on-call engineer answers pages within 15 minutes.")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n\x00\x01 this is not really a PDF \xff\xfe")
    (folder / "diagram.png").write_bytes(b"\x89PNG not ingested")
    return folder


def test_ingest_reports_the_corrupt_file_and_ingests_the_rest(
    live: LiveApi, runner: CliRunner, tmp_path: Path
) -> None:
    folder = corpus_with_one_corrupt_file(tmp_path)
    result = runner.invoke(
        app, ["ingest", str(folder), "--url", live.url, "--api-key", live.api_key, "-m", "team=sre"]
    )
    assert result.exit_code == 1, result.output
    assert "Ingested 2 of 3 files" in result.stdout
    assert "1 failed" in result.stdout
    assert "broken.pdf" in result.stdout
    with RagkubeClient(live.url, api_key=live.api_key) as client:
        page = client.list_documents(limit=200)
        sources = {d.source: d for d in page.items}
        assert {"backups.md", "oncall.txt"} <= set(sources)
        assert "broken.pdf" not in sources
        assert sources["backups.md"].metadata["team"] == "sre"
        answer = client.query("How often is the Chroma volume snapshotted?", max_results=1)
    assert answer.sources[0].metadata["source"] == "backups.md"


def test_ingest_json_lists_every_file_with_its_outcome(
    live: LiveApi, runner: CliRunner, tmp_path: Path
) -> None:
    folder = corpus_with_one_corrupt_file(tmp_path)
    result = runner.invoke(
        app, ["ingest", str(folder), "--json", "--url", live.url, "--api-key", live.api_key]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ingested"], report["failed"]) == (2, 1)
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert by_name["broken.pdf"]["ok"] is False
    assert by_name["broken.pdf"]["error"]
    assert by_name["oncall.txt"]["ok"] is True
    assert by_name["oncall.txt"]["chunks"] >= 1


def test_ingest_of_good_files_exits_0(live: LiveApi, runner: CliRunner, tmp_path: Path) -> None:
    note = tmp_path / "gossip.md"
    note.write_text("# Gossip\n\nGossip protocols spread state between peers epidemically.")
    result = runner.invoke(app, ["ingest", str(note), "--url", live.url, "--api-key", live.api_key])
    assert result.exit_code == 0, result.output
    assert "Ingested 1 of 1 files" in result.stdout


def test_query_prints_the_answer_and_numbered_sources(live: LiveApi, runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        ["query", "What does a Deployment do?", "--url", live.url, "--api-key", live.api_key],
    )
    assert result.exit_code == 0, result.output
    assert "Answer" in result.stdout
    assert "replaces pods that fail" in flat(result.stdout)
    assert "[1] Kubernetes — kubernetes.md" in result.stdout


def test_query_json_is_the_api_response(live: LiveApi, runner: CliRunner) -> None:
    args = ["query", "What is BM25?", "--json", "--max-results", "1"]
    result = runner.invoke(app, [*args, "--url", live.url, "--api-key", live.api_key])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["sources"][0]["metadata"]["source"] == "bm25.md"
    assert body["request_id"]


def test_query_stream_prints_tokens_then_sources(live: LiveApi, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["query", "What is Chroma?", "--stream", "--url", live.url, "--api-key", live.api_key]
    )
    assert result.exit_code == 0, result.output
    output = flat(result.stdout)
    assert "vector database" in output
    assert output.index("vector database") < output.index("[1]")


def test_login_saves_a_token_that_later_commands_use(live: LiveApi, runner: CliRunner) -> None:
    login = runner.invoke(
        app,
        ["login", "--url", live.url, "--username", live.username],
        input=f"{live.password}\n",
    )
    assert login.exit_code == 0, login.output
    assert f"as {live.username}" in login.stdout
    token = runner.invoke(app, ["token", "--url", live.url])
    assert token.exit_code == 0
    assert token.stdout.strip().count(".") == 2
    query = runner.invoke(app, ["query", "What is Chroma?", "--url", live.url, "--json"])
    assert query.exit_code == 0, query.output


def test_a_wrong_password_exits_1_with_the_request_id(live: LiveApi, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["login", "--url", live.url, "--username", live.username, "--password", "nope"]
    )
    assert result.exit_code == 1
    assert "request id" in result.stderr
    assert runner.invoke(app, ["token", "--url", live.url]).exit_code == 1


def test_an_unauthenticated_query_exits_1_with_a_hint(live: LiveApi, runner: CliRunner) -> None:
    result = runner.invoke(app, ["query", "What is Chroma?", "--url", live.url])
    assert result.exit_code == 1
    assert "ragkube login" in result.stderr


def test_an_unreachable_api_exits_1_with_a_hint(runner: CliRunner) -> None:
    result = runner.invoke(app, ["query", "What is Chroma?", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the ragkube API" in result.stderr
    assert "ragkube serve" in result.stderr
