"""The pinned ECS field set plus doorhunt's extensions, looked up by flat field name."""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Final, Literal

from doorhunt.ecs.extensions import EXTENSION_FIELDS, ExtensionField

ECS_VERSION: Final = "9.4.0"
DATA_FILE: Final = f"ecs-{ECS_VERSION}.json.gz"

FieldSource = Literal["ecs", "extension"]

# Types whose value is an object holding further fields rather than a single value.
CONTAINER_TYPES: Final = frozenset({"object", "nested", "flattened"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: ECS type and level, ECS's `normalize` and allowed values, and where it is from.

    `object_type` is the type of the free-form children of an `object` field such as `labels`.
    """

    name: str
    type: str
    level: str
    normalize: tuple[str, ...] = ()
    allowed_values: tuple[str, ...] = ()
    object_type: str | None = None
    source: FieldSource = "ecs"


class Schema(Mapping[str, FieldSpec]):
    """Every known field by flat name, with an index of the object paths between them."""

    __slots__ = ("_children", "_fields", "version")

    def __init__(self, version: str, fields: Iterable[FieldSpec]) -> None:
        self.version = version
        by_name = {spec.name: spec for spec in fields}
        children: dict[str, set[str]] = {}
        for name in by_name:
            parent = ""
            for segment in name.split("."):
                children.setdefault(parent, set()).add(segment)
                parent = f"{parent}.{segment}" if parent else segment
        self._fields: Mapping[str, FieldSpec] = MappingProxyType(by_name)
        self._children: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {parent: tuple(sorted(names)) for parent, names in children.items()}
        )

    def __getitem__(self, name: str) -> FieldSpec:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Schema(version={self.version!r}, fields={len(self._fields)})"

    def has_children(self, name: str) -> bool:
        """Whether any known field lies below `name` (an object path such as `process.parent`)."""
        return name in self._children

    def children(self, name: str) -> tuple[str, ...]:
        """The next name segments below `name`, sorted; `""` gives the top-level field sets."""
        return self._children.get(name, ())


class SchemaConflictError(ValueError):
    """An extension field clashes with an ECS field."""


def build_schema(
    version: str, ecs_fields: Iterable[FieldSpec], extensions: Iterable[ExtensionField]
) -> Schema:
    """ECS fields merged with extension fields, which may not redefine a field or sit below a
    field that holds a single value (Elasticsearch could never index them)."""
    by_name = {spec.name: spec for spec in ecs_fields}
    added = []
    for extension in extensions:
        if extension.name in by_name:
            raise SchemaConflictError(f"extension field {extension.name} is already defined")
        by_name[extension.name] = FieldSpec(
            name=extension.name, type=extension.type, level="custom", source="extension"
        )
        added.append(extension.name)
    for name in added:
        segments = name.split(".")
        for end in range(1, len(segments)):
            parent = by_name.get(".".join(segments[:end]))
            if parent is not None and parent.type not in CONTAINER_TYPES:
                raise SchemaConflictError(
                    f"extension field {name} is below {parent.name}, a {parent.type} field"
                )
    return Schema(version, by_name.values())


def parse_field_set(raw: bytes) -> tuple[str, list[FieldSpec]]:
    """The version and fields of a field-set file written by tools/gen_ecs_fields.py."""
    document = json.loads(gzip.decompress(raw))
    if not isinstance(document, dict) or not isinstance(document.get("fields"), dict):
        raise ValueError("expected an object with a 'fields' object")
    version = document.get("version")
    if not isinstance(version, str):
        raise ValueError(f"expected a string 'version', got {version!r}")
    specs = []
    for name, entry in document["fields"].items():
        if not isinstance(entry, dict):
            raise ValueError(f"{name}: expected an object, got {entry!r}")
        kind, level = entry.get("type"), entry.get("level")
        object_type = entry.get("object_type")
        if not (isinstance(kind, str) and isinstance(level, str)):
            raise ValueError(f"{name}: expected string 'type' and 'level', got {kind!r}, {level!r}")
        if object_type is not None and not isinstance(object_type, str):
            raise ValueError(f"{name}: expected a string 'object_type', got {object_type!r}")
        specs.append(
            FieldSpec(
                name=name,
                type=kind,
                level=level,
                normalize=_strings(entry.get("normalize", []), name, "normalize"),
                allowed_values=_strings(entry.get("allowed_values", []), name, "allowed_values"),
                object_type=object_type,
            )
        )
    return version, specs


def _strings(value: object, name: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name}: expected a list of strings for {key!r}, got {value!r}")
    return tuple(value)


@functools.cache
def load_schema() -> Schema:
    """The packaged ECS field set with doorhunt's extensions (read once per process)."""
    raw = resources.files("doorhunt.ecs").joinpath("data").joinpath(DATA_FILE).read_bytes()
    try:
        version, specs = parse_field_set(raw)
    except (OSError, EOFError, ValueError) as error:  # gzip and json errors are among these
        raise RuntimeError(f"packaged ECS field set {DATA_FILE} is corrupt: {error}") from error
    if version != ECS_VERSION:
        raise RuntimeError(f"packaged ECS field set is version {version}, expected {ECS_VERSION}")
    return build_schema(version, specs, EXTENSION_FIELDS)
