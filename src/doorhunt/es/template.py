"""The data streams doorhunt writes to and the index template that maps them.

Documents go to `logs-doorhunt.events-NAMESPACE` (everything but alerts) and
`logs-doorhunt.alerts-NAMESPACE` (`event.kind` alert or signal), following Elastic's data
stream naming scheme `type-dataset-namespace`. The template gives every field of the field
sets doorhunt writes its ECS type, generated from the pinned ECS field set and the extension
table, so the mapping never drifts from what the validator accepts (docs/elasticsearch.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Final

from doorhunt import __version__
from doorhunt.ecs import ECS_VERSION, load_schema

TEMPLATE_NAME: Final = "doorhunt"
EVENTS_DATASET: Final = "doorhunt.events"
ALERTS_DATASET: Final = "doorhunt.alerts"
INDEX_PATTERNS: Final = ("logs-doorhunt.events-*", "logs-doorhunt.alerts-*")
SEARCH_PATTERN: Final = "logs-doorhunt.*-*"
# Above the built-in `logs` template (priority 100), which also matches logs-*-*.
PRIORITY: Final = 200

# The field sets doorhunt's documents use; the mapping covers each of their ECS fields.
FIELD_SETS: Final = (
    "@timestamp",
    "agent",
    "data_stream",
    "destination",
    "doorhunt",
    "ecs",
    "error",
    "event",
    "file",
    "group",
    "host",
    "labels",
    "message",
    "network",
    "process",
    "related",
    "rule",
    "source",
    "tags",
    "threat",
    "user",
)

_SIMPLE_TYPES: Final = frozenset(
    {
        "long",
        "integer",
        "short",
        "byte",
        "double",
        "float",
        "half_float",
        "unsigned_long",
        "boolean",
        "ip",
        "date",
        "geo_point",
        "flattened",
        "wildcard",
        "constant_keyword",
        "match_only_text",
        "text",
    }
)


def stream_for(document: Mapping[str, object], namespace: str = "default") -> str:
    """The data stream a document belongs in."""
    event = document.get("event")
    kind = event.get("kind") if isinstance(event, Mapping) else document.get("event.kind")
    dataset = ALERTS_DATASET if kind in ("alert", "signal") else EVENTS_DATASET
    return f"logs-{dataset}-{namespace}"


def field_mapping(field_type: str) -> dict[str, object]:
    """Elasticsearch's mapping for one ECS field type."""
    if field_type == "keyword":
        return {"type": "keyword", "ignore_above": 1024}
    if field_type == "scaled_float":
        return {"type": "scaled_float", "scaling_factor": 1000}
    if field_type in _SIMPLE_TYPES:
        return {"type": field_type}
    if field_type in ("object", "nested"):
        return {"type": field_type}
    return {"type": "keyword", "ignore_above": 1024}


def mappings() -> dict[str, object]:
    """The `mappings` of the template: properties for every field of FIELD_SETS."""
    schema = load_schema()
    properties: dict[str, dict[str, object]] = {}
    dynamic_templates: list[dict[str, object]] = []
    for name in sorted(schema):
        if name.split(".", 1)[0] not in FIELD_SETS:
            continue
        spec = schema[name]
        node = _node(properties, name.split("."))
        children = node.get("properties")
        node.update(field_mapping(spec.type))
        if children is not None and spec.type in ("object", "nested"):
            node["properties"] = children
        elif children is not None:
            node.pop("properties", None)
        if spec.type == "object" and spec.object_type:
            # Free-form children (labels.*) take the declared type.
            dynamic_templates.append(
                {
                    name: {
                        "path_match": f"{name}.*",
                        "mapping": field_mapping(spec.object_type),
                    }
                }
            )
    return {
        "date_detection": False,
        "dynamic_templates": dynamic_templates,
        "properties": properties,
    }


def _node(properties: dict[str, dict[str, object]], segments: list[str]) -> dict[str, object]:
    current = properties
    for segment in segments[:-1]:
        parent = current.setdefault(segment, {})
        if parent.get("type") not in (None, "object", "nested"):
            parent.clear()  # a leaf that ECS also uses as a parent cannot be; keep the object
        nested = parent.setdefault("properties", {})
        assert isinstance(nested, dict)
        current = nested
    return current.setdefault(segments[-1], {})


def count_fields(node: Mapping[str, object]) -> int:
    total = 0
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        for child in properties.values():
            if isinstance(child, Mapping):
                total += 1 + count_fields(child)
    return total


def index_template() -> dict[str, object]:
    """The body of `PUT _index_template/doorhunt`."""
    template_mappings = mappings()
    fields = count_fields(template_mappings)
    body: dict[str, object] = {
        "index_patterns": list(INDEX_PATTERNS),
        "data_stream": {},
        "priority": PRIORITY,
        "template": {
            "settings": {
                # Room for the mapped fields and for the fields other producers add.
                "index.mapping.total_fields.limit": max(2000, fields + 1000),
                # A value of the wrong type is kept in _source, not the reason to refuse
                # the whole document (as Elastic's logs@settings does).
                "index.mapping.ignore_malformed": True,
            },
            "mappings": template_mappings,
        },
        "_meta": {
            "managed_by": "doorhunt",
            "doorhunt_version": __version__,
            "ecs_version": ECS_VERSION,
        },
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    meta = body["_meta"]
    assert isinstance(meta, dict)
    meta["fingerprint"] = digest
    return body


__all__ = [
    "ALERTS_DATASET",
    "EVENTS_DATASET",
    "FIELD_SETS",
    "INDEX_PATTERNS",
    "PRIORITY",
    "SEARCH_PATTERN",
    "TEMPLATE_NAME",
    "count_fields",
    "field_mapping",
    "index_template",
    "mappings",
    "stream_for",
]
