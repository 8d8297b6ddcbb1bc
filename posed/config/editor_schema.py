"""The JSON Schema of a whole config file, backend sections included, for editors and the docs.

PosedConfig leaves `backend` open (each plugin validates its own section); here every installed
backend's section is spelled out, chosen by `type`, so that an editor with the YAML language
server completes and checks `posed.yaml` as it is typed. `posed config schema` prints it; the
configuration reference in the docs is generated from it.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping

from pydantic import BaseModel, JsonValue
from pydantic_core import to_jsonable_python

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
    _factory_defaults(schema, PosedConfig)
    for model in backends.values():
        _factory_defaults(_object(defs.get(model.__name__)), model)
    return {"$schema": DIALECT, "$id": SCHEMA_ID, **schema}


def _factory_defaults(schema: dict[str, JsonValue], model: type[BaseModel]) -> None:
    """pydantic leaves out the defaults its `default_factory` fields make (an empty zone map, the
    built-in gestures); an editor and the reference should show them, so they are filled in here,
    in the models below too."""
    defs = _object(schema.get("$defs"))
    todo: list[tuple[dict[str, JsonValue], type[BaseModel]]] = [(schema, model)]
    seen: set[str] = set()
    while todo:
        node, cls = todo.pop()
        properties = _object(node.get("properties"))
        for name, field in cls.model_fields.items():
            entry = _object(properties.get(field.alias or name))
            if field.default_factory is not None and "default" not in entry and entry:
                value = field.get_default(call_default_factory=True, validated_data={})
                entry["default"] = to_jsonable_python(value)
            for inner in _models_in(field.annotation):
                if inner.__name__ not in seen and inner.__name__ in defs:
                    seen.add(inner.__name__)
                    todo.append((_object(defs[inner.__name__]), inner))


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds: the type itself, or inside a union, list or map."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _object(value: JsonValue | None) -> dict[str, JsonValue]:
    return value if isinstance(value, dict) else {}


def installed_schema() -> dict[str, JsonValue]:
    """The schema with every backend plugin installed here."""
    from posed.plugins import discover, load_backend  # deferred: plugin loading is not import-time work

    return config_schema({name: load_backend(name).config_model for name in discover()})
