"""Find the source checkout, whose ``hack/`` tooling the local demo uses."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def repo_root() -> Path:
    """The checkout this package was installed from (editable installs only)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "hack" / "localcluster.py").exists():
        typer.echo(
            "error: this command needs a source checkout of ragkube (hack/ is missing); "
            "run it from a clone with `pip install -e .`",
            err=True,
        )
        raise typer.Exit(2)
    return root


def import_localcluster() -> object:
    """Import ``hack/localcluster.py`` from the checkout."""
    hack = str(repo_root() / "hack")
    if hack not in sys.path:
        sys.path.insert(0, hack)
    import localcluster

    return localcluster
