"""The generated pages in docs/ are current: regenerate them when this fails.

PYTHONPATH=operator python -m ragkube_operator.docgen > docs/ragdeployment-reference.md
python hack/gen_openapi.py > docs/openapi.json
"""

from __future__ import annotations

import json
from pathlib import Path

import gen_openapi  # hack/ is on pythonpath
from ragkube_operator import docgen
from ragkube_operator.models import RESOURCES

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_ragdeployment_reference_is_current() -> None:
    committed = (DOCS / "ragdeployment-reference.md").read_text()
    assert committed == docgen.reference(), (
        "docs/ragdeployment-reference.md is stale; run "
        "`PYTHONPATH=operator python -m ragkube_operator.docgen > docs/ragdeployment-reference.md`"
    )


def test_reference_names_every_spec_field_of_every_kind() -> None:
    page = docgen.reference()
    for resource in RESOURCES:
        assert f"## {resource.kind}" in page
        for field in resource.spec.model_fields.values():
            assert f"`spec.{field.alias}`" in page


def test_openapi_document_is_current() -> None:
    committed = (DOCS / "openapi.json").read_text()
    assert committed == gen_openapi.openapi_document(), (
        "docs/openapi.json is stale; run `python hack/gen_openapi.py > docs/openapi.json`"
    )


def test_openapi_document_describes_the_public_routes() -> None:
    document = json.loads((DOCS / "openapi.json").read_text())
    assert document["openapi"].startswith("3.")
    for path in ("/query", "/query/stream", "/documents", "/auth/login", "/webhooks", "/ready"):
        assert path in document["paths"]
