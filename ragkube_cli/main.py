"""The ``ragkube`` command line."""

from __future__ import annotations

import typer

from ragkube_cli import demo

app = typer.Typer(
    name="ragkube",
    help="Kubernetes-native retrieval-augmented generation.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("demo")(demo.demo)


@app.command()
def version() -> None:
    """Print the ragkube version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("ragkube"))


if __name__ == "__main__":
    app()
