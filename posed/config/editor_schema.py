"""The JSON Schema of a whole config file, backend sections included, for editors and the docs.

PosedConfig leaves `backend` open (each plugin validates its own section); here every installed
backend's section is spelled out, chosen by `type`, so that an editor with the YAML language
server completes and checks `posed.yaml` as it is typed. `posed config schema` prints it; the
configuration reference in the docs is generated from it.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import JsonValue

from posed.backend import BackendConfig
from posed.config.schema import PosedConfig

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:posed:config"


def config_schema(backends: Mapping[str, type[BackendConfig]]) -> dict[str, JsonValue]:
    """The config file's schema, with one `backend` variant per entry of `backends`."""
    schema: dict[str, JsonValue] = dict(PosedConfig.model_json_schema())
    defs = schema.get("$defs")
    assert isinstance(defs, dict)
    variants: list[JsonValue] = []
    for name in sorted(backends):
        model = backends[name]
        section: dict[str, JsonValue] = dict(model.model_json_schema())
        inner = section.pop("$defs", {})
        assert isinstance(inner, dict)
        for key, value in {**inner, model.__name__: section}.items():
            if key in defs and defs[key] != value:
                raise ValueError(f"backend {name!r}: its schema's {key!r} clashes with another definition")
            defs[key] = value
        variants.append({"$ref": f"#/$defs/{model.__name__}"})
    properties = schema.get("properties")
    assert isinstance(properties, dict)
    backend = properties.get("backend")
    assert isinstance(backend, dict)
    properties["backend"] = {
        "title": "Backend",
        "description": backend.get("description"),
        "type": "object",
        "required": ["type"],
        "oneOf": variants,
    }
    return {"$schema": DIALECT, "$id": SCHEMA_ID, **schema}


def installed_schema() -> dict[str, JsonValue]:
    """The schema with every backend plugin installed here."""
    from posed.plugins import discover, load_backend  # deferred: plugin loading is not import-time work

    return config_schema({name: load_backend(name).config_model for name in discover()})
