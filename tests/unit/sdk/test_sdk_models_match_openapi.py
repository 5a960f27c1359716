"""The SDK's models describe exactly the bodies the API documents in its OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from api.app import create_app
from api.settings import Settings
from ragkube_client import models

#: SDK model -> the API's schema component of the same body.
COUNTERPARTS: dict[type[BaseModel], str] = {
    models.Source: "SourceOut",
    models.QueryResponse: "QueryResponse",
    models.DocumentIn: "DocumentIn",
    models.IngestResult: "IngestResultOut",
    models.IngestResponse: "IngestResponse",
    models.Document: "DocumentOut",
    models.DocumentDetail: "DocumentDetail",
    models.DocumentOriginal: "DocumentOriginalOut",
    models.DocumentPage: "DocumentPage",
    models.Token: "TokenResponse",
    models.Webhook: "WebhookOut",
    models.WebhookCreated: "WebhookCreated",
    models.Health: "HealthResponse",
    models.Readiness: "ReadyResponse",
    models.Stats: "StatsResponse",
    models.IndexIdentity: "IndexIdentityOut",
}
API_TO_SDK = {api: sdk.__name__ for sdk, api in COUNTERPARTS.items()}


def shape(schema: dict[str, Any], rename: dict[str, str]) -> Any:
    """What a property schema says about the data (types, nesting), without prose."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return ("ref", rename.get(name, name))
    if "anyOf" in schema:
        return ("anyOf", tuple(sorted((shape(s, rename) for s in schema["anyOf"]), key=repr)))
    if "enum" in schema or "const" in schema:
        return ("enum", tuple(sorted(schema.get("enum", [schema.get("const")]))))
    kind = schema.get("type")
    if kind == "array":
        return ("array", shape(schema.get("items", {}), rename))
    if kind == "object":
        extra = schema.get("additionalProperties")
        return ("object", shape(extra, rename) if isinstance(extra, dict) else None)
    return (kind, schema.get("format"))


def describe(schema: dict[str, Any], rename: dict[str, str]) -> dict[str, Any]:
    return {
        "required": sorted(schema.get("required", [])),
        "properties": {
            name: shape(prop, rename) for name, prop in schema.get("properties", {}).items()
        },
    }


@pytest.fixture(scope="module")
def api_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = create_app(Settings()).openapi()["components"]["schemas"]
    return schemas


@pytest.mark.parametrize("sdk_model", list(COUNTERPARTS), ids=lambda m: m.__name__)
def test_sdk_model_matches_the_api_schema(
    sdk_model: type[BaseModel], api_schemas: dict[str, Any]
) -> None:
    api_schema = api_schemas[COUNTERPARTS[sdk_model]]
    mode = "validation" if sdk_model is models.DocumentIn else "serialization"
    sdk_schema = sdk_model.model_json_schema(mode=mode)
    assert describe(sdk_schema, {}) == describe(api_schema, API_TO_SDK)
