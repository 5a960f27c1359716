"""Generate the CustomResourceDefinitions from the spec models in `models`.

    python -m ragkube_operator.crdgen                 # print both CRDs as YAML documents
    python -m ragkube_operator.crdgen --write crds charts/ragkube/crds

Pydantic's JSON schema is turned into a *structural* OpenAPI v3 schema as the API server
wants it: `$ref`s inlined, optional fields unwrapped from `anyOf [..., null]`, int-or-string
quantities marked `x-kubernetes-int-or-string`, `additionalProperties: false` dropped (the
API server prunes unknown fields instead), and nested objects defaulted to `{}` so that the
API server fills in their own defaults.
"""

from __future__ import annotations

import argparse
import typing
from pathlib import Path
from typing import Any

import yaml

from ragkube_operator.models import GROUP, RESOURCES, VERSION, Resource, SpecModel

#: Keys of pydantic's JSON schema that have no place in a CRD schema.
_DROPPED_KEYS = frozenset({"title", "$defs"})


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, defs)
    return node


def _structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Convert one pydantic JSON-schema node (and its children) to a structural schema."""
    node = _resolve(node, defs)
    if "anyOf" in node:
        options = [_resolve(option, defs) for option in node["anyOf"]]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if node.get("x-kubernetes-int-or-string"):
            return {k: v for k, v in rest.items() if k not in _DROPPED_KEYS}
        non_null = [option for option in options if option.get("type") != "null"]
        if len(non_null) != 1:
            raise ValueError(f"cannot express a union in a structural schema: {node}")
        if rest.get("default", "absent") is None:
            del rest["default"]
        return _structural({**non_null[0], **rest}, defs)

    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS:
            continue
        if key == "properties":
            out["properties"] = {name: _structural(child, defs) for name, child in value.items()}
        elif key == "items":
            out["items"] = _structural(value, defs)
        elif key == "additionalProperties":
            if isinstance(value, dict):
                out["additionalProperties"] = _structural(value, defs)
        else:
            out[key] = value
    return out


def _nested_model(annotation: Any) -> type[SpecModel] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, SpecModel):
            return candidate
    return None


def _add_factory_defaults(schema: dict[str, Any], model: type[SpecModel]) -> None:
    """Give fields built by a default factory their factory's value as the CRD default.

    Pydantic leaves such defaults out of its JSON schema; without them the API server would
    not fill in a missing `spec.api` at all, and `resources` would end up empty.
    """
    for name, field in model.model_fields.items():
        prop = schema["properties"][field.alias or name]
        nested = _nested_model(field.annotation)
        if nested is not None and "properties" in prop:
            _add_factory_defaults(prop, nested)
        if field.default_factory is None:
            continue
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, SpecModel):
            prop["default"] = value.model_dump(by_alias=True, exclude_none=True, mode="json")
        elif value:
            prop["default"] = value


def spec_schema(model: type[SpecModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of a spec model, as it appears in its CRD."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.get("$defs", {})
    schema = _structural(raw, defs)
    schema.pop("description", None)
    _add_factory_defaults(schema, model)
    return schema


def render_crd(resource: Resource) -> dict[str, Any]:
    """The CustomResourceDefinition of one resource kind, as a plain dict."""
    spec = spec_schema(resource.spec)
    spec["description"] = (resource.spec.__doc__ or "").strip()
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{resource.plural}.{GROUP}",
            "labels": {"app.kubernetes.io/part-of": "ragkube"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": resource.kind,
                "listKind": f"{resource.kind}List",
                "plural": resource.plural,
                "singular": resource.singular,
                "shortNames": list(resource.short_names),
                "categories": ["ragkube"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": list(resource.printer_columns),
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "required": ["spec"],
                            **(
                                {"x-kubernetes-validations": list(resource.root_validations)}
                                if resource.root_validations
                                else {}
                            ),
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec,
                                "status": {
                                    "type": "object",
                                    "properties": resource.status_properties,
                                },
                            },
                        }
                    },
                }
            ],
        },
    }


def crd_file_name(resource: Resource) -> str:
    """File name of a resource's CRD in `crds/` (the kubebuilder convention)."""
    return f"{GROUP}_{resource.plural}.yaml"


class _PlainDumper(yaml.SafeDumper):
    """Writes repeated values out in full: anchors and aliases confuse readers of CRDs."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(crd: dict[str, Any]) -> str:
    """YAML text of a CRD, stable from run to run."""
    header = "# Generated by `python -m ragkube_operator.crdgen --write`; do not edit.\n"
    return header + yaml.dump(crd, Dumper=_PlainDumper, sort_keys=False, width=100)


def main(argv: list[str] | None = None) -> None:
    """Print the CRDs, or write them into each directory given with --write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", nargs="+", type=Path, metavar="DIR", default=[])
    args = parser.parse_args(argv)
    if not args.write:
        print("---\n".join(dump(render_crd(resource)) for resource in RESOURCES), end="")
        return
    for directory in args.write:
        directory.mkdir(parents=True, exist_ok=True)
        for resource in RESOURCES:
            (directory / crd_file_name(resource)).write_text(dump(render_crd(resource)))


if __name__ == "__main__":
    main()
