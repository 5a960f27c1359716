"""`ragkube eval`: rag_core's BEIR evaluation, printed as a table or JSON."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from pathlib import Path
from typing import Any

from rich.table import Table

from ragkube_cli.output import fail, out


def _as_dict(report: Any) -> dict[str, Any]:
    if isinstance(report, dict):
        return report
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return dataclasses.asdict(report)
    dump = getattr(report, "model_dump", None)
    if callable(dump):
        result: dict[str, Any] = dump(mode="json")
        return result
    return {"result": report}


def run(dataset: Path, split: str) -> dict[str, Any]:
    """Evaluate retrieval on the BEIR folder `dataset` with rag_core; the metrics as a dict."""
    try:
        evaluation = importlib.import_module("rag_core.evaluation")
    except ImportError:
        fail("this build of rag_core has no evaluation module (rag_core.evaluation)")
    run_beir_eval = evaluation.run_beir_eval
    parameters = inspect.signature(run_beir_eval).parameters
    kwargs: dict[str, Any] = {"split": split} if "split" in parameters else {}
    try:
        report = run_beir_eval(dataset, **kwargs)
    except (FileNotFoundError, ValueError) as exc:
        fail(f"cannot evaluate {dataset}: {exc}")
    return _as_dict(report)


def show(report: dict[str, Any]) -> None:
    """The report's numbers as a table (nested sections flattened with dots)."""
    table = Table(title="Retrieval evaluation", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")

    def add(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                add(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, float):
            table.add_row(prefix, f"{value:.4f}")
        elif isinstance(value, int | str | bool):
            table.add_row(prefix, str(value))

    add("", report)
    out().print(table)
