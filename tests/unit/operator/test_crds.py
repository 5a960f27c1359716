"""The CRD files are exactly what the models generate, and the chart ships the same files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ragkube_operator.crdgen import crd_file_name, dump, render_crd, spec_schema
from ragkube_operator.models import RESOURCES, RagDeploymentSpec, Resource, WebhookSpec

ROOT = Path(__file__).resolve().parents[3]
CRD_DIRS = [ROOT / "crds", ROOT / "charts" / "ragkube" / "crds"]


@pytest.mark.parametrize("directory", CRD_DIRS, ids=["crds", "chart"])
@pytest.mark.parametrize("resource", RESOURCES, ids=[r.kind for r in RESOURCES])
def test_crd_file_matches_the_model(directory: Path, resource: Resource) -> None:
    path = directory / crd_file_name(resource)
    assert path.read_text() == dump(render_crd(resource)), (
        f"{path} drifted from ragkube_operator.models; regenerate with "
        "`python -m ragkube_operator.crdgen --write crds charts/ragkube/crds`"
    )


def test_chart_ships_the_same_crd_files_as_the_top_level_directory() -> None:
    top = {p.name: p.read_bytes() for p in (ROOT / "crds").glob("*.yaml")}
    chart = {p.name: p.read_bytes() for p in (ROOT / "charts/ragkube/crds").glob("*.yaml")}
    assert top == chart


def _walk(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    nodes = [(path, schema)]
    for name, child in (schema.get("properties") or {}).items():
        nodes.extend(_walk(child, f"{path}.{name}"))
    if isinstance(schema.get("items"), dict):
        nodes.extend(_walk(schema["items"], f"{path}[]"))
    if isinstance(schema.get("additionalProperties"), dict):
        nodes.extend(_walk(schema["additionalProperties"], f"{path}{{}}"))
    return nodes


@pytest.mark.parametrize("model", [RagDeploymentSpec, WebhookSpec])
def test_schema_is_structural(model: type[RagDeploymentSpec] | type[WebhookSpec]) -> None:
    for path, node in _walk(spec_schema(model)):
        assert not {"$ref", "anyOf", "title"} & set(node), path
        assert node.get("additionalProperties") is not False, path
        assert "type" in node or node.get("x-kubernetes-int-or-string"), path


def test_crd_defaults_equal_the_model_defaults() -> None:
    """What the API server fills in for `spec: {}` is what the operator would assume."""
    schema = spec_schema(RagDeploymentSpec)

    def apply_defaults(node: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
        out = dict(value)
        for name, child in (node.get("properties") or {}).items():
            if name not in out and "default" in child:
                out[name] = child["default"]
            if name in out and isinstance(out[name], dict) and "properties" in child:
                out[name] = apply_defaults(child, out[name])
        return out

    defaulted = apply_defaults(schema, {})
    expected = RagDeploymentSpec().model_dump(by_alias=True, exclude_none=True, mode="json")
    assert defaulted == expected
    assert RagDeploymentSpec.model_validate(defaulted) == RagDeploymentSpec()


def test_rag_deployment_crd_has_printer_columns_short_names_and_status() -> None:
    crd = yaml.safe_load((ROOT / "crds" / "ragkube.dev_ragdeployments.yaml").read_text())
    version = crd["spec"]["versions"][0]
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Ready",
        "Phase",
        "Replicas",
        "Endpoint",
        "URL",
        "Age",
    ]
    assert version["subresources"] == {"status": {}}
    assert "rd" in crd["spec"]["names"]["shortNames"]
    assert crd["spec"]["names"]["categories"] == ["ragkube"]
