"""The pinned field set, the extension table, and the public API of doorhunt.ecs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import doorhunt.ecs
from doorhunt.ecs import ECS_VERSION, EXTENSION_FIELDS, ExtensionField, FieldSpec, load_schema
from doorhunt.ecs.schema import CONTAINER_TYPES, SchemaConflictError, build_schema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ecs.md"

# Types the validator checks; an extension with any other type would go unchecked.
CHECKED_TYPES = {
    "keyword",
    "constant_keyword",
    "wildcard",
    "text",
    "match_only_text",
    "long",
    "integer",
    "short",
    "byte",
    "unsigned_long",
    "float",
    "double",
    "half_float",
    "scaled_float",
    "boolean",
    "ip",
    "date",
    "geo_point",
    "object",
    "nested",
    "flattened",
}


def test_public_api_is_exactly_this() -> None:
    assert sorted(doorhunt.ecs.__all__) == [
        "ECS_VERSION",
        "EXTENSION_FIELDS",
        "EcsValidationError",
        "ExtensionField",
        "FieldSpec",
        "Problem",
        "Schema",
        "assert_valid",
        "entity_id",
        "flatten",
        "format_epoch",
        "format_timestamp",
        "get_field",
        "host_fields",
        "load_schema",
        "new_event",
        "set_field",
        "validate",
    ]
    for name in doorhunt.ecs.__all__:
        assert getattr(doorhunt.ecs, name) is not None


def test_schema_is_the_pinned_version_and_loaded_once() -> None:
    schema = load_schema()
    assert ECS_VERSION == "9.4.0"
    assert schema.version == ECS_VERSION
    assert load_schema() is schema
    # ECS 9.4.0's ecs_flat.yml has 2605 fields; the extensions come on top.
    assert len(schema) == 2605 + len(EXTENSION_FIELDS)


def test_core_fields_have_their_ecs_types() -> None:
    schema = load_schema()
    assert schema["@timestamp"] == FieldSpec("@timestamp", "date", "core")
    assert schema["process.pid"].type == "long"
    assert schema["process.args"].normalize == ("array",)
    assert schema["source.ip"].type == "ip"
    assert schema["labels"].type == "object"
    assert schema["labels"].object_type == "keyword"
    assert schema["process.elf.sections"].type == "nested"
    assert schema["process.elf.imports"].type == "flattened"
    assert schema.get("process.pidd") is None
    assert "process.parent.entity_id" in schema


def test_categorisation_fields_carry_their_allowed_values() -> None:
    schema = load_schema()
    assert schema["event.kind"].allowed_values[:3] == ("alert", "asset", "enrichment")
    assert "network" in schema["event.category"].allowed_values
    assert "start" in schema["event.type"].allowed_values
    assert schema["event.outcome"].allowed_values == ("failure", "success", "unknown")
    assert schema["event.action"].allowed_values == ()


def test_object_paths_are_indexed() -> None:
    schema = load_schema()
    assert schema.has_children("process.parent")
    assert "pid" in schema.children("process.parent")
    assert "Ext" in schema.children("process")
    assert {"@timestamp", "event", "host", "doorhunt"} <= set(schema.children(""))
    assert not schema.has_children("process.pid")


def test_every_extension_is_merged_as_an_extension() -> None:
    schema = load_schema()
    for extension in EXTENSION_FIELDS:
        spec = schema[extension.name]
        assert (spec.type, spec.level, spec.source) == (extension.type, "custom", "extension")
    assert schema["process.pid"].source == "ecs"


def test_extension_table_is_well_formed() -> None:
    names = [extension.name for extension in EXTENSION_FIELDS]
    assert len(names) == len(set(names))
    for extension in EXTENSION_FIELDS:
        assert extension.type in CHECKED_TYPES, extension
        assert extension.description.strip() and "\n" not in extension.description
        # Defend's names are its `Ext` fields; everything else is doorhunt's own namespace.
        if extension.origin == "defend":
            assert ".Ext." in extension.name, extension
        else:
            assert extension.name.startswith("doorhunt."), extension


def test_extensions_include_what_the_bpf_toolkit_and_sweep_write() -> None:
    types = {extension.name: extension.type for extension in EXTENSION_FIELDS}
    assert types["process.Ext.ancestry"] == "keyword"
    assert types["doorhunt.bpf.bytecode"] == "keyword"
    assert types["doorhunt.bpf.magic"] == "flattened"
    assert types["doorhunt.finding.evidence"] == "flattened"
    assert types["doorhunt.socket.netns"] == "long"
    assert types["doorhunt.visibility.complete"] == "boolean"


def test_an_extension_cannot_redefine_an_ecs_field() -> None:
    ecs = [FieldSpec("process.pid", "long", "core")]
    clash = ExtensionField("process.pid", "keyword", "Clash.", "doorhunt")
    with pytest.raises(SchemaConflictError, match=r"process\.pid is already defined"):
        build_schema("9.4.0", ecs, [clash])


def test_an_extension_cannot_sit_below_a_single_value_field() -> None:
    ecs = [FieldSpec("process.pid", "long", "core")]
    below = ExtensionField("process.pid.extra", "keyword", "Below a leaf.", "doorhunt")
    with pytest.raises(SchemaConflictError, match=r"below process\.pid, a long field"):
        build_schema("9.4.0", ecs, [below])
    nested_in_extension = [
        ExtensionField("doorhunt.score", "long", "A leaf.", "doorhunt"),
        ExtensionField("doorhunt.score.detail", "keyword", "Below it.", "doorhunt"),
    ]
    with pytest.raises(SchemaConflictError, match=r"below doorhunt\.score"):
        build_schema("9.4.0", [], nested_in_extension)


def test_extensions_may_sit_below_container_fields() -> None:
    ecs = [FieldSpec("process.io", "object", "extended")]
    schema = build_schema("9.4.0", ecs, [ExtensionField("process.io.x", "long", "X.", "doorhunt")])
    assert schema["process.io.x"].source == "extension"
    assert "object" in CONTAINER_TYPES


def test_docs_list_every_extension_field_with_its_type() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert f"ECS {ECS_VERSION}" in text
    for extension in EXTENSION_FIELDS:
        row = re.search(rf"^\|\s*`{re.escape(extension.name)}`\s*\|(.*)$", text, re.MULTILINE)
        assert row is not None, f"docs/ecs.md has no table row for {extension.name}"
        assert f"`{extension.type}`" in row.group(1), f"{extension.name}: type not in its row"
