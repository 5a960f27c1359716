"""The ``ragkube`` command line.

Every command has `--help`; exit codes are 0 (success), 1 (failure, including a partial
ingestion) and 2 (usage error); `--json` prints one JSON document on standard output.
Client commands talk to a running API (`--url`, default http://127.0.0.1:8000 or
$RAGKUBE_URL) as the API key, token or `ragkube login` session given.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ragkube_cli import demo, token_store
from ragkube_cli.connection import (
    DEFAULT_TIMEOUT,
    DEFAULT_URL,
    ApiKeyOption,
    TimeoutOption,
    TokenOption,
    UrlOption,
    client_for,
)
from ragkube_cli.output import fail, one_line, print_json, reported_errors, terminal_safe

app = typer.Typer(
    name="ragkube",
    help="Kubernetes-native retrieval-augmented generation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo.demo)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@app.command()
def version() -> None:
    """Print the ragkube version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("ragkube"))


# --- serve ---------------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (HOST).", show_default=False)
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (PORT, default 8000).", show_default=False)
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes (WORKERS).", show_default=False),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where embedded Chroma keeps its data (DATA_DIR).", show_default=False),
    ] = None,
) -> None:
    """Run the API server.

    Settings come from the environment (the names in .env.example); these options override
    them. With no cluster and no keys it runs embedded: Chroma on local disk, the bundled
    model, the extractive answerer, and a development admin user whose password is printed
    once.
    """
    from pydantic import ValidationError

    from api.serve import run
    from api.settings import Settings

    overrides: dict[str, Any] = {
        name: value
        for name, value in {
            "host": host,
            "port": port,
            "workers": workers,
            "data_dir": data_dir,
        }.items()
        if value is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        fail(f"invalid settings:\n{exc}", code=2)
    run(settings)


# --- ingest --------------------------------------------------------------------------------------


def _metadata(pairs: list[str]) -> dict[str, str | int | float | bool]:
    metadata: dict[str, str | int | float | bool] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--metadata")
        metadata[key] = value
    return metadata


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Files and folders (folders are searched recursively).")
    ],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    token: TokenOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    metadata: Annotated[
        list[str] | None,
        typer.Option("--metadata", "-m", help="KEY=VALUE stored with every document (repeatable)."),
    ] = None,
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="Write straight into the local store `ragkube serve` uses (no server must "
            "be running on it) instead of calling the API.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Add files and folders to the knowledge base, with a progress bar and a failure summary.

    Exits 1 when any file failed (the others are still ingested).
    """
    from ragkube_cli import ingest as ingestion
    from ragkube_cli.output import err, out

    extra = _metadata(metadata or [])
    files, missing = ingestion.collect_files(paths)
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}", code=2)
    if not files:
        fail(
            "nothing to ingest: no supported files found "
            f"({', '.join(sorted(ingestion.SUPPORTED_SUFFIXES))})"
        )
    show_progress = not json_output and sys.stderr.isatty()
    if local:
        from rag_core import RagError

        try:
            local_ingestor = ingestion.LocalIngestor(extra)
            try:
                outcomes = ingestion.run_with_progress(
                    files, local_ingestor, err(), show_progress=show_progress
                )
            finally:
                local_ingestor.close()
        except RagError as exc:  # the store itself failed, not one file
            fail(
                f"local ingestion failed: {exc}",
                hint="Check CHROMA_HOST / CHROMA_PORT, or unset them for the embedded store.",
            )
    else:
        with (
            client_for(url, api_key, token, timeout) as client,
            reported_errors(url, [api_key, token]),
        ):
            outcomes = ingestion.run_with_progress(
                files,
                ingestion.api_ingestor(client, extra),
                err(),
                show_progress=show_progress,
            )
    failed = [o for o in outcomes if not o.ok]
    if json_output:
        print_json(
            {
                "ingested": len(outcomes) - len(failed),
                "failed": len(failed),
                "chunks": sum(o.chunks for o in outcomes),
                "files": [o.as_json() for o in outcomes],
            }
        )
    else:
        console = out()
        console.print(
            f"Ingested {len(outcomes) - len(failed)} of {len(outcomes)} files "
            f"({sum(o.chunks for o in outcomes)} chunks)."
        )
        if failed:
            console.print(f"[bold red]{len(failed)} failed:[/]")
            for outcome in failed:
                console.print(
                    f"  [red]✗[/] {escape(outcome.display_path)}: "
                    f"{escape(one_line(outcome.error or 'failed'))}",
                    highlight=False,
                )
    if failed:
        raise typer.Exit(1)


# --- query ---------------------------------------------------------------------------------------


@app.command()
def query(
    question: Annotated[str, typer.Argument(help="The question.")],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    token: TokenOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    max_results: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=20,
            help="Sources to return; the deployment's RETRIEVAL_TOP_K when absent.",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(help="Retrieval mode: hybrid, dense or lexical.", show_default=False),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Minimum source similarity.", show_default=False),
    ] = None,
    stream: Annotated[bool, typer.Option(help="Print the answer as it is written.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Ask a question; prints the answer and its numbered sources."""
    from ragkube_cli.answer_view import answer_view, sources_view
    from ragkube_cli.output import out
    from ragkube_client.models import FinalEvent, Source, SourcesEvent, TokenEvent

    if mode is not None and mode not in ("hybrid", "dense", "lexical"):
        raise typer.BadParameter("choose hybrid, dense or lexical", param_hint="--mode")
    options: dict[str, Any] = {"max_results": max_results, "threshold": threshold, "mode": mode}
    console = out()
    with (
        client_for(url, api_key, token, timeout) as client,
        reported_errors(url, [api_key, token]),
    ):
        if not stream or json_output:
            response = client.query(question, **options)
            if json_output:
                print_json(response.model_dump(mode="json"))
                return
            console.print(
                answer_view(
                    response.answer,
                    response.sources,
                    response.confidence,
                    response.guardrails_triggered,
                )
            )
            return
        sources: list[Source] = []
        final: FinalEvent | None = None
        for event in client.query_stream(question, **options):
            if isinstance(event, SourcesEvent):
                sources = event.sources
            elif isinstance(event, TokenEvent):
                console.print(terminal_safe(event.text), end="", markup=False, highlight=False)
            elif isinstance(event, FinalEvent):
                final = event
        console.print()
        if final is not None:
            console.print(f"[dim]confidence {final.confidence:.2f}[/]")
        console.print(sources_view(sources))


# --- login / token -------------------------------------------------------------------------------


@app.command()
def login(
    username: Annotated[str, typer.Option(prompt=True, help="User name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            envvar="RAGKUBE_PASSWORD",
            help="Password (prompted for when absent; or $RAGKUBE_PASSWORD).",
        ),
    ],
    url: UrlOption = DEFAULT_URL,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="Ask for only these scopes (repeatable).", show_default=False),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Log in with a username and password; the token is saved for later commands."""
    with (
        client_for(url, None, None, timeout, use_saved_token=False) as client,
        reported_errors(url, [password]),
    ):
        issued = client.login(username, password, scopes=scope)
    stored = token_store.save(url, issued.access_token, issued.expires_in, issued.scopes)
    if json_output:
        print_json(
            {
                "url": stored.url,
                "scopes": list(stored.scopes),
                "expires_at": stored.expires_at,
                "credentials_file": str(token_store.credentials_path()),
            }
        )
        return
    typer.echo(
        f"Logged in to {stored.url} as {username} (scopes: {', '.join(stored.scopes)}); "
        f"the token is valid for {issued.expires_in // 60} minutes."
    )


@app.command()
def token(
    url: UrlOption = DEFAULT_URL,
    json_output: JsonOption = False,
) -> None:
    """Print the token `ragkube login` saved for the URL (e.g. for curl's Authorization header).

    Exits 1 when there is none or it has expired.
    """
    stored = token_store.load(url)
    if stored is None:
        fail(f"no valid token for {url.rstrip('/')}", hint="Run `ragkube login` first.")
    if json_output:
        print_json(
            {
                "url": stored.url,
                "access_token": stored.access_token,
                "expires_at": stored.expires_at,
                "scopes": list(stored.scopes),
            }
        )
        return
    typer.echo(stored.access_token)


# --- eval ----------------------------------------------------------------------------------------


@app.command("eval")
def evaluate(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset",
            exists=True,
            file_okay=False,
            help="A BEIR-format folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.",
        ),
    ],
    mode: Annotated[
        list[str] | None,
        typer.Option(
            "--mode", help="dense, lexical, hybrid or rrf (repeatable; default: the first three)."
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="Which qrels split to score.")] = "test",
    max_queries: Annotated[
        int | None, typer.Option(min=1, help="Score only the first N queries.", show_default=False)
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Measure retrieval quality on a BEIR dataset (nDCG@10, Recall@100, latency) with rag_core.

    The corpus is ingested into a temporary embedded collection; nothing else is touched.
    """
    from ragkube_cli import evaluation

    modes = mode or ["dense", "lexical", "hybrid"]
    unknown = sorted(set(modes) - {"dense", "lexical", "hybrid", "rrf"})
    if unknown:
        raise typer.BadParameter(f"unknown modes {unknown}", param_hint="--mode")
    report = evaluation.run(dataset, modes, split, max_queries, quiet=json_output)
    if json_output:
        print_json(evaluation.as_json(report))
        return
    evaluation.show(report)


# --- operator ------------------------------------------------------------------------------------


@app.command()
def operator(
    kubeconfig: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            envvar="KUBECONFIG",
            help="Cluster to manage.",
            show_default=False,
        ),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace", "-n", help="Watch one namespace (default: all).", show_default=False
        ),
    ] = None,
) -> None:
    """Run the operator in this process against a cluster (standalone; Ctrl-C stops it)."""
    from ragkube_operator.run_local import run_operator

    run_operator(kubeconfig, namespace)


if __name__ == "__main__":
    app()
