"""Generate the docs' reference pages from the code, so that they can never drift from it.

    .venv/bin/python tools/gen_reference.py           # write the pages
    .venv/bin/python tools/gen_reference.py --check   # exit 1 when a page is stale (the suite runs this)

- docs/reference/configuration.md: every config key with its type, default, range and
  description, from the pydantic models (posed.config.editor_schema, every backend included);
- docs/reference/posed.schema.json: that JSON Schema itself, for editors (`posed config schema`);
- docs/reference/mqtt-payloads.md: every MQTT payload's fields, from posed/schemas/*.json.

The renderers are written here rather than taken from a library: the pages are plain tables
in posed's own order (a key's dotted path as the user writes it in YAML), which generic
JSON-Schema-to-Markdown tools do not give.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from pydantic import JsonValue

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "docs" / "reference"
SCHEMAS = REPO / "posed" / "schemas"
REGENERATE = "`.venv/bin/python tools/gen_reference.py`"

Json = dict[str, JsonValue]

# The order of the top-level sections on the configuration page: the order of a config file.
TOP_ORDER = (
    "device_id",
    "model_dir",
    "log_level",
    "backend",
    "model",
    "cameras",
    "mqtt",
    "events",
    "preview",
    "daemon",
)


@dataclass
class Section:
    """One table of the configuration page: the keys under one YAML path."""

    path: str
    title: str
    description: str = ""
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)


def _obj(value: JsonValue) -> Json:
    return value if isinstance(value, dict) else {}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


class ConfigPage:
    """Walks the config schema into sections of leaf keys."""

    def __init__(self, schema: Json) -> None:
        self.schema = schema
        self.defs = _obj(schema.get("$defs"))
        self.sections: list[Section] = []

    def resolve(self, node: Json) -> Json:
        while "$ref" in node:
            node = _obj(self.defs.get(str(node["$ref"]).rsplit("/", 1)[-1]))
        return node

    def object_variants(self, node: Json) -> list[Json]:
        """The object schemas a node may be: itself, or the members of its anyOf/oneOf (null left out)."""
        node = self.resolve(node)
        if "properties" in node:
            return [node]
        members = node.get("anyOf") or node.get("oneOf")
        if isinstance(members, list):
            found = [self.resolve(_obj(m)) for m in members]
            objects = [m for m in found if "properties" in m]
            if objects and len(objects) == len([m for m in found if m.get("type") != "null"]):
                return objects
        return []

    def walk(self, node: Json, path: str, title: str) -> None:
        node = self.resolve(node)
        section = Section(path, title, _cell(node.get("description", "")))
        self.sections.append(section)
        required = set(cast(list[str], node.get("required", [])))
        properties = _obj(node.get("properties"))
        keys = [k for k in TOP_ORDER if k in properties] if not path else list(properties)
        keys += [k for k in properties if k not in keys]
        for key in keys:
            child = _obj(properties[key])
            dotted = f"{path}.{key}" if path else key
            variants = self.object_variants(child)
            mapping = self.mapping_of(child)
            if len(variants) == 1:
                self.walk(variants[0], dotted, f"`{dotted}`")
                section.rows.append(
                    self.row(key, child, key in required, f"see [`{dotted}`](#{_anchor(dotted)})")
                )
            elif len(variants) > 1:
                for variant in variants:
                    kind = _obj(_obj(variant.get("properties")).get("type")).get("const")
                    self.walk(variant, dotted, f"`{dotted}` with `type: {kind}`")
                section.rows.append(self.row(key, child, key in required, "one of the sections below"))
            elif mapping is not None:
                items, name = mapping
                entry = f"{dotted}.<{name}>"
                for item in items:
                    self.walk(item, entry, self._kind_title(item, entry) if len(items) > 1 else f"`{entry}`")
                section.rows.append(self.row(key, child, key in required, f"a map: {name} -> section below"))
            else:
                section.rows.append(self.row(key, child, key in required))

    def _kind_title(self, variant: Json, dotted: str) -> str:
        kind = _obj(_obj(variant.get("properties")).get("type")).get("const")
        return f"`{dotted}` with `type: {kind}`"

    def mapping_of(self, node: Json) -> tuple[list[Json], str] | None:
        """A map of names to sections (cameras, zones, custom exercises): the sections, and what a
        key names."""
        node = self.resolve(node)
        extra = node.get("additionalProperties")
        patterns = _obj(node.get("patternProperties"))
        if not isinstance(extra, dict) and len(patterns) == 1:
            extra = next(iter(patterns.values()))
        if node.get("type") != "object" or not isinstance(extra, dict):
            return None
        variants = self.object_variants(extra)
        if not variants:
            return None
        title = str(node.get("title", "")).lower()
        return variants, {"cameras": "camera", "zones": "zone", "models": "model"}.get(title, "name")

    def row(self, key: str, node: Json, required: bool, note: str = "") -> tuple[str, str, str, str, str]:
        default = "required" if required else _default(node)
        if not required and isinstance(node.get("default"), dict) and self.object_variants(node):
            default = "its keys' defaults"  # the whole section's default is the table below
        description = _cell(node.get("description", ""))
        if note:
            description = f"{description} ({note})" if description else note
        return (
            f"`{key}`",
            _cell(self.type_of(node)),
            default,
            _cell(_range(self.resolve(node))),
            description,
        )

    def type_of(self, node: Json) -> str:
        node = self.resolve(node)
        if "const" in node:
            return json.dumps(node["const"])
        if "enum" in node:
            return " | ".join(json.dumps(v) for v in cast(list[JsonValue], node["enum"]))
        members = node.get("anyOf") or node.get("oneOf")
        if isinstance(members, list):
            # null only means "unset", which the default column says
            kinds = [self.type_of(_obj(m)) for m in members if _obj(m).get("type") != "null"]
            return " or ".join(dict.fromkeys(kinds)) or "null"
        kind = node.get("type")
        if kind == "array":
            if "prefixItems" in node:
                items = cast(list[JsonValue], node["prefixItems"])
                return "[" + ", ".join(self.type_of(_obj(i)) for i in items) + "]"
            return f"list of {self.type_of(_obj(node.get('items')))}"
        if kind == "object":
            if "properties" in node:
                return "section"
            extra = node.get("additionalProperties")
            patterns = _obj(node.get("patternProperties"))
            if not isinstance(extra, dict) and len(patterns) == 1:
                extra = next(iter(patterns.values()))
            return f"map of {self.type_of(_obj(extra))}" if isinstance(extra, dict) else "map"
        if kind == "string" and node.get("format") == "path":
            return "path"
        if isinstance(kind, str):
            return {"string": "text", "integer": "integer", "number": "number", "boolean": "boolean"}.get(
                kind, kind
            )
        return "any"

    def markdown(self) -> str:
        out = [
            "# Configuration reference",
            "",
            f"<!-- Generated from posed's config models by {REGENERATE}; do not edit. -->",
            "",
            "Every key of the config file, generated from the schema posed validates it with (the same",
            "schema `posed config schema` prints for editors: see [Configuration](../configuration.md)).",
            "A key left out takes its default; *required* keys have none. Unknown keys are errors.",
            "",
        ]
        shown: dict[str, list[tuple[str, str, str, str, str]]] = {}
        for section in self.sections:
            if not section.rows or shown.get(section.path) == section.rows:
                continue  # e.g. `zones`, the same under every camera type: once is enough
            shown[section.path] = section.rows
            heading = section.title if section.path else "Top level"
            out += [f"## {heading}", ""]
            if section.description and section.path:
                out += [section.description, ""]
            out += ["| key | type | default | range | description |", "|---|---|---|---|---|"]
            out += ["| " + " | ".join(row) + " |" for row in section.rows]
            out.append("")
        return "\n".join(out)


def _anchor(dotted: str) -> str:
    """The anchor MkDocs gives the heading "`dotted`"."""
    return "".join(c for c in dotted.lower() if c.isalnum() or c in "-_").strip("-") or "section"


def _default(node: Json) -> str:
    if "default" not in node:
        return "—"
    value = node["default"]
    if value is None:
        return "unset"
    return f"`{_cell(json.dumps(value, ensure_ascii=False))}`"


def _range(node: Json) -> str:
    parts: list[str] = []
    members = node.get("anyOf")
    if isinstance(members, list):
        return "; ".join(r for r in (_range(_obj(m)) for m in members) if r)
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    if low is not None or high is not None:
        left = "(" if "exclusiveMinimum" in node else "["
        right = ")" if "exclusiveMaximum" in node else "]"
        parts.append(f"{left}{_num(low)}, {_num(high)}{right}")
    if "minLength" in node or "maxLength" in node:
        parts.append(f"{node.get('minLength', 0)}-{node.get('maxLength', '…')} characters")
    if "minItems" in node or "maxItems" in node:
        parts.append(f"{node.get('minItems', 0)}-{node.get('maxItems', '…')} items")
    if "minProperties" in node or "maxProperties" in node:
        parts.append(f"{node.get('minProperties', 0)}-{node.get('maxProperties', '…')} entries")
    if "pattern" in node:
        parts.append(f"pattern `{node['pattern']}`")
    return "; ".join(parts)


def _num(value: JsonValue) -> str:
    if value is None:
        return "…"
    return f"{value:g}" if isinstance(value, float) else str(value)


# -- MQTT payloads ----------------------------------------------------------------------------------


def payload_page(schemas: Mapping[str, Json]) -> str:
    out = [
        "# MQTT payload reference",
        "",
        f"<!-- Generated from posed/schemas/*.json by {REGENERATE}; do not edit. -->",
        "",
        "Every payload posed publishes, generated from the JSON Schemas shipped in `posed/schemas/`",
        "(they are in the installed package too, e.g. to validate messages in your own tests). Topics",
        "and retained flags are explained in [MQTT topics](../mqtt.md).",
        "",
    ]
    for name, schema in schemas.items():
        out += [f"## `{name}`", ""]
        if "title" in schema:
            out += [f"**{_cell(schema['title'])}.** {_cell(schema.get('description', ''))}", ""]
        defs = _obj(schema.get("$defs"))
        rows = list(_fields(schema, "", defs, required=True))
        if rows:
            out += ["| field | type | required | description |", "|---|---|---|---|"]
            out += ["| " + " | ".join(row) + " |" for row in rows]
            out.append("")
        for branch, branch_rows in _branches(schema, defs):
            out += [f"With {branch}:", "", "| field | type | required | description |", "|---|---|---|---|"]
            out += ["| " + " | ".join(row) + " |" for row in branch_rows]
            out.append("")
        out += [f"Schema: `posed/schemas/{name}` (`$id` `{schema.get('$id', '')}`).", ""]
    return "\n".join(out)


def _fields(node: Json, path: str, defs: Json, *, required: bool) -> Iterator[tuple[str, str, str, str]]:
    node = _deref(node, defs)
    properties = _obj(node.get("properties"))
    if not properties:
        if not path:
            yield ("(the payload)", _cell(_payload_type(node, defs)), "yes", "the whole message (see above)")
        return
    needed = set(cast(list[str], node.get("required", [])))
    for key, child in properties.items():
        child_node = _deref(_obj(child), defs)
        dotted = f"{path}.{key}" if path else key
        yield (
            f"`{dotted}`",
            _cell(_payload_type(child_node, defs)),
            "yes" if key in needed and required else "no",
            _cell(child_node.get("description", "")),
        )
        yield from _fields(child_node, dotted, defs, required=key in needed)
        items = child_node.get("items")
        if child_node.get("type") == "array" and isinstance(items, dict):
            yield from _fields(_deref(items, defs), f"{dotted}[]", defs, required=key in needed)


def _branches(schema: Json, defs: Json) -> Iterator[tuple[str, list[tuple[str, str, str, str]]]]:
    """The `allOf: [{if: ..., then: ...}]` branches, e.g. the fields of each event type."""
    for part in cast(list[JsonValue], schema.get("allOf", [])):
        condition = _obj(_obj(part).get("if"))
        then = _obj(_obj(part).get("then"))
        tests = [
            f"`{k}` = {json.dumps(_obj(v).get('const'))}"
            for k, v in _obj(condition.get("properties")).items()
        ]
        rows = list(_fields(then, "", defs, required=True))
        if tests and rows:
            yield " and ".join(tests), rows


def _deref(node: Json, defs: Json) -> Json:
    while "$ref" in node:
        node = _obj(defs.get(str(node["$ref"]).rsplit("/", 1)[-1]))
    return node


def _payload_type(node: Json, defs: Json) -> str:
    if "const" in node:
        return json.dumps(node["const"])
    if "enum" in node:
        return " | ".join(json.dumps(v) for v in cast(list[JsonValue], node["enum"]))
    members = node.get("anyOf") or node.get("oneOf")
    if isinstance(members, list):
        return " or ".join(dict.fromkeys(_payload_type(_deref(_obj(m), defs), defs) for m in members))
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if kind == "array":
        items = node.get("items")
        inner = _payload_type(_deref(_obj(items), defs), defs) if isinstance(items, dict) else "any"
        return f"array of {inner}"
    return str(kind) if kind else "any"


# -- writing and checking ---------------------------------------------------------------------------


def generated() -> dict[Path, str]:
    """Every generated file and its content."""
    from posed.config.editor_schema import installed_schema

    schema = installed_schema()
    page = ConfigPage(schema)
    page.walk(schema, "", "Top level")
    payloads = {
        p.name: cast(Json, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(SCHEMAS.glob("*.json"))
    }
    return {
        REFERENCE / "configuration.md": page.markdown(),
        REFERENCE / "posed.schema.json": json.dumps(schema, indent=2, ensure_ascii=False) + "\n",
        REFERENCE / "mqtt-payloads.md": payload_page(payloads),
    }


def stale() -> list[Path]:
    """The generated files whose content on disk differs from what the code gives now."""
    return [
        path
        for path, text in generated().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="Change nothing; exit 1 if a page is stale.")
    args = parser.parse_args(argv)
    if args.check:
        old = stale()
        for path in old:
            print(f"stale: {_shown(path)} (regenerate: {REGENERATE})", file=sys.stderr)
        return 1 if old else 0
    REFERENCE.mkdir(parents=True, exist_ok=True)
    for path, text in generated().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {_shown(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
